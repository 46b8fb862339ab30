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
    origin: str = ""  # "web", "api", "admin", "shell", "task", "command"
    # Who acts when no user does: "task:<celery task name>", "command:<command name>".
    actor: str = ""


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


def history_username(user: Any, ctx: AuditContext | None) -> str:
    """The username a history row records: the acting user's, else the context's user
    (whose username is empty when anonymous: a public form), else the task or command
    acting (``ctx.actor``), else "system"."""
    if user is not None:
        return str(user.get_username())
    if ctx is not None and ctx.user is not None and hasattr(ctx.user, "get_username"):
        return str(ctx.user.get_username())
    if ctx is not None and ctx.actor:
        return ctx.actor[:150]
    return "system"


def history_extras(ctx: AuditContext | None) -> dict[str, Any]:
    """Where a history row's change came from (IP, user agent, request id, origin)."""
    if ctx is None:
        return {"history_origin": "shell"}
    return {
        "history_ip": ctx.ip,
        "history_user_agent": (ctx.user_agent or "")[:300],
        "history_request_id": ctx.request_id,
        "history_origin": ctx.origin or "shell",
    }


# --- Celery tasks and management commands -------------------------------------------------

_task_tokens: dict[str, contextvars.Token] = {}


def _task_prerun(
    sender: Any = None, task_id: str | None = None, task: Any = None, **_: Any
) -> None:
    """Every Celery task runs inside an audit context naming it (``task:<name>``)."""
    name = getattr(task, "name", None) or getattr(sender, "name", "") or "unknown"
    base = _current.get() or AuditContext()
    ctx = replace(
        base,
        origin="task",
        actor=f"task:{name}",
        reason=base.reason or f"Background task {name}",
        request_id=(task_id or "")[:64],
    )
    _task_tokens[task_id or ""] = _current.set(ctx)


def _task_postrun(sender: Any = None, task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # reset from another context (eager chains): just clear
            _current.set(None)


def connect_task_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_prerun, weak=False, dispatch_uid="audit_task_prerun")
    task_postrun.connect(_task_postrun, weak=False, dispatch_uid="audit_task_postrun")


@contextmanager
def command_context(argv: list[str]) -> Iterator[AuditContext]:
    """``manage.py <command>``: writes are attributed to ``command:<command>``."""
    name = argv[1] if len(argv) > 1 else "help"
    with audit_context(
        origin="command", actor=f"command:{name}", reason=f"Management command {name}"
    ) as ctx:
        yield ctx
