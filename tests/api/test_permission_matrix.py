"""Every API endpoint × every persona, generated from the router: a route added tomorrow
is in the matrix the day it is added.

For each route (method + URL) the expected status per persona comes from a small table
by kind of route. Responses must not carry the other site's data, and a request that
is refused (or invalid) must not change the count of any clinical record or history row.
Write routes are sent an empty body: roles that may act get past scoping and the
permission check and are stopped by validation (400); the rest are refused before it.
Each request runs in a rolled-back savepoint so the personas meet the same state.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api.urls import router

from .helpers_api import REGISTER, counts, history_counts, site_records

PERSONAS = (
    "anonymous",
    "coordinator_site_a",
    "coordinator_site_b",
    "investigator_site_a",
    "lead_investigator",
    "monitor",
    "data_manager",
)
#: Expected status per persona (in PERSONAS order) by kind of route. Objects are site A's.
EXPECTED: dict[str, tuple[int, ...]] = {
    "list": (401, 200, 200, 200, 200, 200, 200),
    "detail_site": (401, 200, 404, 200, 200, 200, 200),
    "detail_trial": (401, 200, 200, 200, 200, 200, 200),
    "statistics": (401, 403, 403, 200, 200, 200, 200),
    "write_site": (401, 400, 404, 400, 403, 403, 403),
    # site B's coordinator names site A's trial-site: not found among theirs (404)
    "create_patient": (401, 201, 404, 201, 403, 403, 403),
    "create_export": (401, 400, 400, 400, 400, 400, 400),
    # Identity look-up: only roles that may see identity (the empty body is then a 400).
    "identity_lookup": (401, 400, 400, 400, 403, 400, 403),
    # monitoring: the role is checked before the body (an empty body is then a 400)
    "answer_query": (401, 400, 404, 400, 403, 403, 403),
    "manage_query": (401, 403, 404, 403, 403, 400, 400),
    "close_query": (401, 403, 404, 403, 403, 200, 200),  # an empty note is allowed
    "create_query": (401, 403, 403, 403, 403, 400, 400),
    "create_verification": (401, 403, 403, 403, 403, 400, 403),
    "create_signature": (401, 403, 403, 400, 403, 403, 403),
    "create_lock": (401, 403, 403, 403, 403, 403, 400),
    "release_lock": (401, 403, 404, 403, 403, 403, 400),
    # clinical records: the patient is in the body; roles without data entry are refused
    # before the input is read, the others get 400 naming the missing fields
    "create_clinical": (401, 400, 400, 400, 403, 403, 403),
}
MONITORING_WRITES = {
    ("queries", "answer"): "answer_query",
    ("queries", "close"): "close_query",
    ("queries", "cancel"): "manage_query",
    ("queries", "reopen"): "manage_query",
    ("queries", "create"): "create_query",
    ("verifications", "create"): "create_verification",
    ("signatures", "create"): "create_signature",
    ("locks", "create"): "create_lock",
    ("locks", "release"): "release_lock",
}
#: Collections that take a POST with the patient in the body.
CLINICAL_CREATE = {
    "lab-results",
    "vital-signs",
    "exposures",
    "procedures",
    "concomitant-medications",
}
#: Reference data shared by every site of the trial.
TRIAL_LEVEL = {
    "trials",
    "arms",
    "interventions",
    "protocol-versions",
    "consent-versions",
    "visit-definitions",
}
#: Exports are personal (their own scoping, tested in tests/exports): list and create only.
SKIPPED = {("exports", "retrieve"), ("exports", "download")}


def router_routes() -> list[tuple[str, str, str, bool, str]]:
    """(prefix, url name, method, detail, action) of every routed operation."""
    found = []
    for prefix, viewset, basename in router.registry:
        if prefix.startswith("registry/"):
            continue  # center-scoped, with its own personas: tests/registry/test_api.py
        for route in router.get_routes(viewset):
            for method, action in route.mapping.items():
                if not hasattr(viewset, action) or method not in viewset.http_method_names:
                    continue
                if (prefix, action) in SKIPPED:
                    continue
                name = route.name.format(basename=basename)
                found.append((prefix, name, method, route.detail, action))
    return found


def kind_of(prefix: str, method: str, detail: bool, action: str) -> str:
    if method == "get":
        if not detail:
            return "list"
        if action == "statistics":
            return "statistics"
        return "detail_trial" if prefix in TRIAL_LEVEL else "detail_site"
    if prefix == "patients" and action == "create":
        return "create_patient"
    if prefix == "patients" and action == "lookup":
        return "identity_lookup"
    if prefix == "exports":
        return "create_export"
    if (prefix, action) in MONITORING_WRITES:
        return MONITORING_WRITES[(prefix, action)]
    if prefix in CLINICAL_CREATE and action == "create":
        return "create_clinical"
    return "write_site"


ROUTES = router_routes()


@pytest.fixture
def world(all_personas, patient_a, patient_b, trial_site_a) -> dict[str, Any]:
    return {
        "a": site_records(patient_a, tag="A"),
        "b": site_records(patient_b, tag="B"),
        "personas": all_personas,
    }


@pytest.fixture
def clients(world, api_for) -> dict[str, APIClient]:
    made = {"anonymous": APIClient()}
    for persona in PERSONAS[1:]:
        made[persona] = api_for(world["personas"][persona])
    return made


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch):
    # Hundreds of requests in a few seconds: throttling has its own test.
    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)


def request(client: APIClient, method: str, url: str, body: Any) -> Any:
    with transaction.atomic():
        if method == "get":
            response = client.get(url)
        else:
            response = getattr(client, method)(url, body, format="json")
        transaction.set_rollback(True)
    return response


def assert_no_leak(persona: str, content: str, world: dict[str, Any]) -> None:
    if persona in ("coordinator_site_a", "investigator_site_a"):
        other = world["b"]["patients"]
        assert other.subject_id not in content and '"SB"' not in content
    if persona == "coordinator_site_b":
        other = world["a"]["patients"]
        assert other.subject_id not in content and '"SA"' not in content


@pytest.mark.parametrize(
    ("prefix", "name", "method", "detail", "action"),
    ROUTES,
    ids=[f"{m.upper()} {n}" for _p, n, m, _d, _a in ROUTES],
)
def test_route_for_every_persona(world, clients, prefix, name, method, detail, action):
    kwargs = {"pk": world["a"][prefix].pk} if detail else {}
    url = reverse(f"v1:{name}", kwargs=kwargs)
    kind = kind_of(prefix, method, detail, action)
    body: dict[str, Any] = {}
    if kind == "create_patient":
        body = {
            **REGISTER,
            "id_document_type": "passport",
            "id_document_number": "G12345678",
            "trial_site": world["a"]["trial-sites"].pk,
        }
    for persona, expected in zip(PERSONAS, EXPECTED[kind], strict=True):
        rows, history = counts(), history_counts()
        response = request(clients[persona], method, url, body)
        assert response.status_code == expected, (persona, method, url, response.content[:300])
        if response.status_code == 200:
            assert_no_leak(persona, response.content.decode(), world)
        if response.status_code >= 400:
            assert counts() == rows and history_counts() == history, (persona, url)
        assert counts() == rows  # successful writes were rolled back with their savepoint


def test_history_for_every_persona(world, clients):
    for label, key in (("patients.patient", "patients"), ("patients.visit", "visits")):
        url = reverse("v1:history", kwargs={"label": label, "pk": world["a"][key].pk})
        for persona, expected in zip(PERSONAS, EXPECTED["detail_site"], strict=True):
            response = clients[persona].get(url)
            assert response.status_code == expected, (persona, url)


def test_lists_show_only_the_personas_sites(world, clients):
    """Site roles see their own site's records only; trial-wide roles see both sites."""
    for prefix in (
        "patients",
        "screenings",
        "consents",
        "enrollments",
        "visits",
        "lesions",
        "queries",
        "verifications",
        "signatures",
        "locks",
        *sorted(CLINICAL_CREATE),
    ):
        url = reverse(f"v1:{router_basename(prefix)}-list")
        seen = {
            persona: {row["id"] for row in clients[persona].get(url).json()["results"]}
            for persona in PERSONAS[1:]
        }
        a, b = world["a"][prefix].pk, world["b"][prefix].pk
        assert a in seen["coordinator_site_a"] and b not in seen["coordinator_site_a"]
        assert b in seen["coordinator_site_b"] and a not in seen["coordinator_site_b"]
        assert a in seen["investigator_site_a"] and b not in seen["investigator_site_a"]
        for persona in ("lead_investigator", "monitor", "data_manager"):
            assert {a, b} <= seen[persona], (prefix, persona)


def router_basename(prefix: str) -> str:
    return next(basename for p, _v, basename in router.registry if p == prefix)


def test_matrix_covers_every_workflow():
    names = {name for _p, name, _m, _d, _a in ROUTES}
    for expected in (
        "patient-screen",
        "patient-consents",
        "patient-enroll",
        "patient-withdraw",
        "patient-death",
        "patient-add-visit",
        "patient-add-adverse-event",
        "patient-baseline-assessment",
        "patient-followup-assessment",
        "visit-submit",
        "visit-reschedule",
        "visit-missed",
        "consent-withdraw",
        "enrollment-first-treatment",
        "trial-statistics",
        "adverseevent-detail",
        "tumorassessment-detail",
    ):
        assert expected in names, expected
