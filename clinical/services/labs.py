"""Laboratory results: unit conversion, reference range, flag and CTCAE v5.0 grade.

A grade >= 3 proposes an adverse event (``ae_proposal = proposed``): the coordinator
records it from the proposal, pre-filled and linked (``lab_result_record_adverse_event``)
or dismisses it with a reason (e.g. already recorded, baseline disease).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.users import ActingUser
from domain import ctcae_labs
from domain.ctcae_labs import Analyte, grade_lab, reference_flag
from domain.lab_units import to_canonical, units_for
from patients.models import AdverseEvent, CtcaeTerm, Patient, Visit
from patients.services.common import require_reason
from patients.services.visits import patient_enrollment

from ..models import LabReferenceRange, LabResult
from ..models.labs import CANONICAL_UNIT_OF, PANEL_OF
from .common import check_date, check_visit, require_entry, stamp

AE_PROPOSAL_MIN_GRADE = 3


def reference_range_for(
    patient: Patient, analyte: str, on: datetime.date
) -> LabReferenceRange | None:
    """The patient's site laboratory range in effect on ``on``: sex-specific first."""
    rows = (
        LabReferenceRange.objects.filter(
            site_id=patient.trial_site.site_id,
            analyte=analyte,
            effective_from__lte=on,
            sex__in=("", patient.sex),
        )
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .order_by("-sex", "-effective_from")
    )
    return rows.first()


def baseline_value(patient: Patient, analyte: str, collected_on: datetime.date) -> float | None:
    """The last value of ``analyte`` collected on or before the start of treatment (first
    treatment date, else the enrollment date), for results after that day."""
    enrollment = patient_enrollment(patient)
    if enrollment is None:
        return None
    start = enrollment.first_treatment_date or enrollment.enrolled_on
    if collected_on <= start:
        return None
    row = (
        LabResult.objects.filter(
            patient=patient, analyte=analyte, collected_on__lte=start, value_canonical__isnull=False
        )
        .order_by("-collected_on", "-pk")
        .first()
    )
    return row.value_canonical if row else None


