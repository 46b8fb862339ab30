"""``/api/v1/registry/cohorts/``: every route × research personas (generated from the
router), refusals change nothing, list query count pinned, field errors named."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api.urls import router
from research.cohorts import cohort_create
from research.models import Cohort, CohortQuery

from .test_criteria import ICCA_FGFR2_ABLATION

PERSONAS = (
    "anonymous",
    "abstractor_a",
    "center_investigator_a",
    "steward_a",
    "coordinator_site_a",
    "data_manager",
    "researcher",
    "researcher_2",
)
#: by action, for a cohort shared by ``researcher``; write routes get an empty body
EXPECTED = {
    "list": (401, 200, 200, 200, 200, 200, 200, 200),
    "retrieve": (401, 200, 200, 200, 404, 200, 200, 200),
    "create": (401, 400, 400, 400, 403, 400, 400, 400),
    "update": (401, 403, 403, 403, 404, 403, 400, 403),
    "partial_update": (401, 403, 403, 403, 404, 403, 200, 403),
    "counts": (401, 403, 200, 200, 404, 200, 200, 200),
    "count": (401, 403, 400, 400, 403, 400, 400, 400),
    "rows": (401, 200, 200, 200, 404, 200, 403, 403),
    # without ?kind= (the format): 400 naming it for center staff, who may export their
    # own rows; a data manager goes through a data request (403)
    "export": (401, 400, 400, 400, 404, 403, 403, 403),
    "analysis": (401, 403, 200, 200, 404, 200, 200, 200),
}


def research_routes() -> list[tuple[str, str, bool, str]]:
    found = []
    for prefix, viewset, basename in router.registry:
        if prefix != "registry/cohorts":
            continue
        for route in router.get_routes(viewset):
            for method, action in route.mapping.items():
                if hasattr(viewset, action) and method in viewset.http_method_names:
                    found.append(
                        (route.name.format(basename=basename), method, route.detail, action)
                    )
    return found


ROUTES = research_routes()


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)


@pytest.fixture
def personas(
    abstractor_a,
    center_investigator_a,
    steward_a,
    coordinator_site_a,
    data_manager,
    researcher,
    researcher_2,
):
    return {
        "abstractor_a": abstractor_a,
        "center_investigator_a": center_investigator_a,
        "steward_a": steward_a,
        "coordinator_site_a": coordinator_site_a,
        "data_manager": data_manager,
        "researcher": researcher,
        "researcher_2": researcher_2,
    }


@pytest.fixture
def shared_cohort(researcher):
    return cohort_create(
        name="iCCA FGFR2 ablation",
        criteria=ICCA_FGFR2_ABLATION,
        is_shared=True,
        acting_user=researcher,
    )


def test_routes_are_all_in_the_table():
    assert {a for *_x, a in ROUTES} == set(EXPECTED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "method", "detail", "action"), ROUTES, ids=[f"{m} {n}" for n, m, _d, _a in ROUTES]
)
def test_route_for_every_persona(personas, shared_cohort, api_for, name, method, detail, action):
    url = reverse(f"v1:{name}", kwargs={"pk": shared_cohort.pk} if detail else {})
    for persona, expected in zip(PERSONAS, EXPECTED[action], strict=True):
        client = APIClient() if persona == "anonymous" else api_for(personas[persona])
        before = (Cohort.objects.count(), Cohort.history.count(), CohortQuery.objects.count())
        with transaction.atomic():
            response = (
                client.get(url)
                if method == "get"
                else getattr(client, method)(url, {}, format="json")
            )
            if response.status_code >= 400:
                assert (
                    Cohort.objects.count(),
                    Cohort.history.count(),
                    CohortQuery.objects.count(),
                ) == before
            transaction.set_rollback(True)
        assert response.status_code == expected, (persona, method, url, response.content[:300])


@pytest.mark.django_db
def test_create_names_every_bad_field(researcher, api_for):
    response = api_for(researcher).post(
        "/api/v1/registry/cohorts/",
        {
            "name": "",
            "criteria": {"all": [{"type": "genomic", "alteration": "fusion"}, {"type": "x"}]},
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "name" in body
    assert any(m.startswith("all.0.gene:") for m in body["criteria"])
    assert any(m.startswith("all.1.type:") for m in body["criteria"])
    assert not Cohort.objects.exists()


@pytest.mark.django_db
def test_saved_cohort_is_versioned_with_history(researcher, api_for, shared_cohort):
    client = api_for(researcher)
    url = f"/api/v1/registry/cohorts/{shared_cohort.pk}/"
    response = client.patch(
        url,
        {"criteria": {"type": "diagnosis", "category": ["icca"]}, "reason": "wider"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["version"] == 2
    versions = list(
        shared_cohort.history.order_by("history_date").values_list("version", "criteria")
    )
    assert versions[0] == (1, ICCA_FGFR2_ABLATION)
    assert versions[-1][0] == 2


@pytest.mark.django_db
def test_researcher_counts_never_carry_a_small_cell(network, researcher, api_for, shared_cohort):
    body = api_for(researcher).get(f"/api/v1/registry/cohorts/{shared_cohort.pk}/counts/").json()
    assert {c["key"]: c["display"] for c in body["cells"]} == {"CA": "*", "CB": "< 5", "CC": "0"}
    assert body["total"]["display"] == "9"
    assert all(c["count"] in (None, 0) for c in body["cells"])


@pytest.mark.django_db
def test_rows_are_the_own_centers_only(network, abstractor_b, api_for, shared_cohort):
    body = api_for(abstractor_b).get(f"/api/v1/registry/cohorts/{shared_cohort.pk}/rows/").json()
    numbers = {p.record_number for p in network["b"][:3]}
    assert {r["record_number"] for r in body["results"]} == numbers


@pytest.mark.django_db
def test_throttled_query_is_a_429(network, researcher, api_for, settings):
    settings.RESEARCH_REPEAT_LIMIT = 1
    client = api_for(researcher)
    tree = {"type": "treatment", "kind": ["mwa"], "within_days_of_diagnosis": 30}
    assert (
        client.post(
            "/api/v1/registry/cohorts/count/", {"criteria": tree}, format="json"
        ).status_code
        == 200
    )
    tree["within_days_of_diagnosis"] = 31
    assert (
        client.post(
            "/api/v1/registry/cohorts/count/", {"criteria": tree}, format="json"
        ).status_code
        == 429
    )


@pytest.mark.django_db
def test_list_query_count_is_pinned(researcher, api_for, django_assert_num_queries):
    for i in range(3):
        cohort_create(
            name=f"c{i}",
            criteria={"type": "patient", "sex": "F"},
            is_shared=True,
            acting_user=researcher,
        )
    client = api_for(researcher)
    client.get("/api/v1/registry/cohorts/")  # warm the scope of the token user
    # token + user, memberships (scope), count, page of cohorts
    with django_assert_num_queries(4):
        assert len(client.get("/api/v1/registry/cohorts/").json()["results"]) == 3


@pytest.mark.django_db
def test_analysis_for_a_researcher_is_aggregated(network, researcher, api_for):
    cohort = cohort_create(
        name="iCCA", criteria={"type": "diagnosis", "category": ["icca"]}, acting_user=researcher
    )
    split = cohort_create(
        name="fusion",
        criteria={"type": "genomic", "alteration": "fusion", "gene": "FGFR2"},
        acting_user=researcher,
    )
    body = (
        api_for(researcher)
        .get(f"/api/v1/registry/cohorts/{cohort.pk}/analysis/?endpoint=os&split={split.pk}")
        .json()
    )
    assert body["characterisation"]["persons"] == "13"  # 14 iCCA records, one person twice
    fgfr2 = next(
        g for g in body["characterisation"]["alterations"]["genes"] if g["gene"] == "FGFR2"
    )
    assert fgfr2["altered"] == "10"
    curves = body["survival"]["curves"]
    assert [c["label"] for c in curves] == ["not fusion", "fusion"]
    for curve in curves:
        assert all(step["at_risk"] >= 5 for step in curve["steps"])
    assert "own_center_alterations" not in body  # no row for a research role
