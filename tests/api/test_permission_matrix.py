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
from patients.models import Lesion
from trials.models import Trial

from .helpers_api import REGISTER, allocation_leaks, counts, history_counts, site_records

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


def request(client: APIClient, method: str, url: str, body: Any, *, if_refused: Any = None) -> Any:
    """One request in a savepoint that is rolled back. ``if_refused(response)`` runs for a
    4xx/5xx answer INSIDE the savepoint, before the rollback, so "nothing was written"
    is checked while a write would still be visible (after the rollback it always holds)."""
    with transaction.atomic():
        if method == "get":
            response = client.get(url)
        else:
            response = getattr(client, method)(url, body, format="json")
        if if_refused is not None and response.status_code >= 400:
            if_refused(response)
        transaction.set_rollback(True)
    return response


def other_site_markers(world: dict[str, Any], other: str) -> list[str]:
    """What another site's data looks like in a response: its patient's subject id and
    identity (name, document number, contacts), its site's code and name, the username of
    its staff."""
    patient = world[other]["patients"]
    site = world[other]["sites"]
    markers = [
        patient.subject_id,
        f'"{site.code}"',
        str(site.name),
        *(
            str(getattr(patient, f))
            for f in ("full_name", "id_document_number")
            if getattr(patient, f)
        ),
        *(str(v) for v in (patient.phone, patient.email) if v),
    ]
    persona = "coordinator_site_b" if other == "b" else "coordinator_site_a"
    markers.append(f'"{world["personas"][persona].get_username()}"')
    return markers


def assert_no_leak(persona: str, content: str, world: dict[str, Any]) -> None:
    other = {"coordinator_site_a": "b", "investigator_site_a": "b", "coordinator_site_b": "a"}
    if persona in other:
        for marker in other_site_markers(world, other[persona]):
            assert marker not in content, (persona, marker)


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

        def nothing_written(response: Any, rows=rows, history=history, persona=persona) -> None:
            assert counts() == rows and history_counts() == history, (persona, url)

        response = request(clients[persona], method, url, body, if_refused=nothing_written)
        assert response.status_code == expected, (persona, method, url, response.content[:300])
        if response.status_code == 200:
            assert_no_leak(persona, response.content.decode(), world)
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


def test_the_nothing_written_check_runs_before_the_rollback(world):
    """A refused request that nevertheless wrote a row is caught: the check runs inside the
    savepoint (after ``set_rollback`` the count is always back to what it was)."""
    from rest_framework.response import Response

    patient = world["a"]["patients"]

    class WritesThenRefuses:
        def post(self, url: str, body: Any, format: str) -> Response:
            Lesion.objects.create(patient=patient, code="T9", organ="liver", baseline_mm=12)
            return Response(status=400)

    rows, history = counts(), history_counts()

    def nothing_written(response: Any) -> None:
        assert counts() == rows and history_counts() == history

    with pytest.raises(AssertionError):
        request(WritesThenRefuses(), "post", "/x/", {}, if_refused=nothing_written)
    assert counts() == rows  # and the savepoint still rolled the write back


# --- the same routes in a blinded trial ----------------------------------------------

#: Personas without the unblinded view: the site roles, and the monitor.
BLINDED_PERSONAS = ("coordinator_site_a", "coordinator_site_b", "investigator_site_a", "monitor")
GET_ROUTES = [r for r in ROUTES if r[2] == "get"]


@pytest.fixture
def blinded_world(world):
    trial = world["a"]["trials"]
    trial.blinding = Trial.Blinding.BLINDED
    trial.randomization_block_sizes = "2,4,8"
    trial.save()
    for tag in ("a", "b"):
        enrollment = world[tag]["enrollments"]
        enrollment.allocation_index, enrollment.block_number, enrollment.block_size = 5, 3, 8
        enrollment.save()
    return world


@pytest.mark.parametrize(
    ("prefix", "name", "method", "detail", "action"),
    GET_ROUTES,
    ids=[f"GET {n}" for _p, n, _m, _d, _a in GET_ROUTES],
)
def test_blinded_trial_reveals_no_allocation(
    blinded_world, clients, prefix, name, method, detail, action
):
    """Every read route of a blinded trial, for every persona without the unblinded view:
    no arm, block, sequence position or arm-level figure, and no study-treatment name
    outside the protocol's own reference data."""
    world = blinded_world
    kwargs = {"pk": world["a"][prefix].pk} if detail else {}
    url = reverse(f"v1:{name}", kwargs=kwargs)
    drugs = [str(i.name) for i in world["a"]["trials"].interventions.all()]
    for persona in BLINDED_PERSONAS:
        response = clients[persona].get(url)
        assert response.status_code < 500, (persona, url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            continue
        assert not allocation_leaks(response.json()), (
            persona,
            url,
            allocation_leaks(response.json()),
        )
        if prefix not in TRIAL_LEVEL:
            content = response.content.decode()
            assert not [d for d in drugs if d in content], (persona, url)


def test_the_allocation_check_sees_an_unblinded_view(blinded_world, clients):
    """The lead investigator holds the unblinded view: the same check finds the arm."""
    url = reverse("v1:enrollment-list")
    assert allocation_leaks(clients["lead_investigator"].get(url).json())
    assert not allocation_leaks(clients["coordinator_site_a"].get(url).json())
