"""Corrections in answer to a query, through each record's own service.

A corrector takes ``(record, field_name, raw_value, acting_user, reason)``; it cleans the
raw value with the model field's form field (so "2" becomes 2 and a bad value is a
message on ``corrected_value``) and calls the record's normal service, which applies
every rule of that record (windows, ranges, permissions) and the lock guard.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def clean_value(model: Any, field_name: str, raw: Any) -> Any:
    field = model._meta.get_field(field_name)
    formfield = field.formfield()
    if formfield is None:
        raise ValidationError({"corrected_value": _("This field cannot be corrected here.")})
    try:
        return formfield.clean(raw)
    except ValidationError as exc:
        raise ValidationError({"corrected_value": exc.messages}) from exc


def correct_visit(visit: Any, field_name: str, raw: Any, acting_user: Any, reason: str) -> None:
    from patients.services.visits import SUBMIT_FIELDS, visit_submit

    if field_name not in SUBMIT_FIELDS or not visit.is_submitted:
        raise ValidationError(
            {"corrected_value": _("Correct this visit on its own form, citing the query.")}
        )
    data = {f: getattr(visit, f) for f in SUBMIT_FIELDS}
    data[field_name] = clean_value(type(visit), field_name, raw)
    visit_submit(visit=visit, acting_user=acting_user, reason=reason, **data)


def correct_patient(patient: Any, field_name: str, raw: Any, acting_user: Any, reason: str) -> None:
    from patients.services import EDITABLE_FIELDS, patient_update

    if field_name not in EDITABLE_FIELDS:
        raise ValidationError(
            {"corrected_value": _("Correct this field on the patient's own form.")}
        )
    value = clean_value(type(patient), field_name, raw)
    patient_update(patient=patient, acting_user=acting_user, reason=reason, **{field_name: value})
