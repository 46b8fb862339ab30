"""Keyset (cursor) pagination of the large lists and the bounded count of page-number lists:
a client that follows ``next`` (or ``previous``) sees every row exactly once, in the
list's order, whatever the ordering and NULLs; a forged cursor is a 400."""

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
def test_a_forged_cursor_is_a_400_naming_it(api_for, coordinator_site_a, visits, cursor):
    response = api_for(coordinator_site_a).get("/api/v1/visits/", {"cursor": cursor})
    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


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
