"""Keyset (cursor) pagination of the large lists and the bounded count of page-number lists:
a client that follows ``next`` (or ``previous``) sees every row exactly once, in the
list's order, whatever the ordering and NULLs; a forged cursor is a 404."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import pytest

from api import pagination
from patients.models import Visit

D = datetime.date(2026, 3, 2)


@pytest.fixture
def visits(patient_a: Any, patient_b: Any) -> list[Visit]:
    """Nine visits of site A with repeated dates and some visit dates missing, and one of
    site B that site A's coordinator must never see."""
    made = []
    for k in range(9):
        made.append(
            Visit.objects.create(
                patient=patient_a,
                scheduled_date=D + datetime.timedelta(days=k // 3),  # three per day
                actual_date=None if k % 4 == 0 else D + datetime.timedelta(days=9 - k),
            )
        )
    Visit.objects.create(patient=patient_b, scheduled_date=D)
    return made


def walk(api: Any, url: str, key: str = "next") -> tuple[list[int], list[dict[str, Any]]]:
    ids: list[int] = []
    pages = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert "count" not in body
        pages.append(body)
        rows = [row["id"] for row in body["results"]]
        ids.extend(rows if key == "next" else reversed(rows))
        url = body[key]
    return ids, pages


def expected(queryset: Any, *ordering: str) -> list[int]:
    return list(queryset.order_by(*ordering).values_list("id", flat=True))


@pytest.mark.parametrize(
    ("ordering", "order_by"),
    [
        ("", ("scheduled_date", "id")),  # the list's default
        ("-scheduled_date", ("-scheduled_date", "-id")),
        ("id", ("id",)),
    ],
)
def test_following_next_then_previous_visits_every_row_once(
    api_for, coordinator_site_a, visits, ordering, order_by
):
    api = api_for(coordinator_site_a)
    query = f"&ordering={ordering}" if ordering else ""
    forward, pages = walk(api, f"/api/v1/visits/?page_size=2{query}")
    own = Visit.objects.filter(patient__trial_site__site__code="SA")
    assert forward == expected(own, *order_by)
    assert len(pages) == 5 and pages[0]["previous"] is None and pages[-1]["next"] is None
    # and back from the last page to the first
    backward, _pages = walk(api, pages[-1]["previous"], key="previous")
    assert backward == list(reversed(forward[:-1]))


def test_nulls_come_last_and_are_not_lost(api_for, coordinator_site_a, visits):
    api = api_for(coordinator_site_a)
    forward, _pages = walk(api, "/api/v1/visits/?page_size=2&ordering=actual_date")
    dated = sorted((v for v in visits if v.actual_date), key=lambda v: (v.actual_date, v.id))
    undated = sorted(v.id for v in visits if v.actual_date is None)
    assert forward == [v.id for v in dated] + undated
    descending, _pages = walk(api, "/api/v1/visits/?page_size=3&ordering=-actual_date")
    assert descending == [v.id for v in reversed(dated)] + sorted(undated, reverse=True)


def test_a_page_bigger_than_the_list_has_no_links(api_for, coordinator_site_a, visits):
    body = api_for(coordinator_site_a).get("/api/v1/visits/?page_size=50").json()
    assert (body["next"], body["previous"], len(body["results"])) == (None, None, 9)


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        _cursor({"v": ["2026-03-02"]}),  # one value for a two-key ordering
        _cursor({"v": ["yesterday", 1]}),  # not a date
        _cursor({"v": ["2026-03-02", 2**70]}),  # not a database integer
        _cursor({"v": [{"x": 1}, 1]}),
        _cursor(["2026-03-02", 1]),
    ],
)
def test_a_forged_cursor_is_a_404_naming_it(api_for, coordinator_site_a, visits, cursor):
    """Like a page number past the end: a well-formed request for a page that is not
    there (the schema can only say "a string")."""
    response = api_for(coordinator_site_a).get("/api/v1/visits/", {"cursor": cursor})
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "cursor"}


def test_a_cursor_of_another_sites_row_shows_nothing_of_that_site(
    api_for, coordinator_site_a, coordinator_site_b, visits
):
    """The cursor is a position in the caller's own scoped list, nothing more."""
    other = Visit.objects.get(patient__trial_site__site__code="SB")
    cursor = _cursor({"v": [other.scheduled_date.isoformat(), other.pk - 1]})
    ids, _pages = walk(api_for(coordinator_site_a), f"/api/v1/visits/?cursor={cursor}")
    assert other.pk not in ids and set(ids) <= {v.pk for v in visits}


def test_page_number_lists_count_exactly_below_the_limit(api_for, data_manager, trial_site_a):
    body = api_for(data_manager).get("/api/v1/trial-sites/?page_size=1").json()
    assert body["count"] == 1 and body["count_is_estimate"] is False


