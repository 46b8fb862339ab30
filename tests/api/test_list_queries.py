"""Every list endpoint costs a constant number of SQL queries, whatever the page size
(Healthchecks ``test_list_checks.py``): each case names its queries.

The patient-record lists are keyset-paginated (``api.pagination.KeysetPagination``):
they have no count query, so they cost one query less than the page-number lists."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver

from patients.models import (
    AdverseEvent,
    AdverseEventCausality,
    Consent,
    Enrollment,
    Lesion,
    LesionMeasurement,
    Screening,
    TumorAssessment,
    Visit,
)
from patients.services import patient_register
from sites.roles import Role
from tests.api.helpers_api import clinical_records
from tests.factories import ArmFactory, SiteFactory, TrialFactory, TrialSiteFactory
from trials.models import (
    ConsentVersion,
    Intervention,
    ProtocolVersion,
    Trial,
    VisitDefinition,
)

ROWS = 22
D = datetime.date(2026, 3, 2)
BASE = "token, memberships (scope), count, page"
KEYSET = "token, memberships (scope), page"

#: (list url, persona, queries, what they are). Patient records as the coordinator of
#: site A (site-scoped filter), reference data as the data manager (sees everything).
CASES = [
    ("/api/v1/patients/", "coordinator_site_a", 4, f"{BASE} of patients with their sites"),
    ("/api/v1/screenings/", "coordinator_site_a", 3, f"{KEYSET} with patient and site"),
    ("/api/v1/consents/", "coordinator_site_a", 3, f"{KEYSET} with patient, site, version"),
    ("/api/v1/enrollments/", "coordinator_site_a", 3, f"{KEYSET} with patient, site, trial, arm"),
    ("/api/v1/visits/", "coordinator_site_a", 3, f"{KEYSET} with patient, site, definition"),
    (
        "/api/v1/adverse-events/",
        "coordinator_site_a",
        4,
        f"{KEYSET} with patient, site, enrollment and trial; causality with interventions",
    ),
    (
        "/api/v1/tumor-assessments/",
        "coordinator_site_a",
        4,
        f"{KEYSET} with patient and site; measurements with lesions",
    ),
    ("/api/v1/lesions/", "coordinator_site_a", 3, f"{KEYSET} with patient and site"),
    ("/api/v1/lab-results/", "coordinator_site_a", 3, f"{KEYSET} with patient and site"),
    ("/api/v1/vital-signs/", "coordinator_site_a", 3, f"{KEYSET} with patient and site"),
    ("/api/v1/exposures/", "coordinator_site_a", 3, f"{KEYSET} with patient and site"),
    (
        "/api/v1/procedures/",
        "coordinator_site_a",
        5,
        f"{KEYSET} with patient and site; treated lesions; complications",
    ),
    (
        "/api/v1/concomitant-medications/",
        "coordinator_site_a",
        3,
        f"{KEYSET} with patient and site",
    ),
    ("/api/v1/trials/", "data_manager", 4, BASE),
    ("/api/v1/arms/", "data_manager", 4, BASE),
    ("/api/v1/interventions/", "data_manager", 5, f"{BASE}; the arms of the page"),
    ("/api/v1/protocol-versions/", "data_manager", 4, BASE),
    ("/api/v1/consent-versions/", "data_manager", 4, BASE),
    ("/api/v1/visit-definitions/", "data_manager", 4, BASE),
    ("/api/v1/sites/", "data_manager", 4, BASE),
    ("/api/v1/trial-sites/", "data_manager", 4, f"{BASE} with sites"),
]
#: Monitoring lists, as the monitor (trial-wide scope) over rows on every patient.
MONITORING_CASES = [
    ("/api/v1/queries/", 5, f"{BASE} with patient, site, form; the messages of the page"),
    ("/api/v1/verifications/", 4, f"{BASE} with patient, site, form"),
    ("/api/v1/signatures/", 4, f"{BASE} with patient, site, form"),
    ("/api/v1/locks/", 4, f"{BASE} with trial, site and patient"),
]
#: In a blinded trial a user who may not see the arms costs one query more on the lists
#: that can reveal them: the page's emergency unblindings by this user.
BLINDED_CASES = [
    ("/api/v1/enrollments/", 4),
    ("/api/v1/adverse-events/", 5),
]


def _build_rows(trial: Any, trial_site_a: Any, coordinator_site_a: Any, register: Any) -> None:
    """ROWS of every record at site A (created directly: this is about reading)."""
    arm = ArmFactory(trial=trial, code="A", name="Arm A")
    drug = Intervention.objects.create(trial=trial, kind="drug", name="Lenvatinib")
    drug.arms.add(arm)
    version = ConsentVersion.objects.create(
        trial=trial,
        version="1",
        language="zh",
        ethics_approval_ref="EC",
        approved_on=D,
        effective_from=D,
    )
    for i in range(ROWS):
        other = TrialFactory()
        ArmFactory(trial=other)
        Intervention.objects.create(trial=other, kind="drug", name=f"Drug {i}").arms.add(
            ArmFactory(trial=other)
        )
        ProtocolVersion.objects.create(trial=other, version="1", effective_date=D)
        ConsentVersion.objects.create(
            trial=other,
            version="1",
            language="en",
            ethics_approval_ref="EC",
            approved_on=D,
            effective_from=D,
        )
        VisitDefinition.objects.create(trial=other, code="V1", name="Visit", day_offset=7)
        TrialSiteFactory(trial=other, site=SiteFactory())
        patient = register(
            trial_site_a,
            coordinator_site_a,
            id_document_type="passport",
            id_document_number=f"Q{i:07d}",
        )
        Screening.objects.create(patient=patient, screening_date=D, result="eligible")
        Consent.objects.create(
            patient=patient, consent_version=version, language="zh", consented_at=f"{D}T08:00Z"
        )
        Enrollment.objects.create(
            patient=patient,
            trial=trial,
            arm=arm,
            enrolled_on=D,
            randomization_number=f"R{i}",
            allocation_index=i,
        )
        visit = Visit.objects.create(patient=patient, scheduled_date=D)
        ae = AdverseEvent.objects.create(
            patient=patient,
            visit=visit,
            term="Fatigue",
            grade=1,
            onset_date=D,
            outcome="recovering",
            action_taken="none",
        )
        AdverseEventCausality.objects.create(
            adverse_event=ae, intervention=drug, relatedness="possible"
        )
        lesion = Lesion.objects.create(patient=patient, code="T1", organ="liver", baseline_mm=30)
        TumorAssessment.objects.create(
            patient=patient, is_baseline=True, assessment_date=D, method="CT"
        )
        followup = TumorAssessment.objects.create(
            patient=patient, assessment_date=D + datetime.timedelta(days=42), method="CT"
        )
        LesionMeasurement.objects.create(assessment=followup, lesion=lesion, diameter_mm=20)
        clinical_records(patient, visit, drug, lesion, D)


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The personas and ROWS of every record at site A, built ONCE for this module inside
    a transaction that is rolled back at its end (each test runs in a savepoint of it)."""
    from tests.conftest import PATIENT_DATA, _persona

    with django_db_blocker.unblock(), transaction.atomic():
        trial = TrialFactory(protocol_code="CRYO", title="Cryoablation trial")
        trial_site_a = TrialSiteFactory(trial=trial, site=SiteFactory(code="SA", name="Site A"))
        trial_site_b = TrialSiteFactory(
            trial=trial, site=SiteFactory(code="SB", name="Site B", clinic_weekdays=[1, 3])
        )
        personas = {
            "coordinator_site_a": _persona(
                "crc_a", Role.COORDINATOR, trial=trial, trial_site=trial_site_a
            ),
            "coordinator_site_b": _persona(
                "crc_b", Role.COORDINATOR, trial=trial, trial_site=trial_site_b
            ),
            "investigator_site_a": _persona(
                "pi_a", Role.SITE_INVESTIGATOR, trial=trial, trial_site=trial_site_a
            ),
            "lead_investigator": _persona("lead", Role.LEAD_INVESTIGATOR, trial=trial),
            "monitor": _persona("monitor", Role.MONITOR, trial=trial),
            "data_manager": _persona("dm", Role.DATA_MANAGER),
            "administrator": _persona("admin", Role.ADMINISTRATOR),
        }

        def register(trial_site: Any, user: Any, **overrides: Any) -> Any:
            return patient_register(
                trial_site=trial_site, acting_user=user, **{**PATIENT_DATA, **overrides}
            )

        for staff in (personas["data_manager"], personas["administrator"]):
            staff.is_staff = True
            staff.save()
        _build_rows(trial, trial_site_a, personas["coordinator_site_a"], register)
        yield {"trial": trial, "personas": personas}
        transaction.set_rollback(True)


