"""Answering a required visit form without records ("nothing to report" / "not done")."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.users import ActingUser
from patients.models import Visit
from trials.models import VisitForm

from ..models import VisitFormNote
from .common import require_entry, stamp


def visit_form_note(
    *, visit: Visit, form: str, status: str, reason: str = "", acting_user: ActingUser
) -> VisitFormNote:
    require_entry(acting_user, visit.patient)
    errors: dict[str, Any] = {}
    if form not in VisitForm.values or form == VisitForm.AE_REVIEW:
        errors["form"] = _("Choose a form.")
    if status not in VisitFormNote.Status.values:
        errors["status"] = _("Choose nothing to report or not done.")
    reason = (reason or "").strip()
    if status == VisitFormNote.Status.NOT_DONE and not reason:
        errors["reason"] = _("Say why the form was not done.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason or _("Form answered")):
        note = VisitFormNote.objects.filter(visit=visit, form=form).first() or VisitFormNote(
            visit=visit, form=form
        )
        note.status = status
        note.reason = reason
        stamp(note, acting_user)
        if note.pk:
            set_change_reason(note, reason or _("Form answered"))
        note.save()
    return note