def _validate(patient: Patient, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    analyte = data.get("analyte")
    if analyte not in CANONICAL_UNIT_OF:
        errors["analyte"] = _("Choose an analyte.")
        return errors
    check_date(patient, data.get("collected_on"), "collected_on", errors)
    check_visit(patient, data.get("visit"), errors)
    if analyte == Analyte.PROTEINURIA_DIPSTICK:
        if (data.get("value_text") or "").lower() not in ctcae_labs.DIPSTICK_VALUES:
            errors["value_text"] = _("Choose the dipstick reading: %(values)s.") % {
                "values": ", ".join(ctcae_labs.DIPSTICK_VALUES)
            }
        return errors
    value = data.get("value")
    if value is None:
        errors["value"] = _("Enter the value.")
    elif value < 0:
        errors["value"] = _("A laboratory value cannot be negative.")
    unit = data.get("unit") or CANONICAL_UNIT_OF[analyte]
    if unit not in units_for(analyte):
        errors["unit"] = _("%(unit)s is not a unit for this analyte; use one of: %(units)s.") % {
            "unit": unit,
            "units": ", ".join(units_for(analyte)),
        }
    return errors


def _grade(patient: Patient, result: LabResult) -> None:
    """Fill the canonical value, range, flag and CTCAE grade of ``result``."""
    analyte = result.analyte
    rng = reference_range_for(patient, analyte, result.collected_on)
    result.reference_range = rng
    result.lln = rng.lower if rng else None
    result.uln = rng.upper if rng else None
    if analyte == Analyte.PROTEINURIA_DIPSTICK:
        result.value_text = result.value_text.lower()
        result.unit = CANONICAL_UNIT_OF[analyte]
        result.value_canonical = None
        graded = grade_lab(analyte, result.value_text)
        result.flag = ""
    else:
        result.unit = result.unit or CANONICAL_UNIT_OF[analyte]
        assert result.value is not None  # a numeric result has a value (_validate)
        result.value_canonical = round(to_canonical(analyte, result.value, result.unit), 4)
        result.baseline_value = baseline_value(patient, analyte, result.collected_on)
        graded = grade_lab(
            analyte,
            result.value_canonical,
            uln=result.uln,
            lln=result.lln,
            baseline=result.baseline_value,
        )
        result.flag = reference_flag(result.value_canonical, lln=result.lln, uln=result.uln)
    result.ctcae_grade = graded.grade
    result.ctcae_term = graded.term or ""
    result.ctcae_criterion = (graded.criterion or "")[:300]
    result.ctcae_basis = graded.basis
    result.grading_notes = list(graded.notes)
    result.engine_version = graded.engine_version
    if (
        graded.grade is not None
        and graded.grade >= AE_PROPOSAL_MIN_GRADE
        and result.adverse_event_id is None
    ):
        result.ae_proposal = LabResult.AeProposal.PROPOSED
    elif result.ae_proposal == LabResult.AeProposal.PROPOSED:
        result.ae_proposal = LabResult.AeProposal.NONE


def lab_results_record(
    *,
    patient: Patient,
    acting_user: ActingUser,
    collected_on: datetime.date,
    values: list[dict[str, Any]],
    visit: Visit | None = None,
) -> list[LabResult]:
    """Record a set of results collected on one day (a panel or several): all or none.

    ``values``: ``{"analyte", "value" | "value_text", "unit"}`` each. Errors name the row
    (``values.2.unit``) so a form can show each next to its field.
    """
    require_entry(acting_user, patient)
    if not values:
        raise ValidationError({"values": _("Enter at least one result.")})
    errors: dict[str, Any] = {}
    rows = []
    seen: set[str | None] = set()
    for i, row in enumerate(values):
        data = {**row, "collected_on": collected_on, "visit": visit}
        for field, message in _validate(patient, data).items():
            key = field if field in ("collected_on", "visit") else f"values.{i}.{field}"
            errors[key] = message
        if row.get("analyte") in seen:
            errors[f"values.{i}.analyte"] = _("This analyte is entered twice.")
        seen.add(row.get("analyte"))
        rows.append(data)
    if errors:
        raise ValidationError(errors)
    created = []
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Laboratory results")):
        for data in rows:
            result = LabResult(
                patient=patient,
                visit=visit,
                panel=PANEL_OF[data["analyte"]],
                analyte=data["analyte"],
                collected_on=collected_on,
                value=data.get("value"),
                value_text=data.get("value_text") or "",
                unit=data.get("unit") or "",
            )
            _grade(patient, result)
            stamp(result, acting_user)
            result.save()
            created.append(result)
    return created


def lab_result_record(
    *,
    patient: Patient,
    acting_user: ActingUser,
    analyte: str,
    collected_on: datetime.date,
    value: float | None = None,
    value_text: str = "",
    unit: str = "",
    visit: Visit | None = None,
) -> LabResult:
    """Record one laboratory result (see ``lab_results_record``)."""
    try:
        (result,) = lab_results_record(
            patient=patient,
            acting_user=acting_user,
            collected_on=collected_on,
            visit=visit,
            values=[{"analyte": analyte, "value": value, "value_text": value_text, "unit": unit}],
        )
    except ValidationError as exc:
        raise ValidationError(
            {k.removeprefix("values.0."): v for k, v in exc.message_dict.items()}
        ) from exc
    return result


def lab_result_update(
    *, lab_result: LabResult, acting_user: ActingUser, reason: str | None, **changes: Any
) -> LabResult:
    """Correct a saved result (value, unit, date): re-graded; a reason is required."""
    require_entry(acting_user, lab_result.patient)
    reason = require_reason(reason)
    allowed = {"value", "value_text", "unit", "collected_on"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in sorted(unknown)})
    with transaction.atomic():
        current = LabResult.objects.select_for_update().get(pk=lab_result.pk)
        data = {f: changes.get(f, getattr(current, f)) for f in allowed}
        data.update(analyte=current.analyte, visit=current.visit)
        errors = _validate(current.patient, data)
        if errors:
            raise ValidationError(errors)
        for field in allowed:
            setattr(current, field, data[field])
        _grade(current.patient, current)
        with audit_context(user=acting_user, reason=reason):
            set_change_reason(current, reason)
            current.save()
    return current


