"""Creating many tracked rows at once, with the same audit trail as one ``save()`` each.

``simple_history.utils.bulk_create_with_history`` writes one INSERT for the rows and one
for their history, but does not send ``pre_create_historical_record``, so the extras
that :func:`audit.signals.fill_audit_extras` adds to each history row (username, IP,
user agent, request id, origin, the context's reason) would be missing. This helper
passes them explicitly, from the same audit context.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import models
from simple_history.utils import bulk_create_with_history

from .context import current, history_extras, history_username

M = TypeVar("M", bound=models.Model)


def audit_attrs(acting_user: Any = None) -> tuple[Any, str, dict[str, Any]]:
    """(history user, change reason, extra history fields) for writes in the current
    audit context, exactly as ``fill_audit_extras`` fills them for a single save."""
    ctx = current()
    user = acting_user
    if user is None and ctx is not None and getattr(ctx.user, "is_authenticated", False):
        user = ctx.user
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    extras = {"history_username": history_username(user, ctx), **history_extras(ctx)}
    return user, (ctx.reason or "") if ctx is not None else "", extras


def bulk_create_audited(
    objs: Sequence[M], *, acting_user: Any = None, batch_size: int | None = None
) -> list[M]:
    """Insert ``objs`` (all of one tracked model) and their "+" history rows in two
    statements, attributed like ``save()`` in the current audit context."""
    objs = list(objs)
    if not objs:
        return []
    user, reason, extras = audit_attrs(acting_user)
    return bulk_create_with_history(
        objs,
        type(objs[0]),
        batch_size=batch_size,
        default_user=user,
        default_change_reason=reason,
        custom_historical_attrs=extras,
    )
