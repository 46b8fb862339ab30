"""Who is acting, from where and why: one context for web, admin, shell and tasks.

The request middleware opens a context per request; services open one around each unit
of work with ``acting_user`` and ``reason`` so writes from management commands and
Celery tasks are attributed exactly like writes from the web.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

_current: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "audit_context", default=None
)


@dataclass(frozen=True)
class AuditContext:
    user: Any = None
    reason: str = ""
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""
    origin: str = ""  # "web", "api", "admin", "shell", "task"


def current() -> AuditContext | None:
    return _current.get()


@contextmanager
def audit_context(**changes: Any) -> Iterator[AuditContext]:
    """Open (or refine) the audit context; values not given are inherited."""
    base = _current.get() or AuditContext()
    changes = {k: v for k, v in changes.items() if v is not None}
    ctx = replace(base, **changes)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
