"""Building blocks for the consent / enrollment / unblinding tests.

The screening workflow is someone else's: these helpers create the state a screening
leaves behind (an eligible Screening row and the patient's status) directly.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from patients.models import Enrollment, Patient, Screening, Visit
from patients.services import consent_record, patient_set_status
from tests.factories import ArmFactory
from trials.models import ConsentVersion, VisitDefinition

TODAY = datetime.date.today()
DAYS = datetime.timedelta


def consent_version(trial: Any, version: str = "1.0", language: str = "zh", **kw: Any) -> Any:
    data = dict(
        trial=trial,
        version=version,
        language=language,
        ethics_approval_ref=f"EC-ICF-{version}-{language}",
        approved_on=TODAY - DAYS(200),
        effective_from=TODAY - DAYS(190),
        requires_reconsent=True,
    )
    data.update(kw)
    return ConsentVersion.objects.create(**data)


def make_eligible(patient: Patient, user: Any, *, ecog: int | None = 0, days_ago: int = 5) -> Any:
    data = {} if ecog is None else {"ecog": ecog}
    screening = Screening.objects.create(
        patient=patient,
        screening_date=TODAY - DAYS(days_ago),
        data=data,
        result=Screening.Result.ELIGIBLE,
        screened_by=user,
        screened_by_username=user.username,
    )
    patient_set_status(
        patient=patient, status=Patient.Status.ELIGIBLE, acting_user=user, reason="Screening"
    )
    return screening


def make_screen_failed(patient: Patient, user: Any) -> Any:
    screening = Screening.objects.create(
        patient=patient,
        screening_date=TODAY - DAYS(5),
        data={"ecog": 3},
        result=Screening.Result.NOT_ELIGIBLE,
        failed_codes=["INC-ECOG"],
    )
    patient_set_status(
        patient=patient, status=Patient.Status.SCREEN_FAILED, acting_user=user, reason="Screening"
    )
    return screening


def give_consent(patient: Patient, user: Any, version: Any, **kw: Any) -> Any:
    data = dict(
        consented_at=timezone.now() - DAYS(3),
        language=patient.preferred_language,
        personal_information_consent=True,
    )
    data.update(kw)
    return consent_record(patient=patient, acting_user=user, consent_version=version, **data)


def arms(trial: Any, **ratios: int) -> dict[str, Any]:
    """``arms(trial, A=1, B=1)`` -> {"A": Arm, "B": Arm}."""
    return {
        code: ArmFactory(trial=trial, code=code, name=f"Arm {code} name", allocation_ratio=r)
        for code, r in ratios.items()
    }


def visit_definitions(trial: Any) -> None:
    VisitDefinition.objects.create(
        trial=trial, code="BASE", name="Baseline", day_offset=0, window_before=3, window_after=3
    )
    VisitDefinition.objects.create(
        trial=trial,
        code="C1D1",
        name="Cycle 1 day 1",
        anchor=VisitDefinition.Anchor.FIRST_TREATMENT,
        day_offset=0,
        window_before=0,
        window_after=3,
    )
    VisitDefinition.objects.create(
        trial=trial,
        code="W6",
        name="Week 6 imaging",
        anchor=VisitDefinition.Anchor.FIRST_TREATMENT,
        day_offset=42,
        window_before=7,
        window_after=7,
        tumor_assessment=True,
    )


_counter = {"n": 0}


def ready_patient(
    register: Any, trial_site: Any, user: Any, version: Any, *, ecog: int | None = 0, **kw: Any
) -> Patient:
    """A registered, eligible, consented patient (passport numbers keep them distinct)."""
    _counter["n"] += 1
    patient = register(
        trial_site,
        user,
        id_document_type="passport",
        id_document_number=f"E{_counter['n']:08d}",
        **kw,
    )
    make_eligible(patient, user, ecog=ecog)
    give_consent(patient, user, version)
    patient.refresh_from_db()
    return patient


def nothing_written(patient: Patient, status: str) -> None:
    patient.refresh_from_db()
    assert patient.status == status
    assert not Enrollment.objects.filter(patient=patient).exists()
    assert not Visit.objects.filter(patient=patient).exists()