def ae_prefill(lab_result: LabResult) -> dict[str, Any]:
    """What the proposed adverse event starts with: the CTCAE term of the analyte, the
    computed grade, the collection date as onset, the visit, and a description naming
    the value and its range."""
    term = CtcaeTerm.objects.filter(term=lab_result.ctcae_term, active=True).first()
    shown = lab_result.value_text or f"{lab_result.value:g} {lab_result.unit}"
    limits = ""
    if lab_result.lln is not None or lab_result.uln is not None:
        limits = f" (LLN {lab_result.lln if lab_result.lln is not None else '–'}, ULN " + (
            f"{lab_result.uln})" if lab_result.uln is not None else "–)"
        )
    return {
        "ctcae_term": term,
        "term": lab_result.ctcae_term,
        "grade": lab_result.ctcae_grade,
        "onset_date": lab_result.collected_on,
        "visit": lab_result.visit,
        "description": _("%(analyte)s %(value)s%(limits)s on %(date)s: CTCAE grade %(grade)s.")
        % {
            "analyte": lab_result.get_analyte_display(),
            "value": shown,
            "limits": limits,
            "date": lab_result.collected_on.isoformat(),
            "grade": lab_result.ctcae_grade,
        },
    }


def lab_result_link_adverse_event(
    *, lab_result: LabResult, adverse_event: AdverseEvent, acting_user: ActingUser
) -> LabResult:
    """Link the adverse event recorded from a lab result's proposal (same patient)."""
    require_entry(acting_user, lab_result.patient)
    if adverse_event.patient_id != lab_result.patient_id:
        raise ValidationError({"adverse_event": _("Choose an adverse event of this patient.")})
    with (
        transaction.atomic(),
        audit_context(
            user=acting_user, reason=_("Adverse event recorded from a laboratory result")
        ),
    ):
        current = LabResult.objects.select_for_update().get(pk=lab_result.pk)
        current.adverse_event = adverse_event
        current.ae_proposal = LabResult.AeProposal.RECORDED
        current.save()
    return current


def lab_result_dismiss_proposal(
    *, lab_result: LabResult, acting_user: ActingUser, reason: str | None
) -> LabResult:
    """Decline the proposed adverse event (e.g. already recorded); a reason is kept."""
    require_entry(acting_user, lab_result.patient)
    reason = require_reason(reason)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current = LabResult.objects.select_for_update().get(pk=lab_result.pk)
        if current.ae_proposal != LabResult.AeProposal.PROPOSED:
            raise ValidationError(_("This result has no open adverse-event proposal."))
        current.ae_proposal = LabResult.AeProposal.DISMISSED
        set_change_reason(current, reason)
        current.save()
    return current


def lab_result_record_adverse_event(
    *, lab_result: LabResult, acting_user: ActingUser, **adverse_event: Any
) -> AdverseEvent:
    """Record the adverse event a lab result proposes and link the two, in one unit of
    work: ``adverse_event`` are the keyword arguments of ``adverse_event_record``."""
    from patients.services.safety import adverse_event_record

    with transaction.atomic():
        event = adverse_event_record(
            patient=lab_result.patient, acting_user=acting_user, **adverse_event
        )
        lab_result_link_adverse_event(
            lab_result=lab_result, adverse_event=event, acting_user=acting_user
        )
    return event
