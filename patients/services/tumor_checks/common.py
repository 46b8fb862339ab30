"""Shared pieces of the tumour checks: limits, the error dict, reading plain values,
the scan-date, visit and method checks every assessment goes through."""

from __future__ import annotations

import datetime
import math
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from domain import recist

from ...models import Enrollment, Patient, TumorAssessment, Visit
from ..consent import withdrawal_date
from ..visits import patient_local_today

#: RECIST 1.1: the baseline scan is done within 4 weeks before treatment starts.
BASELINE_WINDOW_DAYS = 28
MAX_MM = recist.MAX_PLAUSIBLE_MM
CODE_MAX = 10
ORGAN_MAX = 60
LOCATION_MAX = 200
NOTES_MAX = 4000
SOURCE_MAX = 200

Errors = dict[str, list[str]]


def add_error(errors: Errors, key: str, message: str) -> None:
    bucket = errors.setdefault(key, [])
    if message not in bucket:
        bucket.append(message)


def fmt_date(value: datetime.date | None) -> str:
    return value.isoformat() if value else "—"


def fmt_mm(value: float) -> str:
    return f"{value:g}"


def assessment_day0(enrollment: Enrollment) -> datetime.date:
    """Day 0 of the response evaluation: first treatment, else enrollment (as in
    ``domain.analysis``)."""
    return enrollment.first_treatment_date or enrollment.enrolled_on


def patient_baseline(patient: Patient) -> TumorAssessment | None:
    return TumorAssessment.objects.filter(patient=patient, is_baseline=True).first()


def clean_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def parse_number(value: Any) -> tuple[float | None, str | None]:
    """(value, problem): ``None, None`` for blank; a problem for anything unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool):
        return None, _("Enter the diameter in mm as a number.")
    try:
        number = (
            float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
        )
    except (TypeError, ValueError):
        return None, _("Enter the diameter in mm as a number.")
    if not math.isfinite(number):
        return None, _("Enter the diameter in mm as a number.")
    return number, None


def diameter_problem(value: float, *, allow_zero: bool) -> str | None:
    if value < 0:
        return _("A diameter cannot be negative (%(value)s mm).") % {"value": fmt_mm(value)}
    if value == 0 and not allow_zero:
        return _("A target lesion's diameter must be greater than 0 mm.")
    if value > MAX_MM:
        return _(
            "%(value)s mm is not a plausible diameter (more than %(max)s mm): check the unit "
            "(millimetres, not centimetres) and the digits."
        ) % {"value": fmt_mm(value), "max": fmt_mm(MAX_MM)}
    return None


def check_choice(errors: Errors, key: str, value: str, choices: Any, label: str) -> None:
    if value not in choices.values:
        add_error(errors, key, _("Choose the %(what)s.") % {"what": label})


def check_scan_date(
    errors: Errors, patient: Patient, when: datetime.date | None
) -> datetime.date | None:
    """Date given, not in the future (site calendar), not after death and not on or
    after the withdrawal of consent (collection ends on that date)."""
    if when is None:
        add_error(errors, "assessment_date", _("Enter the scan date."))
        return None
    if not isinstance(when, datetime.date) or isinstance(when, datetime.datetime):
        add_error(errors, "assessment_date", _("Enter a valid scan date."))
        return None
    today = patient_local_today(patient)
    if when > today:
        add_error(
            errors,
            "assessment_date",
            _("The scan date cannot be in the future (today at this site is %(today)s).")
            % {"today": fmt_date(today)},
        )
    if patient.death_date and when > patient.death_date:
        add_error(
            errors,
            "assessment_date",
            _("The scan date is after the patient's death (%(date)s).")
            % {"date": fmt_date(patient.death_date)},
        )
    withdrawn = withdrawal_date(patient)
    if withdrawn is not None and when >= withdrawn:
        add_error(
            errors,
            "assessment_date",
            _("The patient withdrew consent on %(date)s: no data can be collected from that date.")
            % {"date": fmt_date(withdrawn)},
        )
    return when


def check_visit(errors: Errors, patient: Patient, visit: Visit | None) -> None:
    if visit is None:
        return
    if visit.patient_id != patient.pk:
        add_error(errors, "visit", _("This visit belongs to another patient."))
    elif visit.status == Visit.Status.CANCELLED:
        add_error(errors, "visit", _("This visit was cancelled; choose another visit or none."))


def check_common(
    errors: Errors, *, method: str, notes: str, patient: Patient, visit: Visit | None
) -> None:
    check_choice(errors, "method", method, TumorAssessment.Method, _("imaging method (CT or MRI)"))
    if len(notes) > NOTES_MAX:
        add_error(errors, "notes", _("Keep the notes under %(n)s characters.") % {"n": NOTES_MAX})
    check_visit(errors, patient, visit)


def raise_if_any(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)
