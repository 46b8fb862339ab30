"""Enrolled patients with imaging, for the dashboard tests.

Rows are created directly (test set-up, not the entry workflow, which has its own tests);
each patient's stored outcome then comes from the real service, ``response_recompute``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from patients.models import (
    Enrollment,
    Lesion,
    LesionMeasurement,
    Patient,
    ResponseSummary,
    TumorAssessment,
)
from patients.services.response import response_recompute
from tests.factories import ArmFactory

INTERVAL = 42  # days between scans


def day0() -> datetime.date:
    """Day 0 of every test patient: far enough back for ten scans before today."""
    return timezone.localdate() - datetime.timedelta(days=500)


def arms(trial: Any) -> tuple[Any, Any]:
    return ArmFactory(trial=trial, code="A", name="Cryo + lenvatinib + PD-1"), ArmFactory(
        trial=trial, code="B", name="Lenvatinib + PD-1", is_control=True
    )


def make_patient(
    trial_site: Any,
    arm: Any,
    *,
    changes: Sequence[float] = (-10, -12),
    baseline_mm: float = 100.0,
    death_day: int | None = None,
    alive_day: int | None = None,
    enrolled_offset: int = 0,
) -> Patient:
    """An enrolled patient with one 100 mm target lesion and follow-ups every 6 weeks at
    ``baseline * (1 + change/100)``."""
    seq = Patient.objects.filter(trial_site=trial_site).count() + 1
    code = f"{trial_site.trial.protocol_code}-{trial_site.site.code}-{seq:04d}"
    start = day0() + datetime.timedelta(days=enrolled_offset)
    patient = Patient.objects.create(
        trial_site=trial_site,
        subject_seq=seq,
        subject_id=code,
        status=Patient.Status.ON_STUDY,
        full_name=f"Test patient {code}",
        id_document_type="passport",
        id_document_number=f"E{abs(hash(code)) % 10**8:08d}",
        id_document_hash=code,
        sex="F",
        birth_date=datetime.date(1960, 1, 1),
        nationality="CN",
        death_date=start + datetime.timedelta(days=death_day) if death_day else None,
        last_known_alive_date=start + datetime.timedelta(days=alive_day) if alive_day else None,
    )
    Enrollment.objects.create(
        patient=patient,
        trial=trial_site.trial,
        arm=arm,
        enrolled_on=start,
        first_treatment_date=start,
        randomization_number=f"R-{code}",
        allocation_index=Enrollment.objects.filter(trial=trial_site.trial).count(),
    )
    lesion = Lesion.objects.create(
        patient=patient, code="T1", organ="liver", baseline_mm=baseline_mm, target=True
    )
    TumorAssessment.objects.create(
        patient=patient,
        is_baseline=True,
        assessment_date=start - datetime.timedelta(days=3),
        method="CT",
        non_target_status="NONE",
    )
    for i, change in enumerate(changes, start=1):
        scan = TumorAssessment.objects.create(
            patient=patient,
            assessment_date=start + datetime.timedelta(days=INTERVAL * i),
            method="CT",
            non_target_status="NONE",
        )
        LesionMeasurement.objects.create(
            assessment=scan, lesion=lesion, diameter_mm=round(baseline_mm * (1 + change / 100), 1)
        )
    response_recompute(patient=patient)
    return patient


RESPONDER = (-40, -45, -50)
STABLE = (-10, -5, 0)
PROGRESSOR = (25, 40)


def seed(trial: Any, site_a: Any, site_b: Any, *, per_site: int = 3) -> dict[str, list[Patient]]:
    """``per_site`` patients at each of two sites, both arms, every kind of outcome."""
    arm_a, arm_b = arms(trial)
    kinds = [
        (arm_a, RESPONDER, None),
        (arm_b, STABLE, None),
        (arm_a, PROGRESSOR, 120),
        (arm_b, RESPONDER, None),
        (arm_a, STABLE, 300),
        (arm_b, PROGRESSOR, None),
    ]
    out: dict[str, list[Patient]] = {site_a.site.code: [], site_b.site.code: []}
    for ts in (site_a, site_b):
        for i in range(per_site):
            arm, changes, death = kinds[i % len(kinds)]
            out[ts.site.code].append(
                make_patient(
                    ts,
                    arm,
                    changes=changes,
                    death_day=death,
                    alive_day=None if death else 200 + 10 * i,
                    enrolled_offset=(i * 7) % 60,
                )
            )
    assert ResponseSummary.objects.count() == sum(len(v) for v in out.values())
    return out