@pytest.fixture
def all_personas(db: Any, world: Any) -> dict[str, Any]:
    return world["personas"]


@pytest.fixture
def rows(db: Any, world: Any) -> Any:
    return world["trial"]


@pytest.fixture
def trial(db: Any, world: Any) -> Any:
    return world["trial"]


@pytest.fixture
def coordinator_site_a(all_personas: dict[str, Any]) -> Any:
    return all_personas["coordinator_site_a"]


@pytest.fixture
def lead_investigator(all_personas: dict[str, Any]) -> Any:
    return all_personas["lead_investigator"]


def queries_for(api: Any, url: str, page_size: int) -> list[str]:
    api.get(url)  # warm: token last-used stamp, content types
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(f"{url}?page_size={page_size}")
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == page_size, url
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize(("url", "persona", "expected", "what"), CASES)
def test_list_query_count_is_constant(api_for, all_personas, rows, url, persona, expected, what):
    api = api_for(all_personas[persona])
    small = queries_for(api, url, 2)
    large = queries_for(api, url, 20)
    assert len(small) == len(large) == expected, (what, [q[:90] for q in large])


@pytest.mark.parametrize(("url", "expected", "what"), MONITORING_CASES)
def test_monitoring_list_query_count_is_constant(api_for, monitor, rows, url, expected, what):
    from monitoring.models import QueryMessage

    from ..monitoring.helpers_monitoring import monitoring_objects

    for visit in Visit.objects.select_related("patient__trial_site__trial"):
        query = monitoring_objects(visit.patient, visit)["monitoring.dataquery"]
        QueryMessage.objects.create(query=query, action="raise", text="?")
    api = api_for(monitor)
    small = queries_for(api, url, 2)
    large = queries_for(api, url, 20)
    assert len(small) == len(large) == expected, (what, [q[:90] for q in large])