@pytest.mark.postgres
def test_above_the_limit_the_count_is_the_planners_estimate(
    api_for, coordinator_site_a, trial_site_a, register, monkeypatch
):
    for i in range(6):
        register(
            trial_site_a,
            coordinator_site_a,
            id_document_type="passport",
            id_document_number=f"P{i:07d}",
        )
    monkeypatch.setattr(pagination, "COUNT_EXACT_LIMIT", 3)
    body = api_for(coordinator_site_a).get("/api/v1/patients/?page_size=2").json()
    assert body["count_is_estimate"] is True
    assert isinstance(body["count"], int) and body["count"] >= 4  # at least what it saw
    assert len(body["results"]) == 2 and body["next"]


def test_record_lists_neither_read_nor_decrypt_the_patients_identity(
    api_for, coordinator_site_a, visits
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = api_for(coordinator_site_a)
    with CaptureQueriesContext(connection) as ctx:
        body = api.get("/api/v1/visits/?page_size=3").json()
    assert body["results"][0]["subject_id"]
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert '"patients_visit"' in sql
    for column in ("full_name", "id_document_number", "phone", "email"):
        assert f'"patients_patient"."{column}"' not in sql, column


@pytest.mark.parametrize("url", ["/api/v1/visits/", "/api/v1/patients/"])
@pytest.mark.parametrize("page_size", ["abc", "0", "-3", "2.5", ""])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400_naming_it(
    api_for, coordinator_site_a, visits, url, page_size
):
    response = api_for(coordinator_site_a).get(url, {"page_size": page_size})
    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]


def test_a_page_size_above_the_maximum_sends_the_maximum(api_for, coordinator_site_a, visits):
    response = api_for(coordinator_site_a).get("/api/v1/visits/", {"page_size": "100000"})
    assert response.status_code == 200 and len(response.json()["results"]) == len(visits)


def test_an_empty_page_number_is_a_400_naming_it(api_for, coordinator_site_a, patient_a):
    response = api_for(coordinator_site_a).get("/api/v1/patients/", {"page": ""})
    assert response.status_code == 400 and list(response.json()) == ["page"]
    assert api_for(coordinator_site_a).get("/api/v1/patients/", {"page": "1"}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/lesions/?target=null",
        "/api/v1/consents/?active=unknown",
        "/api/v1/visits/?submitted=maybe",
        "/api/v1/consent-versions/?requires_reconsent=8.3e307",
    ],
)
def test_a_boolean_filter_takes_true_or_false_only(api_for, coordinator_site_a, query):
    """Anything else was silently "no filter": the whole list, as if it had matched."""
    response = api_for(coordinator_site_a).get(query)
    name = query.split("?")[1].split("=")[0]
    assert response.status_code == 400 and list(response.json()) == [name], response.json()


def test_a_boolean_filter_filters(api_for, coordinator_site_a, visits):
    api = api_for(coordinator_site_a)
    everything = api.get("/api/v1/visits/?page_size=200").json()["results"]
    submitted = api.get("/api/v1/visits/?submitted=true&page_size=200").json()["results"]
    not_yet = api.get("/api/v1/visits/?submitted=0&page_size=200").json()["results"]
    assert len(submitted) + len(not_yet) == len(everything)
    assert {v["id"] for v in submitted}.isdisjoint({v["id"] for v in not_yet})


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/lab-results/?min_grade=",
        "/api/v1/visits/?trial=",
        "/api/v1/visits/?status=",
        "/api/v1/patients/?registered_after=",
        "/api/v1/lesions/?target=",
    ],
)
def test_an_empty_typed_filter_is_a_400_naming_it(api_for, coordinator_site_a, query):
    response = api_for(coordinator_site_a).get(query)
    name = query.split("?")[1].split("=")[0]
    assert response.status_code == 400 and list(response.json()) == [name], response.json()


def test_an_empty_text_filter_does_not_filter(api_for, coordinator_site_a, visits):
    api = api_for(coordinator_site_a)
    assert api.get("/api/v1/visits/?site=").json() == api.get("/api/v1/visits/").json()


def test_an_empty_choice_that_is_a_stored_value_filters_for_it(
    api_for, coordinator_site_a, trial, patient_a
):
    """``dose_change`` "" means "as planned" (the schema's enum lists it): ``?dose_change=``
    asks for those exposures, it does not switch the filter off."""
    from clinical.models import Exposure
    from tests.api.helpers_api import ready_trial, site_records

    ready_trial(trial)
    planned = site_records(patient_a, tag="A")["exposures"]
    changed = Exposure.objects.create(
        patient=planned.patient,
        intervention=planned.intervention,
        kind="administration",
        start_date=planned.start_date,
        dose_mg=4,
        dose_change="reduced",
    )
    api = api_for(coordinator_site_a)
    as_planned = {e["id"] for e in api.get("/api/v1/exposures/?dose_change=").json()["results"]}
    reduced = {e["id"] for e in api.get("/api/v1/exposures/?dose_change=reduced").json()["results"]}
    assert planned.pk in as_planned and changed.pk not in as_planned
    assert reduced == {changed.pk}


def test_pagination_errors_speak_the_callers_language(api_for, coordinator_site_a, visits):
    response = api_for(coordinator_site_a).get(
        "/api/v1/visits/", {"page_size": "abc"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 400
    assert response.json()["page_size"] == ["每页行数：至少为 1 的整数。"]
