"""Procedures (the trial's cryoablation and any other local therapy).

Lesions treated by an ablative procedure after baseline are flagged ``ablated_on_study``
here, in the same transaction, and the patient's response is recomputed so that the
response engine reports the non-ablated-lesion response (``non_ablated_bor``) from it.
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
from patients.models import AdverseEvent, Lesion, Patient, TumorAssessment, Visit
from patients.services.response import response_recompute

from ..models import Procedure, ProcedureComplication, ProcedureLesion
from .common import check_date, check_visit, require_entry, stamp


def _baseline_date(patient: Patient) -> datetime.date | None:
    row = TumorAssessment.objects.filter(patient=patient, is_baseline=True).first()
    return row.assessment_date if row else None


def lesions_mark_ablated_on_study(
    *, lesions: list[Lesion], acting_user: ActingUser, reason: str
) -> list[Lesion]:
    """Flag RECIST lesions as ablated on study (with history); already flagged ones are
    left alone. Call inside the procedure's transaction."""
    changed = []
    with audit_context(user=acting_user, reason=reason):
        for lesion in lesions:
            current = Lesion.objects.select_for_update().get(pk=lesion.pk)
            if current.ablated_on_study:
                continue
            current.ablated_on_study = True
            set_change_reason(current, reason)
            current.save()
            changed.append(current)
    return changed


def procedure_record(
    *,
    patient: Patient,
    acting_user: ActingUser,
    kind: str,
    procedure_date: datetime.date,
    approach: str,
    lesions: list[Lesion] | None = None,
    probes: int | None = None,
    freeze_thaw_cycles: int | None = None,
    ice_ball_margin_mm: Decimal | None = None,
    technical_success: bool | None = None,
    notes: str = "",
    complications: list[dict[str, Any]] | None = None,
    visit: Visit | None = None,
) -> Procedure:
    """Record a procedure, its treated lesions and complications (Clavien-Dindo, each
    optionally linked to its adverse event)."""
    require_entry(acting_user, patient)
    lesions = list(lesions or [])
    complications = list(complications or [])
    errors: dict[str, Any] = {}
    check_date(patient, procedure_date, "procedure_date", errors)
    check_visit(patient, visit, errors)
    if kind not in Procedure.Kind.values:
        errors["kind"] = _("Choose the procedure.")
    if approach not in Procedure.Approach.values:
        errors["approach"] = _("Choose the approach.")
    if any(lesion.patient_id != patient.pk for lesion in lesions):
        errors["lesions"] = _("Choose lesions of this patient.")
    baseline = _baseline_date(patient)
    if kind in Procedure.ABLATIVE and lesions and baseline is None:
        errors["lesions"] = _("Record the baseline tumour assessment before treated lesions.")
    elif lesions and baseline and procedure_date and procedure_date < baseline:
        errors["procedure_date"] = _(
            "A procedure before the baseline scan is recorded on the lesion as previously "
            "ablated, not as an on-study procedure."
        )
    if kind == Procedure.Kind.CRYOABLATION and not lesions:
        errors["lesions"] = _("Choose the lesions treated.")
    for i, comp in enumerate(complications):
        if not (comp.get("description") or "").strip():
            errors[f"complications.{i}.description"] = _("Describe the complication.")
        if comp.get("clavien_dindo") not in ProcedureComplication.ClavienDindo.values:
            errors[f"complications.{i}.clavien_dindo"] = _("Choose the Clavien-Dindo grade.")
        event = comp.get("adverse_event")
        if event is not None and (
            not isinstance(event, AdverseEvent) or event.patient_id != patient.pk
        ):
            errors[f"complications.{i}.adverse_event"] = _(
                "Choose an adverse event of this patient."
            )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Procedure recorded")):
        procedure = Procedure(
            patient=patient,
            visit=visit,
            kind=kind,
            procedure_date=procedure_date,
            approach=approach,
            probes=probes,
            freeze_thaw_cycles=freeze_thaw_cycles,
            ice_ball_margin_mm=ice_ball_margin_mm,
            technical_success=technical_success,
            notes=(notes or "").strip(),
        )
        stamp(procedure, acting_user)
        procedure.save()
        for lesion in lesions:
            ProcedureLesion(procedure=procedure, lesion=lesion).save()
        for comp in complications:
            ProcedureComplication(
                procedure=procedure,
                description=comp["description"].strip(),
                clavien_dindo=comp["clavien_dindo"],
                adverse_event=comp.get("adverse_event"),
            ).save()
        if kind in Procedure.ABLATIVE and lesions:
            lesions_mark_ablated_on_study(
                lesions=lesions,
                acting_user=acting_user,
                reason=_("Treated by %(procedure)s on %(date)s")
                % {"procedure": procedure.get_kind_display(), "date": procedure_date.isoformat()},
            )
            response_recompute(patient=patient, acting_user=acting_user)
    return procedure
