"""Reads of clinical data: visit form states, per-visit liver function, exposure
summaries, the patient's clinical overview."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from domain.exposure import DosingRecord, ExposureSummary, expected_dose, summarise
from domain.liver_function import AlbiResult, ChildPughResult, albi, child_pugh
from patients.models import Patient, TumorAssessment, Visit
from trials.models import Intervention, VisitForm

from .models import (
    ConcomitantMedication,
    Exposure,
    LabResult,
    Procedure,
    VisitFormNote,
    VitalSigns,
)

#: Form -> the model whose rows (``visit=...``) make the form "entered".
FORM_MODELS: dict[str, Any] = {
    VisitForm.LABS: LabResult,
    VisitForm.VITALS: VitalSigns,
    VisitForm.DOSING: Exposure,
    VisitForm.PROCEDURE: Procedure,
    VisitForm.IMAGING: TumorAssessment,
    VisitForm.CONMEDS: ConcomitantMedication,
}


class FormState:
    MISSING = "missing"
    ENTERED = "entered"
    NOT_DONE = "not_done"
    NONE_TO_REPORT = "none"
    # Set by monitoring (source data verification, signatures) through STATE_HOOKS.
    VERIFIED = "verified"
    SIGNED = "signed"

    DONE = frozenset({ENTERED, NOT_DONE, NONE_TO_REPORT, VERIFIED, SIGNED})


@dataclass
class VisitFormStatus:
    form: str
    label: str
    required: bool
    state: str
    count: int = 0
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state in FormState.DONE


#: Monitoring (H12) appends ``hook(visit, statuses)`` to refine states (verified,
#: signed) without this module knowing about monitoring.
STATE_HOOKS: list[Callable[[Visit, list[VisitFormStatus]], None]] = []


def required_forms(visit: Visit) -> list[str]:
    definition = visit.definition if visit.definition_id is not None else None
    if definition is None:
        return []
    return [f for f in VisitForm.values if f in (definition.required_forms or [])]


def visit_form_states(
    visit: Visit, *, all_forms: bool = False, refine: bool = True
) -> list[VisitFormStatus]:
    """State of each required form of ``visit`` (every form with ``all_forms``):
    entered when a record of the form points to the visit, or when the coordinator
    answered "nothing to report" / "not done" (``VisitFormNote``); AE review from the
    visit's own tick box."""
    required = set(required_forms(visit))
    forms = VisitForm.values if all_forms else [f for f in VisitForm.values if f in required]
    notes = {n.form: n for n in VisitFormNote.objects.filter(visit=visit)}
    statuses = []
    for form in forms:
        label = str(VisitForm(form).label)
        note = notes.get(form)
        if form == VisitForm.AE_REVIEW:
            count = int(visit.ae_review_done)
        else:
            count = FORM_MODELS[form].objects.filter(visit=visit).count()
        if count:
            state = FormState.ENTERED
        elif note is not None:
            state = note.status
        else:
            state = FormState.MISSING
        statuses.append(
            VisitFormStatus(
                form, label, form in required, state, count, note.reason if note else ""
            )
        )
    for hook in STATE_HOOKS if refine else ():
        hook(visit, statuses)
    return statuses


def visit_is_complete(visit: Visit) -> bool:
    """Submitted, and every required form entered (or answered)."""
    return visit.is_submitted and all(s.done for s in visit_form_states(visit, refine=False))


def missing_forms(visit: Visit) -> list[str]:
    return [s.form for s in visit_form_states(visit, refine=False) if not s.done]


def incomplete_visits(visits: Iterable[Visit], today: datetime.date) -> list[tuple[Visit, list]]:
    """Visits whose window has closed with required forms still missing (the overdue
    sweep reports them)."""
    out = []
    for visit in visits:
        end = visit.window_end or visit.scheduled_date
        if end >= today or visit.status == Visit.Status.CANCELLED:
            continue
        missing = missing_forms(visit)
        if missing:
            out.append((visit, missing))
    return out


# ------------------------------------------------------------------------------------
# Liver function at a visit
# ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiverFunction:
    child_pugh: ChildPughResult
    albi: AlbiResult
    sources: dict[str, str]  # input -> where it came from ("lab 2026-03-02", ...)

    @property
    def missing_labels(self) -> list[str]:
        """The Child-Pugh inputs that are missing, as people read them."""
        return [str(INPUT_LABELS.get(k, k)) for k in self.child_pugh.missing]


INPUT_LABELS = {
    "bilirubin_umol_l": _("bilirubin"),
    "albumin_g_l": _("albumin"),
    "inr": "INR",
    "ascites": _("ascites"),
    "encephalopathy": _("hepatic encephalopathy"),
}


