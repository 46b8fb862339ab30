"""Concomitant medications with the protocol's prohibited-medication check."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.users import ActingUser
from domain.conmeds import check
from patients.models import Patient, Visit
from patients.services.common import require_reason

from ..models import ConcomitantMedication
from .common import check_date, check_visit, require_entry, stamp

CONMED_FIELDS = (
    "generic_name",
    "indication",
    "dose",
    "route",
    "frequency",
    "start_date",
    "stop_date",
    "ongoing",
)


def warning_for(generic_name: str) -> tuple[str, str]:
    """(category, warning text) of a medication under the protocol's rules."""
    result = check(generic_name)
    if not result.category:
        return "", ""
    if result.category == "anticancer":
        text = _("Prohibited: other anticancer therapy (%(name)s) during study treatment.")
    elif result.category == "live_vaccine":
        text = _("Prohibited: live vaccine (%(name)s) during PD-1 inhibitor treatment.")
    else:
        text = _(
            "Caution: systemic immunosuppressant (%(name)s); allowed for immune-related "
            "adverse events, otherwise discuss with the investigator."
        )
    return result.category, text % {"name": result.matched}


def _validate(patient: Patient, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    if not data["generic_name"]:
        errors["generic_name"] = _("Enter the generic name.")
    if not data["indication"]:
        errors["indication"] = _("Enter the indication.")
    check_date(patient, data.get("start_date"), "start_date", errors)
    check_visit(patient, data.get("visit"), errors)
    stop = data.get("stop_date")
    if data["ongoing"] and stop:
        errors["stop_date"] = _("An ongoing medication has no stop date.")
    elif not data["ongoing"] and not stop:
        errors["stop_date"] = _("Enter the stop date or tick ongoing.")
    elif stop and data.get("start_date") and stop < data["start_date"]:
        errors["stop_date"] = _("The stop date cannot be before the start date.")
    return errors


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    for field in ("generic_name", "indication", "dose", "route", "frequency"):
        data[field] = (data.get(field) or "").strip()
    data["ongoing"] = bool(data.get("ongoing"))
    return data


def conmed_record(
    *,
    patient: Patient,
    acting_user: ActingUser,
    generic_name: str,
    indication: str,
    start_date: datetime.date,
    stop_date: datetime.date | None = None,
    ongoing: bool = False,
    dose: str = "",
    route: str = "",
    frequency: str = "",
    visit: Visit | None = None,
) -> ConcomitantMedication:
    require_entry(acting_user, patient)
    data = _clean(
        {
            "generic_name": generic_name,
            "indication": indication,
            "dose": dose,
            "route": route,
            "frequency": frequency,
            "start_date": start_date,
            "stop_date": stop_date,
            "ongoing": ongoing,
            "visit": visit,
        }
    )
    errors = _validate(patient, data)
    if errors:
        raise ValidationError(errors)
    category, warning = warning_for(data["generic_name"])
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Concomitant medication")):
        record = ConcomitantMedication(
            patient=patient, prohibited_category=category, warning=warning, **data
        )
        stamp(record, acting_user)
        record.save()
    return record


def conmed_update(
    *, conmed: ConcomitantMedication, acting_user: ActingUser, reason: str | None, **changes: Any
) -> ConcomitantMedication:
    """Correct or stop a medication (e.g. set the stop date); a reason is required."""
    require_entry(acting_user, conmed.patient)
    why = require_reason(reason)
    unknown = set(changes) - set(CONMED_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in sorted(unknown)})
    with transaction.atomic():
        current = ConcomitantMedication.objects.select_for_update().get(pk=conmed.pk)
        data = _clean({f: changes.get(f, getattr(current, f)) for f in CONMED_FIELDS})
        data["visit"] = current.visit
        errors = _validate(current.patient, data)
        if errors:
            raise ValidationError(errors)
        with audit_context(user=acting_user, reason=why):
            for field in CONMED_FIELDS:
                setattr(current, field, data[field])
            current.prohibited_category, current.warning = warning_for(current.generic_name)
            set_change_reason(current, why)
            current.save()
    return current
