"""Vital signs and weight."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Field
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.users import ActingUser
from patients.models import Patient, Visit
from patients.services.common import require_reason

from ..models import VitalSigns
from .common import check_date, check_visit, require_entry, stamp

VITAL_FIELDS = (
    "systolic_bp",
    "diastolic_bp",
    "heart_rate",
    "temperature_c",
    "weight_kg",
    "height_cm",
)


def _validate(patient: Patient, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    check_date(patient, data.get("measured_on"), "measured_on", errors)
    check_visit(patient, data.get("visit"), errors)
    if all(data.get(f) is None for f in VITAL_FIELDS):
        errors["__all__"] = _("Enter at least one measurement.")
    sbp, dbp = data.get("systolic_bp"), data.get("diastolic_bp")
    if (sbp is None) != (dbp is None):
        errors["diastolic_bp" if dbp is None else "systolic_bp"] = _(
            "Enter both systolic and diastolic pressure."
        )
    elif sbp is not None and dbp >= sbp:
        errors["diastolic_bp"] = _("Diastolic pressure must be lower than systolic.")
    for field in VITAL_FIELDS:
        if data.get(field) is None:
            continue
        model_field = VitalSigns._meta.get_field(field)
        assert isinstance(model_field, Field)  # the vital signs are plain columns
        try:
            data[field] = model_field.to_python(data[field])  # 58 -> Decimal("58")
            model_field.run_validators(data[field])
        except ValidationError as exc:
            errors.setdefault(field, exc.messages)
    return errors


def vital_signs_record(
    *,
    patient: Patient,
    acting_user: ActingUser,
    measured_on: datetime.date,
    visit: Visit | None = None,
    systolic_bp: int | None = None,
    diastolic_bp: int | None = None,
    heart_rate: int | None = None,
    temperature_c: Decimal | None = None,
    weight_kg: Decimal | None = None,
    height_cm: Decimal | None = None,
) -> VitalSigns:
    require_entry(acting_user, patient)
    data = {
        "measured_on": measured_on,
        "visit": visit,
        "systolic_bp": systolic_bp,
        "diastolic_bp": diastolic_bp,
        "heart_rate": heart_rate,
        "temperature_c": temperature_c,
        "weight_kg": weight_kg,
        "height_cm": height_cm,
    }
    errors = _validate(patient, data)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Vital signs")):
        record = VitalSigns(patient=patient, **data)
        stamp(record, acting_user)
        record.save()
    return record


def vital_signs_update(
    *, vital_signs: VitalSigns, acting_user: ActingUser, reason: str | None, **changes: Any
) -> VitalSigns:
    require_entry(acting_user, vital_signs.patient)
    reason = require_reason(reason)
    allowed = {"measured_on", *VITAL_FIELDS}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in sorted(unknown)})
    with transaction.atomic():
        current = VitalSigns.objects.select_for_update().get(pk=vital_signs.pk)
        data = {f: changes.get(f, getattr(current, f)) for f in allowed}
        data["visit"] = current.visit
        errors = _validate(current.patient, data)
        if errors:
            raise ValidationError(errors)
        with audit_context(user=acting_user, reason=reason):
            for field in allowed:
                setattr(current, field, data[field])
            set_change_reason(current, reason)
            current.save()
    return current


def latest_weight(patient: Patient, on: datetime.date) -> Decimal | None:
    """The patient's last recorded weight on or before ``on``."""
    row = (
        VitalSigns.objects.filter(patient=patient, measured_on__lte=on, weight_kg__isnull=False)
        .order_by("-measured_on", "-pk")
        .first()
    )
    return row.weight_kg if row else None