def _latest(patient: Patient, analyte: str, on: datetime.date) -> LabResult | None:
    return (
        LabResult.objects.filter(
            patient=patient, analyte=analyte, collected_on__lte=on, value_canonical__isnull=False
        )
        .order_by("-collected_on", "-pk")
        .first()
    )


def visit_liver_function(
    visit: Visit,
    *,
    ascites: str | None = None,
    encephalopathy: str | None = None,
    lookback_days: int = 14,
) -> LiverFunction:
    """Child-Pugh and ALBI from the labs of the visit (or the latest within
    ``lookback_days`` before it), with each input's source. Ascites and encephalopathy
    are clinical: without them Child-Pugh lists them as missing (never guessed)."""
    on = visit.actual_date or visit.scheduled_date
    values: dict[str, float | None] = {}
    sources: dict[str, str] = {}
    for analyte in ("bilirubin", "albumin", "inr"):
        row = _latest(visit.patient, analyte, on)
        if row is not None and (on - row.collected_on).days <= lookback_days:
            values[analyte] = row.value_canonical
            sources[analyte] = f"{row.collected_on.isoformat()}"
        else:
            values[analyte] = None
    cp = child_pugh(
        bilirubin_umol_l=values["bilirubin"],
        albumin_g_l=values["albumin"],
        inr=values["inr"],
        ascites=ascites,
        encephalopathy=encephalopathy,
    )
    al = albi(bilirubin_umol_l=values["bilirubin"], albumin_g_l=values["albumin"])
    return LiverFunction(cp, al, sources)


# ------------------------------------------------------------------------------------
# Exposure
# ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrugExposure:
    intervention: Intervention
    summary: ExposureSummary
    planned_dose_mg: Decimal | None
    records: list[Exposure]
    discontinued: Exposure | None
    mismatches: int


def patient_exposure(
    patient: Patient, *, cutoff: datetime.date | None = None
) -> list[DrugExposure]:
    """Per drug of the patient's records: cumulative dose, duration, relative dose
    intensity (``domain.exposure``), reductions, interruptions and discontinuation."""
    from .services.exposure import regimen_of
    from .services.vitals import latest_weight

    cutoff = cutoff or timezone.localdate()
    rows = list(
        Exposure.objects.filter(patient=patient)
        .select_related("intervention__planned_regimen", "adverse_event")
        .order_by("intervention_id", "start_date", "pk")
    )
    by_drug: dict[int, list[Exposure]] = {}
    for row in rows:
        by_drug.setdefault(row.intervention_id, []).append(row)
    out = []
    for records in by_drug.values():
        intervention = records[0].intervention
        regimen = regimen_of(intervention)
        discontinued = next((r for r in records if r.kind == Exposure.Kind.DISCONTINUATION), None)
        end = min(cutoff, discontinued.start_date) if discontinued else cutoff
        dosing = [
            DosingRecord(r.start_date, r.end_date, r.dose_mg or Decimal(0))
            for r in records
            if r.kind in (Exposure.Kind.ADMINISTRATION, Exposure.Kind.INTERRUPTION)
        ]
        planned = None
        if regimen is not None:
            first = next((r for r in records if r.kind == Exposure.Kind.ADMINISTRATION), None)
            weight = latest_weight(patient, first.start_date) if first else None
            planned = expected_dose(regimen, weight)
            summary = summarise(
                dosing,
                regimen=regimen,
                planned_dose_mg=planned,
                cutoff=end,
                reductions=sum(1 for r in records if r.dose_change == Exposure.DoseChange.REDUCED),
            )
        else:
            from domain.exposure import Regimen

            summary = summarise(
                dosing,
                regimen=Regimen(dose_mg=Decimal(0)),
                planned_dose_mg=None,
                cutoff=end,
                reductions=sum(1 for r in records if r.dose_change == Exposure.DoseChange.REDUCED),
            )
        out.append(
            DrugExposure(
                intervention,
                summary,
                planned,
                records,
                discontinued,
                sum(1 for r in records if r.dose_mismatch),
            )
        )
    return out


def patient_clinical(patient: Patient) -> dict[str, Any]:
    """Everything the patient page shows of the clinical data."""
    return {
        "labs": list(
            LabResult.objects.filter(patient=patient)
            .select_related("visit__definition", "adverse_event")
            .order_by("-collected_on", "panel", "analyte")
        ),
        "vitals": list(VitalSigns.objects.filter(patient=patient).order_by("-measured_on")),
        "exposure": patient_exposure(patient),
        "procedures": list(
            Procedure.objects.filter(patient=patient)
            .prefetch_related("treated__lesion", "complications__adverse_event")
            .order_by("-procedure_date")
        ),
        "conmeds": list(
            ConcomitantMedication.objects.filter(patient=patient).order_by("-start_date")
        ),
        "proposals": list(
            LabResult.objects.filter(patient=patient, ae_proposal=LabResult.AeProposal.PROPOSED)
        ),
    }
