"""Treatment exposure: administrations, dosing periods, interruptions, reductions and
discontinuation, each with its reason and the adverse event it answers to.

The expected dose of a weight-banded drug (lenvatinib) comes from the last weight in the
vital signs on or before the start date; a dose that differs without a recorded dose
reduction is flagged (``dose_mismatch``).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.users import ActingUser
from domain.exposure import Regimen, expected_dose
from patients.models import AdverseEvent, Patient, Visit
from patients.services.common import require_reason
from patients.services.visits import patient_enrollment
from trials.models import Intervention

from ..models import Exposure, PlannedRegimen
from .common import check_date, check_visit, require_entry, stamp
from .vitals import latest_weight

CHANGE_NEEDS_REASON = {
    Exposure.Kind.INTERRUPTION,
    Exposure.Kind.DISCONTINUATION,
}


def regimen_of(intervention: Intervention) -> Regimen | None:
    try:
        planned = intervention.planned_regimen
    except PlannedRegimen.DoesNotExist:
        return None
    return Regimen(
        dose_mg=planned.dose_mg,
        interval_days=planned.interval_days,
        weight_threshold_kg=planned.weight_threshold_kg,
        dose_below_threshold_mg=planned.dose_below_threshold_mg,
    )


def _validate(patient: Patient, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    check_date(patient, data.get("start_date"), "start_date", errors)
    check_visit(patient, data.get("visit"), errors)
    kind = data.get("kind")
    if kind not in Exposure.Kind.values:
        errors["kind"] = _("Choose the kind of record.")
    intervention = data.get("intervention")
    enrollment = patient_enrollment(patient)
    if intervention is None:
        errors["intervention"] = _("Choose the drug.")
    elif enrollment is None or not intervention.arms.filter(pk=enrollment.arm_id).exists():
        errors["intervention"] = _("Choose a drug of the patient's arm.")
    end = data.get("end_date")
    if end is not None and data.get("start_date") and end < data["start_date"]:
        errors["end_date"] = _("The end date cannot be before the start date.")
    dose = data.get("dose_mg")
    if kind in (Exposure.Kind.ADMINISTRATION, Exposure.Kind.DISPENSING):
        if dose is None or dose <= 0:
            errors["dose_mg"] = _("Enter the dose given.")
    elif kind in CHANGE_NEEDS_REASON and dose:
        errors["dose_mg"] = _("An interruption or discontinuation has no dose.")
    if data.get("dose_change") and kind != Exposure.Kind.ADMINISTRATION:
        errors["dose_change"] = _("A dose change is recorded on the new dosing period.")
    if (kind in CHANGE_NEEDS_REASON or data.get("dose_change")) and not data.get("reason"):
        errors["reason"] = _("Give the reason for the change.")
    if data.get("reason") == Exposure.Reason.ADVERSE_EVENT and data.get("adverse_event") is None:
        errors["adverse_event"] = _("Choose the adverse event that led to the change.")
    event = data.get("adverse_event")
    if event is not None and event.patient_id != patient.pk:
        errors["adverse_event"] = _("Choose an adverse event of this patient.")
    return errors


def exposure_record(
    *,
    patient: Patient,
    acting_user: ActingUser,
    intervention: Intervention,
    kind: str,
    start_date: datetime.date,
    end_date: datetime.date | None = None,
    dose_mg: Decimal | None = None,
    route: str = "",
    lot_number: str = "",
    dose_change: str = "",
    reason: str = "",
    reason_detail: str = "",
    adverse_event: AdverseEvent | None = None,
    visit: Visit | None = None,
) -> Exposure:
    """Record a dosing period / administration, a dispensing, an interruption or the
    discontinuation of one drug of the patient's arm."""
    require_entry(acting_user, patient)
    data = {
        "intervention": intervention,
        "kind": kind,
        "start_date": start_date,
        "end_date": end_date,
        "dose_mg": dose_mg,
        "route": route,
        "lot_number": (lot_number or "").strip(),
        "dose_change": dose_change or "",
        "reason": reason or "",
        "reason_detail": (reason_detail or "").strip(),
        "adverse_event": adverse_event,
        "visit": visit,
    }
    errors = _validate(patient, data)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Treatment exposure")):
        record = Exposure(patient=patient, **data)
        if kind == Exposure.Kind.INTERRUPTION:
            record.dose_mg = Decimal(0)
        regimen = regimen_of(intervention)
        if regimen is not None and kind == Exposure.Kind.ADMINISTRATION:
            weight = latest_weight(patient, start_date)
            record.weight_kg = weight
            record.expected_dose_mg = expected_dose(regimen, weight)
            record.dose_mismatch = bool(
                record.expected_dose_mg is not None
                and dose_mg != record.expected_dose_mg
                and not dose_change
            )
        if not record.route and regimen is not None:
            record.route = intervention.planned_regimen.route
        stamp(record, acting_user)
        record.save()
    return record


def exposure_update(
    *, exposure: Exposure, acting_user: ActingUser, reason: str | None, **changes: Any
) -> Exposure:
    """Correct a saved exposure record (dates, dose, lot); a reason is required."""
    require_entry(acting_user, exposure.patient)
    why = require_reason(reason)
    allowed = {"start_date", "end_date", "dose_mg", "lot_number", "reason_detail"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in sorted(unknown)})
    with transaction.atomic():
        current = Exposure.objects.select_for_update().get(pk=exposure.pk)
        fields = [
            "intervention",
            "kind",
            "start_date",
            "end_date",
            "dose_mg",
            "route",
            "lot_number",
            "dose_change",
            "reason",
            "reason_detail",
            "adverse_event",
            "visit",
        ]
        data = {f: changes.get(f, getattr(current, f)) for f in fields}
        errors = _validate(current.patient, data)
        if errors:
            raise ValidationError(errors)
        with audit_context(user=acting_user, reason=why):
            for field in allowed:
                setattr(current, field, data[field])
            if current.expected_dose_mg is not None:
                current.dose_mismatch = (
                    current.dose_mg != current.expected_dose_mg and not current.dose_change
                )
            set_change_reason(current, why)
            current.save()
    return current
