"""Helpers shared by the clinical services."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from patients.models import Patient, Visit
from patients.services.visits import check_collecting, patient_local_today
from sites.roles import Perm
from sites.scoping import has_perm


def require_entry(user: Any, patient: Patient) -> None:
    if not has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not enter clinical data at this site."))


def check_date(
    patient: Patient, value: datetime.date | None, field: str, errors: dict[str, Any]
) -> None:
    """Required, not in the future (site calendar), not after consent withdrawal."""
    if value is None:
        errors[field] = _("Enter a date.")
        return
    if value > patient_local_today(patient):
        errors[field] = _("The date cannot be in the future.")
        return
    try:
        check_collecting(patient, value, field)
    except ValidationError as exc:
        errors.update(exc.message_dict)


def check_visit(patient: Patient, visit: Visit | None, errors: dict[str, Any]) -> None:
    if visit is not None and visit.patient_id != patient.pk:
        errors["visit"] = _("Choose a visit of this patient.")


def stamp(record: Any, user: Any) -> None:
    record.entered_by = user
    record.entered_by_username = user.get_username() if user is not None else ""
