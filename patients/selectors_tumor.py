"""Reads for the tumour-response pages: each assessment with the figures the engine
stored in the patient's ``ResponseSummary`` (sum of diameters, % change from baseline
and nadir, time-point response and whether it was recorded), and the best response.

The time points of ``ResponseSummary.outcome`` are keyed by day (assessment date minus
day 0, at least 1, exactly as ``domain.analysis.patient_outcome`` counts them).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch

from .models import LesionMeasurement, Patient, ResponseSummary, TumorAssessment


@dataclass(frozen=True)
class AssessmentRow:
    assessment: TumorAssessment
    sum_mm: float | None
    change_from_baseline_pct: float | None
    change_from_nadir_pct: float | None
    response: str  # RECIST 1.1 time-point response ("" for the baseline / not computed)
    iresponse: str
    recorded: bool


@dataclass(frozen=True)
class ResponseOverview:
    rows: list[AssessmentRow]
    summary: ResponseSummary | None
    bor: str
    confirmed: bool
    recorded: bool
    best_change_pct: float | None
    irecist: bool
    notes: list[str]

    @property
    def baseline(self) -> TumorAssessment | None:
        return next((r.assessment for r in self.rows if r.assessment.is_baseline), None)

    def row_for(self, assessment: TumorAssessment) -> AssessmentRow | None:
        return next((r for r in self.rows if r.assessment.pk == assessment.pk), None)


def _timepoints(outcome: dict[str, Any]) -> tuple[datetime.date | None, dict[int, dict]]:
    try:
        day0 = datetime.date.fromisoformat(outcome.get("day0") or "")
    except ValueError:
        day0 = None
    return day0, {tp["day"]: tp for tp in outcome.get("timepoints", [])}


def response_overview(patient: Patient) -> ResponseOverview:
    """Every assessment of the patient, oldest first, with its stored figures."""
    assessments = list(
        TumorAssessment.objects.filter(patient=patient)
        .select_related("visit__definition")
        .prefetch_related(
            Prefetch(
                "measurements",
                queryset=LesionMeasurement.objects.select_related("lesion", "merged_into"),
            )
        )
        .order_by("assessment_date", "pk")
    )
    summary = ResponseSummary.objects.filter(patient=patient).first()
    outcome = summary.outcome if summary else {}
    day0, points = _timepoints(outcome)
    baseline_sum = sum(les.baseline_mm for les in patient.lesions.all() if les.target) or None
    rows = []
    for a in assessments:
        if a.is_baseline:
            rows.append(AssessmentRow(a, baseline_sum, None, None, "", "", False))
            continue
        tp = points.get(max((a.assessment_date - day0).days, 1)) if day0 else None
        tp = tp or {}
        rows.append(
            AssessmentRow(
                assessment=a,
                sum_mm=tp.get("sum_mm"),
                change_from_baseline_pct=tp.get("change_from_baseline_pct"),
                change_from_nadir_pct=tp.get("change_from_nadir_pct"),
                response=tp.get("overall", ""),
                iresponse=tp.get("iresponse", ""),
                recorded=bool(tp.get("recorded")),
            )
        )
    return ResponseOverview(
        rows=rows,
        summary=summary,
        bor=summary.bor if summary else "",
        confirmed=bool(outcome.get("confirmed")),
        recorded=bool(outcome.get("recorded")),
        best_change_pct=summary.best_change_pct if summary else None,
        irecist=patient.trial_site.trial.response_criteria == "irecist",
        notes=list(outcome.get("notes", [])),
    )