@pytest.mark.parametrize(("url", "expected"), BLINDED_CASES)
def test_blinded_list_query_count_is_constant(api_for, coordinator_site_a, rows, url, expected):
    Trial.objects.filter(pk=rows.pk).update(blinding="blinded")
    api = api_for(coordinator_site_a)
    small = queries_for(api, url, 2)
    large = queries_for(api, url, 20)
    assert len(small) == len(large) == expected, [q[:90] for q in large]


def test_every_list_endpoint_is_pinned():
    """A new list endpoint must get a case here."""
    from api.urls import router

    pinned = {url for url, *_rest in CASES} | {url for url, *_rest in MONITORING_CASES}
    listed = {
        f"/api/v1/{prefix}/"
        for prefix, viewset, _basename in router.registry
        if hasattr(viewset, "list") and not prefix.startswith("registry/")
    }  # the registry's lists are pinned in tests/registry/test_api.py
    assert get_resolver()  # the URLconf loads
    assert listed - pinned == {"/api/v1/exports/"}, listed - pinned  # pinned below


def test_export_list_query_count_is_constant(api_for, trial, lead_investigator):
    """Export jobs are the requester's own: token, memberships (scope), count, page of
    jobs with their trials."""
    from exports.models import ExportJob

    for _i in range(ROWS):
        ExportJob.objects.create(
            trial=trial, requested_by=lead_investigator, requested_by_username="lead", kind="csv"
        )
    api = api_for(lead_investigator)
    small = queries_for(api, "/api/v1/exports/", 2)
    large = queries_for(api, "/api/v1/exports/", 20)
    assert len(small) == len(large) == 4, [q[:90] for q in large]
