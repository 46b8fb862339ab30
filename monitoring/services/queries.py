"""Data queries: raise, answer (with or without a correction), close, cancel, re-open.

Monitors and data managers raise, close, cancel and re-open (``Perm.RAISE_QUERY``); the
site (coordinator, site investigator) answers (``Perm.ANSWER_QUERY``). A correction is
made through the record's own service (``Target.corrector``) with the query as its
reason for change. While the data is frozen queries still run; under a lock nothing
changes, queries included.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.transitions import check_transition
from audit.users import ActingUser
from sites.roles import Perm

from ..models import DataQuery, QueryMessage
from .common import (
    check_field,
    context_for,
    field_label,
    refuse_if_locked,
    require_perm,
    require_text,
    username,
)


def query_reason(query: DataQuery) -> str:
    """The reason for change of a correction made in answer to ``query``."""
    return _("Correction in answer to query Q-%(id)d: %(text)s") % {
        "id": query.pk,
        "text": query.text[:300],
    }


def _message(query: DataQuery, action: str, text: str, user: Any) -> QueryMessage:
    return QueryMessage.objects.create(
        query=query,
        action=action,
        text=text,
        author=user,
        author_username=username(user) or _("edit check"),
    )


def _lock_row(query: DataQuery) -> DataQuery:
    return DataQuery.objects.select_for_update().select_related("trial_site").get(pk=query.pk)


def _move(query: DataQuery, target: str) -> None:
    check_transition(
        choices=DataQuery.Status,
        table=DataQuery.TRANSITIONS,
        current=query.status,
        target=target,
    )
    query.status = target


def query_raise(
    *, record: Any, field_name: str = "", text: str, acting_user: ActingUser, reason: str = ""
) -> DataQuery:
    """Raise a query on ``record`` (or one of its fields)."""
    ctx = context_for(record)
    require_perm(acting_user, Perm.RAISE_QUERY, ctx.trial_site)
    errors: dict[str, Any] = {}
    try:
        field_name = check_field(record, field_name)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        text = require_text(text)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason or _("Query raised")):
        refuse_if_locked(ctx.patient.pk, freeze_counts=False)
        query = DataQuery.objects.create(
            **ctx.targeted(),
            field_name=field_name,
            text=text,
            raised_by=acting_user,
            raised_by_username=username(acting_user),
        )
        _message(query, QueryMessage.Action.RAISE, text, acting_user)
    return query


def query_answer(
    *,
    query: DataQuery,
    text: str,
    acting_user: ActingUser,
    corrected_value: Any = None,
    correct: bool = False,
) -> DataQuery:
    """The site's answer. With ``correct=True`` the queried field is set to
    ``corrected_value`` through the record's own service, whose reason for change is the
    query (so the record's history points at it)."""
    require_perm(acting_user, Perm.ANSWER_QUERY, query.trial_site)
    text = require_text(text)
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Query answered")):
        current = _lock_row(query)
        # frozen: answers only; a correction changes data, so a freeze refuses it too
        refuse_if_locked(current.patient_id, freeze_counts=correct)
        if current.status != DataQuery.Status.OPEN:
            raise ValidationError(
                {
                    "text": _("Only an open query can be answered (this one is %(status)s).")
                    % {"status": current.get_status_display().lower()}
                }
            )
        action = QueryMessage.Action.ANSWER
        if correct:
            ctx = context_for(current.record)
            record = ctx.record
            if not current.field_name or ctx.target.corrector is None:
                raise ValidationError(
                    {
                        "corrected_value": _(
                            "Correct this record on its own form, citing Q-%(id)d."
                        )
                        % {"id": current.pk}
                    }
                )
            old = getattr(record, current.field_name)
            ctx.target.corrector(
                record,
                current.field_name,
                corrected_value,
                acting_user,
                query_reason(current),
            )
            record.refresh_from_db()
            new = getattr(record, current.field_name)
            label = field_label(type(record), current.field_name)
            text = f"{text}\n" + _("Corrected %(field)s: %(old)s → %(new)s") % {
                "field": label,
                "old": "—" if old in (None, "") else old,
                "new": "—" if new in (None, "") else new,
            }
            action = QueryMessage.Action.CORRECT
        _move(current, DataQuery.Status.ANSWERED)
        current.answered_at = timezone.now()
        set_change_reason(current, text[:100])
        current.save()
        _message(current, action, text, acting_user)
    return current


def _monitor_step(
    *,
    query: DataQuery,
    text: str,
    acting_user: ActingUser,
    target: str,
    action: str,
    need_text: bool,
) -> DataQuery:
    require_perm(acting_user, Perm.RAISE_QUERY, query.trial_site)
    text = require_text(text) if need_text else (text or "").strip()[:4000]
    with transaction.atomic(), audit_context(user=acting_user, reason=text or action):
        current = _lock_row(query)
        refuse_if_locked(current.patient_id, freeze_counts=False)
        _move(current, target)
        current.closed_at = timezone.now() if target != DataQuery.Status.OPEN else None
        if target == DataQuery.Status.OPEN:
            current.answered_at = None
        current.save()
        _message(current, action, text, acting_user)
    return current


def query_close(*, query: DataQuery, text: str = "", acting_user: ActingUser) -> DataQuery:
    return _monitor_step(
        query=query,
        text=text,
        acting_user=acting_user,
        target=DataQuery.Status.CLOSED,
        action=QueryMessage.Action.CLOSE,
        need_text=False,
    )


def query_cancel(*, query: DataQuery, text: str, acting_user: ActingUser) -> DataQuery:
    return _monitor_step(
        query=query,
        text=text,
        acting_user=acting_user,
        target=DataQuery.Status.CANCELLED,
        action=QueryMessage.Action.CANCEL,
        need_text=True,
    )


def query_reopen(*, query: DataQuery, text: str, acting_user: ActingUser) -> DataQuery:
    return _monitor_step(
        query=query,
        text=text,
        acting_user=acting_user,
        target=DataQuery.Status.OPEN,
        action=QueryMessage.Action.REOPEN,
        need_text=True,
    )
