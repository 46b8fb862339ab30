"""The registry API: every route × registry personas (generated from the router), list
query counts pinned, identity hidden from roles without it, creates through services."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api.urls import router
from registry.models import RegistryPatient, Tumour
from registry.services import registry_patient_register

from .conftest import HCC
from .helpers import center_records

PERSONAS = (
    "anonymous",
    "abstractor_a",
    "abstractor_b",
    "center_investigator_a",
    "coordinator_site_a",
    "data_manager",
    "researcher",
)
EXPECTED = {
    "list": (401, 200, 200, 200, 200, 200, 200),
    "detail": (401, 200, 404, 200, 404, 200, 404),
    "create": (401, 400, 400, 400, 403, 403, 403),
    "detail_write": (401, 400, 404, 400, 404, 403, 404),
}


def registry_routes() -> list[tuple[str, str, str, bool]]:
    found = []
    for prefix, viewset, basename in router.registry:
        if not prefix.startswith("registry/") or prefix in (
            "registry/cohorts",
            "registry/data-requests",
        ):
            # research cohorts and data requests have their own matrices:
            # tests/research/test_api.py, tests/research/test_requests.py
            continue
        for route in router.get_routes(viewset):
            for method, action in route.mapping.items():
                if hasattr(viewset, action) and method in viewset.http_method_names:
                    found.append(
                        (prefix, route.name.format(basename=basename), method, route.detail)
                    )
    return found


ROUTES = registry_routes()


def kind_of(method: str, detail: bool) -> str:
    if method == "get":
        return "detail" if detail else "list"
    return "detail_write" if detail else "create"


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)


@pytest.fixture
def world(
    rpatient_a,
    rpatient_b,
    abstractor_a,
    abstractor_b,
    center_investigator_a,
    coordinator_site_a,
    data_manager,
    researcher,
):
    return {
        "a": center_records(rpatient_a, abstractor_a, tag="A"),
        "b": center_records(rpatient_b, abstractor_b, tag="B"),
        "personas": {
            "abstractor_a": abstractor_a,
            "abstractor_b": abstractor_b,
            "center_investigator_a": center_investigator_a,
            "coordinator_site_a": coordinator_site_a,
            "data_manager": data_manager,
            "researcher": researcher,
        },
    }


@pytest.fixture
def clients(world, api_for) -> dict[str, APIClient]:
    made = {"anonymous": APIClient()}
    for persona in PERSONAS[1:]:
        made[persona] = api_for(world["personas"][persona])
    return made


def counts() -> tuple[int, ...]:
    from django.apps import apps

    models = apps.get_app_config("registry").get_models()
    return tuple(m.objects.count() for m in models)


@pytest.mark.parametrize(
    ("prefix", "name", "method", "detail"),
    ROUTES,
    ids=[f"{m.upper()} {n}" for _p, n, m, _d in ROUTES],
)
def test_registry_route_for_every_persona(world, clients, prefix, name, method, detail):
    url = reverse(f"v1:{name}", kwargs={"pk": world["a"][prefix].pk} if detail else {})
    for persona, expected in zip(PERSONAS, EXPECTED[kind_of(method, detail)], strict=True):
        before = counts()
        with transaction.atomic():
            client = clients[persona]
            response = (
                client.get(url)
                if method == "get"
                else getattr(client, method)(url, {}, format="json")
            )
            if response.status_code >= 400:
                assert counts() == before, (persona, url)  # checked before the rollback
            transaction.set_rollback(True)
        assert response.status_code == expected, (persona, method, url, response.content[:300])
        if response.status_code == 200:
            body = response.content.decode()
            other = world["a" if persona == "abstractor_b" else "b"]["registry/patients"]
            if persona != "data_manager":
                assert other.record_number not in body, (persona, url)


def test_routes_cover_every_domain():
    prefixes = {p for p, *_ in ROUTES}
    assert prefixes >= {
        "registry/patients",
        "registry/tumours",
        "registry/stagings",
        "registry/pathology-reports",
        "registry/genomic-tests",
        "registry/variants",
        "registry/fusions",
        "registry/copy-numbers",
        "registry/imaging-studies",
        "registry/lirads-observations",
        "registry/treatments",
        "registry/follow-ups",
        "registry/imports",
    }
    assert ("registry/genomic-tests", "registry-genomictest-vcf", "post", True) in ROUTES


def test_lists_are_scoped_by_center(world, clients):
    for prefix in world["a"]:
        url = reverse(f"v1:{next(b for p, _v, b in router.registry if p == prefix)}-list")
        ids = {p: {r["id"] for r in clients[p].get(url).json()["results"]} for p in PERSONAS[1:]}
        a, b = world["a"][prefix].pk, world["b"][prefix].pk
        assert a in ids["abstractor_a"] and b not in ids["abstractor_a"], prefix
        assert b in ids["abstractor_b"] and a not in ids["abstractor_b"], prefix
        assert ids["coordinator_site_a"] == set() and ids["researcher"] == set(), prefix
        assert {a, b} <= ids["data_manager"], prefix


def test_identity_hidden_from_data_manager(world, clients):
    url = reverse("v1:registry-patient-detail", kwargs={"pk": world["a"]["registry/patients"].pk})
    assert clients["abstractor_a"].get(url).json()["full_name"] == "李娜"
    data = clients["data_manager"].get(url).json()
    assert data["full_name"] is None and data["id_document_number"] is None
    assert data["national_pseudonym"].startswith("NP-")


def test_create_through_the_api_names_each_field(world, clients):
    api = clients["abstractor_a"]
    patient_a = world["a"]["registry/patients"]
    bad = {**HCC, "patient": patient_a.pk, "topography": "C23.9", "diagnosis_date": "2999-01-01"}
    response = api.post("/api/v1/registry/tumours/", bad, format="json")
    assert response.status_code == 400
    assert {"topography", "morphology", "diagnosis_date"} <= set(response.json())
    good = {**HCC, "patient": patient_a.pk, "diagnosis_date": "2025-03-01"}
    response = api.post("/api/v1/registry/tumours/", good, format="json")
    assert response.status_code == 201, response.content
    assert (
        Tumour.objects.get(pk=response.json()["id"]).history.first().history_user.username
        == "abs_a"
    )
    # another center's patient "does not exist": a 404 naming the field
    other = {**good, "patient": world["b"]["registry/patients"].pk}
    response = api.post("/api/v1/registry/tumours/", other, format="json")
    assert response.status_code == 404 and "patient" in response.json()
    # with another error besides, everything is listed in one 400
    response = api.post(
        "/api/v1/registry/tumours/", {**other, "diagnosis_date": "not-a-date"}, format="json"
    )
    assert response.status_code == 400 and {"patient", "diagnosis_date"} <= set(response.json())
    response = api.post(
        "/api/v1/registry/stagings/",
        {
            "tumour": world["a"]["registry/tumours"].pk,
            "system": "BCLC",
            "staged_on": "2025-03-05",
            "inputs": {"child_pugh_class": "A", "ecog": 0},
        },
        format="json",
    )
    assert response.status_code == 201 and response.json()["computed_value"] == "A"


ROWS = 12
#: token, memberships (scope), count, page (+ prefetches where the serializer needs them)
LIST_QUERIES = dict.fromkeys(
    (
        "registry/patients",
        "registry/tumours",
        "registry/stagings",
        "registry/pathology-reports",
        "registry/genomic-tests",
        "registry/variants",
        "registry/fusions",
        "registry/copy-numbers",
        "registry/imaging-studies",
        "registry/lirads-observations",
        "registry/treatments",
        "registry/follow-ups",
        "registry/imports",
    ),
    4,
)


def test_every_registry_list_is_pinned():
    listed = {
        p
        for p, v, _b in router.registry
        if p.startswith("registry/")
        and hasattr(v, "list")
        and p not in ("registry/cohorts", "registry/data-requests")
    }  # pinned in tests/research/test_api.py and tests/research/test_requests.py
    assert listed == set(LIST_QUERIES)


@pytest.fixture
def many(center_a, abstractor_a):
    for i in range(ROWS):
        patient = registry_patient_register(
            site=center_a,
            acting_user=abstractor_a,
            full_name=f"P{i}",
            id_document_type="passport",
            id_document_number=f"Q{i:07d}",
            sex="M",
            birth_date=datetime.date(1960, 1, 1),
            nationality="CN",
        )
        center_records(patient, abstractor_a, tag=str(i))


@pytest.mark.parametrize("prefix", sorted(LIST_QUERIES))
def test_registry_list_query_count_is_constant(api_for, abstractor_a, many, prefix):
    api = api_for(abstractor_a)
    url = f"/api/v1/{prefix}/"
    sizes = []
    for size in (2, 10):
        api.get(url)
        with CaptureQueriesContext(connection) as ctx:
            response = api.get(f"{url}?page_size={size}")
        assert response.status_code == 200 and len(response.json()["results"]) == size
        sizes.append(len(ctx.captured_queries))
    assert sizes == [LIST_QUERIES[prefix]] * 2, (prefix, sizes)
    assert RegistryPatient.objects.count() == ROWS
