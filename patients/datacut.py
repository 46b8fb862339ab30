"""The trial's patients in the documented data-cut form (README, "Data cuts"): subject
id, site, allocation, lesions and tumour assessments, pseudonymous (no identity).

Read by the per-patient outcome the application stores after every change
(``patients.services.response``) and by the data cut itself (``analysis.datacut``), so
the dashboard, the API and a re-analysis of a frozen cut use one representation.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Prefetch, QuerySet

from trials.models import Trial

from .models import Enrollment, LesionMeasurement, Patient, TumorAssessment


def record_prefetches() -> list[Any]:
    """What :func:`patient_record` reads besides the patient, its site and enrollment."""
    return [
        "lesions",
        Prefetch(
            "tumor_assessments",
            queryset=TumorAssessment.objects.order_by("assessment_date", "pk").prefetch_related(
                Prefetch(
                    "measurements",
                    queryset=LesionMeasurement.objects.select_related("lesion", "merged_into"),
                )
            ),
        ),
    ]


def enrolled_patients(trial: Trial) -> QuerySet[Patient]:
    """Enrolled patients with everything a data cut needs, in a fixed number of queries."""
    return (
        Patient.objects.filter(trial_site__trial=trial, enrollment__isnull=False)
        .select_related("trial_site__site", "enrollment__arm")
        .prefetch_related(*record_prefetches())
        .order_by("subject_id")
    )


def patient_record(patient: Patient, enrollment: Enrollment | None = None) -> dict[str, Any]:
    """One patient in data-cut form. Pseudonymous: subject id only, no identity."""
    enrollment = enrollment or patient.enrollment
    return {
        "subject_id": patient.subject_id,
        "site": patient.trial_site.site.code,
        "arm": enrollment.arm.code,
        "randomization_number": enrollment.randomization_number,
        "enrolled_on": enrollment.enrolled_on.isoformat(),
        # allocation happens at enrollment: the enrollment date is the randomization date
        "randomization_date": enrollment.enrolled_on.isoformat(),
        "stratum": enrollment.stratum or None,
        "first_treatment_date": _iso(enrollment.first_treatment_date),
        "status": patient.status,
        "death_date": _iso(patient.death_date),
        "last_known_alive_date": _iso(patient.last_known_alive_date),
        "lesions": [
            {
                "lesion_id": les.code,
                "organ": les.organ,
                "nodal": les.nodal,
                "target": les.target,
                "ablated": les.ablated,
                "ablated_on_study": les.ablated_on_study,
                "baseline_mm": les.baseline_mm,
            }
            for les in patient.lesions.all()
        ],
        "assessments": [
            {
                "date": a.assessment_date.isoformat(),
                "baseline": a.is_baseline,
                "method": a.method,
                "non_target": a.non_target_status or None,
                "new_lesions": a.new_lesions,
                "new_lesions_increased": a.new_lesions_increased,
                "nontarget_increased": a.nontarget_increased,
                "recorded_response": a.recorded_response or None,
                "measurements": [
                    {
                        "lesion_id": m.lesion.code,
                        "diameter_mm": m.diameter_mm,
                        "state": m.state,
                        "merged_into": m.merged_into.code if m.merged_into is not None else None,
                    }
                    for m in a.measurements.all()
                ],
            }
            for a in patient.tumor_assessments.all()
        ],
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
