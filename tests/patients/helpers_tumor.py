"""Builders for the tumour-assessment tests: an enrolled patient and lesion rows."""

from __future__ import annotations

import datetime
from typing import Any

from patients.models import Enrollment, Lesion, LesionMeasurement, Patient, TumorAssessment
from patients.services import patient_set_status
from tests.factories import ArmFactory

TODAY = datetime.date.today()
#: First treatment 150 days ago: room for follow-ups at days 42, 84 and 126.
FIRST_TREATMENT = TODAY - datetime.timedelta(days=150)
BASELINE_DATE = FIRST_TREATMENT - datetime.timedelta(days=7)


def day(n: int) -> datetime.date:
    """The date of study day ``n`` (day 0 = first treatment)."""
    return FIRST_TREATMENT + datetime.timedelta(days=n)


def enroll(patient: Patient, user: Any, *, index: int = 1) -> Enrollment:
    for status in ("eligible", "consented", "on_study"):
        patient_set_status(patient=patient, status=status, acting_user=user, reason="test")
    trial = patient.trial_site.trial
    if trial.time_origin != "first_treatment":  # these tests count days from treatment
        trial.time_origin = "first_treatment"
        trial.save(update_fields=["time_origin"])
    return Enrollment.objects.create(
        patient=patient,
        trial=trial,
        arm=ArmFactory(trial=trial),
        enrolled_on=FIRST_TREATMENT - datetime.timedelta(days=3),
        first_treatment_date=FIRST_TREATMENT,
        randomization_number=f"R{index:03d}",
        stratum="",
        allocation_index=index,
    )


def lesion(organ: str = "liver", mm: float = 30, *, target: bool = True, **kw: Any) -> dict:
    return {"organ": organ, "diameter_mm": mm, "target": target, "nodal": False, **kw}


def node(mm: float = 20, *, target: bool = True, location: str = "", **kw: Any) -> dict:
    return {
        "organ": "lymph node",
        "location": location,
        "diameter_mm": mm,
        "target": target,
        "nodal": True,
        **kw,
    }


def counts() -> tuple[int, int, int]:
    return (
        TumorAssessment.objects.count(),
        Lesion.objects.count(),
        LesionMeasurement.objects.count(),
    )
