"""Reads the database into the documented data-cut format (README, "Data cuts").

The same records feed ``export_datacut`` (a frozen file), ``analyze_datacut`` and the
per-patient outcome the application stores after every change, so the dashboard, the API
and a re-analysis of a frozen cut use one engine on one representation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from domain.analysis import FORMAT, FORMAT_VERSION
from patients.models import Enrollment, LesionMeasurement, Patient, TumorAssessment

from .models import Trial


def trial_settings(trial: Trial) -> dict[str, Any]:
    """The trial block of a data cut: identity and the response-evaluation settings."""
    return {
        "protocol_code": trial.protocol_code,
        "title": trial.title,
        "design": trial.design,
        "blinding": trial.blinding,
        "response_criteria": "iRECIST" if trial.response_criteria == "irecist" else "RECIST1.1",
        "confirmation_required": trial.confirmation_required,
        "confirmation_min_days": trial.confirmation_min_days,
        "min_sd_days": trial.min_sd_days,
        "imaging_interval_weeks": trial.imaging_interval_weeks,
        # analysis settings (domain.analysis_settings)
        "time_origin": trial.time_origin,
        "ci_band": trial.ci_band,
        "orr_null_rate": trial.orr_null_rate,
        "orr_sided": trial.orr_sided,
        "landmark_months": _landmarks(trial),
        "population": trial.analysis_population,
        "nya_handling": trial.nya_handling,
        "nya_days": trial.nya_days,
    }


def _landmarks(trial: Trial) -> list[float]:
    try:
        return trial.landmark_list() or [6.0, 12.0, 24.0]
    except ValueError:
        return [6.0, 12.0, 24.0]


def trial_header(trial: Trial, *, cutoff: date) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "cutoff_date": cutoff.isoformat(),
        "trial": trial_settings(trial),
        "arms": [
            {
                "code": a.code,
                "name": a.name,
                "allocation_ratio": a.allocation_ratio,
                "is_control": a.is_control,
            }
            for a in trial.arms.order_by("code")
        ],
        "sites": [
            {
                "code": ts.site.code,
                "name": ts.site.name,
                "name_local": ts.site.name_local,
                "city": ts.site.city,
                "enrollment_target": ts.enrollment_target,
                "status": ts.status,
            }
            for ts in trial.trial_sites.select_related("site").order_by("site__code")
        ],
    }


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
                        "merged_into": m.merged_into.code if m.merged_into_id else None,
                    }
                    for m in a.measurements.all()
                ],
            }
            for a in patient.tumor_assessments.all()
        ],
    }


def iter_patient_records(trial: Trial) -> Iterator[dict[str, Any]]:
    """Stream patients in chunks so memory stays flat on large trials."""
    for patient in enrolled_patients(trial).iterator(chunk_size=500):
        yield patient_record(patient)


def datacut_lock(trial: Trial) -> dict[str, Any] | None:
    """The trial-wide freeze / lock the cut is taken under (None: unlocked data)."""
    from monitoring.services import lock_in_force

    lock = lock_in_force(trial=trial)
    if lock is None:
        return None
    return {
        "id": lock.pk,
        "mode": lock.mode,
        "label": lock.label,
        "locked_at": lock.locked_at.isoformat(timespec="seconds"),
        "locked_by": lock.locked_by_username,
    }


#: Apps above ``trials`` add their records to a cut here (``name -> build(trial,
#: cutoff)`` returning JSON-ready data), e.g. the clinical app's labs and exposure.
DATACUT_SECTIONS: dict[str, Callable[[Trial, date], Any]] = {}


def datacut_build(trial: Trial, *, cutoff: date | None = None) -> dict[str, Any]:
    cutoff = cutoff or timezone.localdate()
    cut = trial_header(trial, cutoff=cutoff)
    cut["lock"] = datacut_lock(trial)
    cut["patients"] = list(iter_patient_records(trial))
    for name, build in DATACUT_SECTIONS.items():
        cut[name] = build(trial, cutoff)
    return cut


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
