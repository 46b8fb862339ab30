"""A trial ready for the whole workflow through the API (criteria, consent versions, arms
with interventions, a visit schedule), and records at a site for list/permission tests."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from access.blinding import ALLOCATION_FIELDS
from clinical.models import (
    ConcomitantMedication,
    Exposure,
    LabResult,
    Procedure,
    ProcedureLesion,
    VitalSigns,
)
from docs.api_example import EXAMPLE_ANSWERS
from patients.models import (
    AdverseEvent,
    AdverseEventCausality,
    Consent,
    Enrollment,
    Lesion,
    LesionMeasurement,
    Patient,
    Screening,
    TumorAssessment,
    UnblindingEvent,
    Visit,
)
from trials.models import ConsentVersion, ProtocolVersion
from trials.services import criteria_load_defaults

from ..monitoring.helpers_monitoring import monitoring_objects
from ..patients.helpers_visits import setup_protocol

TODAY = datetime.date.today()

#: Every default iCCA criterion met (JSON as a client sends it): the README example's.
FULL_ANSWERS: dict[str, Any] = dict(EXAMPLE_ANSWERS)

#: A resident patient, as posted to ``/api/v1/patients/``.
REGISTER: dict[str, Any] = {
    "full_name": "王芳",
    "sex": "F",
    "birth_date": "1961-03-14",
    "nationality": "CN",
    "is_expatriate": False,
    "id_document_type": "resident_id",
    "id_document_number": "11010519491231002X",
    "preferred_language": "zh",
}

#: Every model a workflow writes: refused requests must leave all these counts alone.
CLINICAL_MODELS = (
    LabResult,
    VitalSigns,
    Exposure,
    Procedure,
    ProcedureLesion,
    ConcomitantMedication,
    Patient,
    Screening,
    Consent,
    Enrollment,
    Visit,
    AdverseEvent,
    AdverseEventCausality,
    TumorAssessment,
    Lesion,
    LesionMeasurement,
    UnblindingEvent,
)


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in CLINICAL_MODELS}


def history_counts() -> dict[str, int]:
    return {m.__name__: m.history.count() for m in CLINICAL_MODELS}


def ready_trial(trial: Any) -> dict[str, Any]:
    """Criteria, a Chinese and an English consent version, two arms with interventions and
    a visit schedule (D0, W3, D25, W12, FT4) on ``trial``."""
    version = ProtocolVersion.objects.create(
        trial=trial, version="1.0", effective_date=datetime.date(2025, 1, 1)
    )
    criteria_load_defaults(protocol_version=version, acting_user=None)
    consent_versions = {
        lang: ConsentVersion.objects.create(
            trial=trial,
            version="1.0",
            language=lang,
            ethics_approval_ref=f"EC-ICF-1.0-{lang}",
            approved_on=TODAY - datetime.timedelta(days=200),
            effective_from=TODAY - datetime.timedelta(days=190),
        )
        for lang in ("zh", "en")
    }
    protocol = setup_protocol(trial)
    return {"protocol_version": version, "consent_versions": consent_versions, **protocol}


def consent_payload(version: Any) -> dict[str, Any]:
    return {
        "consent_version": version.pk,
        "consented_at": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(),
        "language": "zh",
        "personal_information_consent": True,
    }


def site_records(patient: Any, *, tag: str) -> dict[str, Any]:
    """One record of every patient-level model for ``patient`` (created directly: the
    permission matrix is about who reaches them, not about the workflows)."""
    from trials.models import Arm, Intervention, VisitDefinition

    trial = patient.trial_site.trial
    day = datetime.date(2026, 3, 2)
    arm = Arm.objects.create(trial=trial, code=f"M{tag}", name=f"Matrix arm {tag}")
    intervention = Intervention.objects.create(trial=trial, kind="drug", name=f"Drug {tag}")
    intervention.arms.add(arm)
    version = ConsentVersion.objects.create(
        trial=trial,
        version=f"M{tag}",
        language="zh",
        ethics_approval_ref="EC",
        approved_on=day,
        effective_from=day,
    )
    definition = VisitDefinition.objects.create(
        trial=trial, code=f"M{tag}", name=f"Visit {tag}", day_offset=7
    )
    protocol = ProtocolVersion.objects.create(trial=trial, version=f"M{tag}", effective_date=day)
    screening = Screening.objects.create(patient=patient, screening_date=day, result="eligible")
    consent = Consent.objects.create(
        patient=patient, consent_version=version, language="zh", consented_at=f"{day}T08:00Z"
    )
    enrollment = Enrollment.objects.create(
        patient=patient,
        trial=trial,
        arm=arm,
        enrolled_on=day,
        randomization_number=f"M-{tag}",
        allocation_index=0,
        stratum=tag,
    )
    visit = Visit.objects.create(patient=patient, definition=definition, scheduled_date=day)
    event = AdverseEvent.objects.create(
        patient=patient,
        term="Fatigue",
        grade=1,
        onset_date=day,
        outcome="recovering",
        action_taken="none",
    )
    AdverseEventCausality.objects.create(
        adverse_event=event, intervention=intervention, relatedness="possible"
    )
    assessment = TumorAssessment.objects.create(
        patient=patient, is_baseline=True, assessment_date=day, method="CT"
    )
    lesion = Lesion.objects.create(patient=patient, code="T1", organ="liver", baseline_mm=30)
    monitoring = monitoring_objects(patient, visit)
    clinical = clinical_records(patient, visit, intervention, lesion, day)
    return {
        "queries": monitoring["monitoring.dataquery"],
        "verifications": monitoring["monitoring.sourceverification"],
        "signatures": monitoring["monitoring.signature"],
        "locks": monitoring["monitoring.lock"],
        **clinical,
        "patients": patient,
        "screenings": screening,
        "consents": consent,
        "enrollments": enrollment,
        "visits": visit,
        "adverse-events": event,
        "tumor-assessments": assessment,
        "lesions": lesion,
        "trial-sites": patient.trial_site,
        "sites": patient.trial_site.site,
        "trials": trial,
        "arms": arm,
        "interventions": intervention,
        "protocol-versions": protocol,
        "consent-versions": version,
        "visit-definitions": definition,
    }


def clinical_records(patient: Any, visit: Any, intervention: Any, lesion: Any, day: Any) -> dict:
    """One record of each clinical-data model (created directly, as above)."""
    lab = LabResult.objects.create(
        patient=patient,
        visit=visit,
        panel="haematology",
        analyte="platelets",
        collected_on=day,
        value=40,
        unit="10*9/L",
        value_canonical=40,
        ctcae_grade=3,
    )
    vitals = VitalSigns.objects.create(
        patient=patient, visit=visit, measured_on=day, systolic_bp=150, diastolic_bp=95
    )
    exposure = Exposure.objects.create(
        patient=patient, intervention=intervention, kind="administration", start_date=day, dose_mg=8
    )
    procedure = Procedure.objects.create(
        patient=patient, kind="cryoablation", procedure_date=day, approach="percutaneous_ct"
    )
    ProcedureLesion.objects.create(procedure=procedure, lesion=lesion)
    conmed = ConcomitantMedication.objects.create(
        patient=patient, generic_name="amlodipine", indication="hypertension", start_date=day
    )
    return {
        "lab-results": lab,
        "vital-signs": vitals,
        "exposures": exposure,
        "procedures": procedure,
        "concomitant-medications": conmed,
    }


def allocation_leaks(data: Any, path: str = "") -> list[str]:
    """Every place in a JSON body that shows an allocation detail: a non-null arm or
    sequence field (``access.blinding.ALLOCATION_FIELDS``), an intervention's arms, a
    visible arm flag, arm-level figures."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}"
            if (
                key in ALLOCATION_FIELDS
                and value is not None
                or key == "arms"
                and value is not None
                and not isinstance(value, dict)
                or key in ("arm_visible", "arm_level")
                and value
            ):
                found.append(f"{where}={value!r}")
            elif key == "by_arm" and value:
                found.append(f"{where} has rows")
            else:
                found.extend(allocation_leaks(value, where))
    elif isinstance(data, list):
        for n, item in enumerate(data):
            found.extend(allocation_leaks(item, f"{path}[{n}]"))
    return found
