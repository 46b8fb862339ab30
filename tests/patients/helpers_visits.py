"""A protocol with a visit schedule and an arm of three interventions, and an enrolled
patient, for the visit, status and adverse-event tests.

Enrollment is created directly (the enrollment workflow is tested on its own) and the
schedule generated from it, as ``patient_enroll`` does.
"""

from __future__ import annotations

import datetime
from typing import Any

from patients.models import Enrollment, Patient, Visit
from patients.services import patient_set_status
from patients.services.visits import patient_local_today, visit_schedule_generate
from tests.factories import ArmFactory
from trials.models import Intervention, VisitDefinition

MON, TUE, WED, THU, FRI = range(5)
DAY = datetime.timedelta(days=1)


def enrollment_monday(patient: Patient) -> datetime.date:
    """A Monday eight weeks before this week's: the early visits are past, W12 is ahead."""
    today = patient_local_today(patient)
    return today - datetime.timedelta(days=today.weekday() + 56)


def setup_protocol(trial: Any) -> dict[str, Any]:
    arm = ArmFactory(trial=trial, code="A", name="Cryoablation + lenvatinib + toripalimab")
    other = ArmFactory(trial=trial, code="B", name="Lenvatinib + GEMOX")
    interventions = {}
    for kind, name in (
        (Intervention.Kind.PROCEDURE, "Cryoablation"),
        (Intervention.Kind.DRUG, "Lenvatinib"),
        (Intervention.Kind.BIOLOGICAL, "Toripalimab"),
    ):
        interventions[name] = Intervention.objects.create(trial=trial, kind=kind, name=name)
        interventions[name].arms.add(arm)
    interventions["Lenvatinib"].arms.add(other)
    interventions["GEMOX"] = Intervention.objects.create(
        trial=trial, kind=Intervention.Kind.DRUG, name="GEMOX"
    )
    interventions["GEMOX"].arms.add(other)
    definitions = {}
    for order, (code, name, day, before, after, tumor) in enumerate(
        (
            ("D0", "Baseline", 0, 0, 3, True),
            ("W3", "Week 3", 21, 3, 3, False),
            ("D25", "Day 25 labs", 25, 3, 3, False),
            ("W12", "Week 12", 84, 7, 7, True),
        )
    ):
        definitions[code] = VisitDefinition.objects.create(
            trial=trial,
            code=code,
            name=name,
            day_offset=day,
            window_before=before,
            window_after=after,
            tumor_assessment=tumor,
            order=order,
        )
    definitions["FT4"] = VisitDefinition.objects.create(
        trial=trial,
        code="FT4",
        name="4 weeks after first treatment",
        anchor=VisitDefinition.Anchor.FIRST_TREATMENT,
        day_offset=28,
        order=9,
    )
    return {"arm": arm, "other_arm": other, "interventions": interventions, "defs": definitions}


def enroll(
    patient: Patient,
    user: Any,
    arm: Any,
    *,
    enrolled_on: datetime.date | None = None,
    number: str = "R001",
) -> Enrollment:
    enrolled_on = enrolled_on or enrollment_monday(patient)
    # Test setup only: registration is dated before the enrollment so adverse events with
    # onsets in the past weeks are inside the data-collection period.
    Patient.objects.filter(pk=patient.pk).update(
        registered_at=datetime.datetime.combine(
            enrolled_on - 7 * DAY, datetime.time(9, 0), tzinfo=datetime.UTC
        )
    )
    patient.refresh_from_db()
    for status in ("eligible", "consented", "on_study"):
        patient_set_status(patient=patient, status=status, acting_user=user, reason="test setup")
    enrollment = Enrollment.objects.create(
        patient=patient,
        trial=arm.trial,
        arm=arm,
        enrolled_on=enrolled_on,
        randomization_number=number,
        stratum="all",
        allocation_index=int(number[1:]),
    )
    visit_schedule_generate(enrollment=enrollment, acting_user=user)
    patient.refresh_from_db()
    return enrollment


def visit(patient: Patient, code: str) -> Visit:
    return Visit.objects.get(patient=patient, definition__code=code)


def submit_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "vital_status": "alive",
        "ecog": 1,
        "ae_review_done": True,
        "notes": "Well, mild fatigue.",
        "deviation_reason": "",
    }
    data.update(overrides)
    return data


def as_post(data: dict[str, Any]) -> dict[str, Any]:
    """Service keyword data as a browser would post it."""
    out = {}
    for key, value in data.items():
        if value is None or value is False:
            continue
        if value is True:
            out[key] = "on"
        elif isinstance(value, datetime.date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out
