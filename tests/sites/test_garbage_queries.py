"""Garbage in a query string is a 400 or is ignored, never a 500 (DESIGN.md §10).

Every routed URL (from the URL walk) is requested with nonsense parameters: ids that are
not numbers or beyond 64 bits, impossible dates, bad pages and choices.
"""

from __future__ import annotations

import os

import pytest
from django.urls import reverse

from tests.sites.test_url_walk import concrete_urls, site_b_objects

GARBAGE = [
    {
        "trial": "abc",
        "site": "\x00",
        "page": "-1",
        "date_from": "2026-13-45",
        "date_to": "x",
        "visit": "abc",
        "grade": "x",
        "status": "zzz",
    },
    {"trial": "99999999999999999999", "site": "", "page": "x", "visit": "²", "arm": "abc"},
    {"page": "99999999999", "page_size": "abc", "ordering": "zz", "limit": "x", "offset": "y"},
    {"format": "xml", "q": "\x00", "sort": "-nope", "month": "13", "year": "abc", "id": "x"},
    {"trial_site": "abc", "patient": "abc", "serious": "maybe", "from": "2026-02-30"},
]


@pytest.fixture
def walk(patient_a, patient_b, trial_site_a, trial_site_b, coordinator_site_b, trial):
    return concrete_urls(
        site_b_objects(patient_b, trial_site_b, coordinator_site_b),
        {"trials.trial": trial},
    )


#: ``FULL_FUZZ=1`` (``.ci/run``): every URL gets every garbage set. By default each URL
#: gets one set, in rotation, so every set still reaches a fifth of the URLs and every URL
#: gets garbage, in a fifth of the time.
FULL_FUZZ = os.environ.get("FULL_FUZZ") == "1"


def garbage_for(index: int) -> list[dict[str, str]]:
    return GARBAGE if FULL_FUZZ else [GARBAGE[index % len(GARBAGE)]]


@pytest.mark.parametrize("persona", ["coordinator_site_a", "lead_investigator"])
def test_garbage_query_strings_never_500(client, walk, persona, all_personas):
    client.force_login(all_personas[persona])
    failures = []
    # the lead investigator starts the rotation one set further than the coordinator
    offset = 0 if persona == "coordinator_site_a" else 1
    for index, (url, _name, _b) in enumerate(walk):
        for params in garbage_for(index + offset):
            response = client.get(url, params)
            if response.status_code >= 500:
                failures.append((url, params, response.status_code))
    assert not failures, "\n".join(map(str, failures))


@pytest.mark.parametrize("trial_id", ["99999999999999999999", "-99999999999999999999", "1e30"])
def test_api_patient_trial_filter_refuses_impossible_ids(
    client, patient_a, coordinator_site_a, trial_id
):
    # was a 500: OverflowError from the database (a NumberFilter sent the value as-is)
    client.force_login(coordinator_site_a)
    for url in ("/api/v1/patients/", f"/api/v1/patients/{patient_a.pk}/"):
        response = client.get(url, {"trial": trial_id})
        assert response.status_code == 400, (url, response.status_code)
        assert "trial" in response.json()


def test_api_patient_trial_filter_still_filters(client, patient_a, coordinator_site_a, trial):
    client.force_login(coordinator_site_a)
    ids = [p["id"] for p in client.get("/api/v1/patients/", {"trial": trial.pk}).json()["results"]]
    assert ids == [patient_a.pk]
    assert client.get("/api/v1/patients/", {"trial": trial.pk + 1000}).json()["results"] == []


def test_api_history_of_a_table_without_scoping_is_404(client, coordinator_site_a):
    # was a 500: the m2m history table has no ``visible_to``
    client.force_login(coordinator_site_a)
    response = client.get("/api/v1/history/trials.historicalintervention_arms/1/")
    assert response.status_code == 404


def test_superscript_visit_id_is_ignored(client, patient_a, coordinator_site_a):
    # "²".isdigit() is True but int("²") raises: the visit pre-selection must ignore it
    client.force_login(coordinator_site_a)
    for name in ("assessment_baseline", "assessment_new", "ae_new"):
        url = reverse(f"patients:{name}", args=[patient_a.pk])
        assert client.get(url, {"visit": "²"}).status_code < 500, name
