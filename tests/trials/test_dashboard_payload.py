"""The dashboard's payload: data.json and the page read the summary only; the waterfall
and swimmer rows come from their own endpoints (binned or cut above a limit), with the
same permission, scope and blinding; the CSV downloads and the API keep every row."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from analysis import selectors as selectors_stats
from analysis import views as views_dashboard

from .helpers_dashboard import seed

CHARTS = ("enrollment", "rates", "waterfall", "swimmer", "km-pfs", "km-os")


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def seeded(trial, trial_site_a, trial_site_b):
    return seed(trial, trial_site_a, trial_site_b)


@pytest.fixture
def small_limit(monkeypatch):
    """Six patients count as "many": 4 rows at most, the 2 longest on the swimmer."""
    monkeypatch.setattr(views_dashboard, "PATIENT_ROWS_LIMIT", 4)
    monkeypatch.setattr(views_dashboard, "SWIMMER_LONGEST", 2)


def get_json(client, name, trial, **params):
    response = client.get(reverse(f"trials:{name}", args=[trial.pk]), params)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def csv_rows(client, trial, chart, **params):
    response = client.get(reverse("trials:dashboard_csv", args=[trial.pk, chart]), params)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_data_json_carries_no_patient_row(client, trial, seeded, lead_investigator):
    client.force_login(lead_investigator)
    body = client.get(reverse("trials:dashboard_data", args=[trial.pk])).content.decode()
    for patient in seeded["SA"] + seeded["SB"]:
        assert patient.subject_id not in body
    stats = get_json(client, "dashboard_data", trial)
    assert "waterfall" not in stats and "swimmer" not in stats and "heads" not in stats
    assert stats["patient_rows"] == {"waterfall": {"total": 6}, "swimmer": {"total": 6}}
    km = stats["by_arm"]["A"]["pfs"]
    assert "steps" not in km and km["curve"]["exact"]
    assert len(km["curve"]["time"]) == len(km["curve"]["survival"]) > 0


def test_above_the_limit_the_waterfall_is_binned_and_the_swimmer_cut(
    client, trial, seeded, lead_investigator, small_limit
):
    client.force_login(lead_investigator)
    waterfall = get_json(client, "dashboard_waterfall", trial)
    assert waterfall["binned"] and waterfall["total"] == 6 and waterfall["shown"] == 0
    assert "rows" not in waterfall
    bins = waterfall["bins"]
    assert sum(b["n"] for b in bins) == 6
    assert all(sum(b["by_bor"].values()) == b["n"] == sum(b["by_arm"].values()) for b in bins)
    full = csv_rows(client, trial, "waterfall")  # the CSV keeps every patient
    assert len(full) == 6
    for b in bins:
        inside = [
            r
            for r in full
            if b["from"] <= float(r["best_change_pct"]) < (b["to"] if b["to"] is not None else 1e9)
        ]
        assert len(inside) == b["n"]
    assert [b["from"] for b in bins] == sorted((b["from"] for b in bins), reverse=True)

    swimmer = get_json(client, "dashboard_swimmer", trial)
    assert swimmer["truncated"] and swimmer["total"] == 6 and swimmer["shown"] == 2
    every = csv_rows(client, trial, "swimmer")
    assert len(every) == 6
    assert [r["subject_id"] for r in swimmer["rows"]] == [r["subject_id"] for r in every[:2]]
    assert swimmer["rows"][0]["days_on_study"] >= swimmer["rows"][1]["days_on_study"]


def test_up_to_the_limit_every_row_is_sent(client, trial, seeded, lead_investigator):
    client.force_login(lead_investigator)
    waterfall = get_json(client, "dashboard_waterfall", trial)
    assert not waterfall["binned"] and waterfall["total"] == waterfall["shown"] == 6
    swimmer = get_json(client, "dashboard_swimmer", trial)
    assert not swimmer["truncated"] and swimmer["total"] == swimmer["shown"] == 6
    assert [r["subject_id"] for r in swimmer["rows"]] == [
        r["subject_id"] for r in csv_rows(client, trial, "swimmer")
    ]


@pytest.mark.parametrize("limit", [False, True])
def test_a_site_investigator_gets_only_their_sites_rows(
    client, trial, seeded, investigator_site_a, monkeypatch, limit
):
    if limit:
        monkeypatch.setattr(views_dashboard, "PATIENT_ROWS_LIMIT", 2)
        monkeypatch.setattr(views_dashboard, "SWIMMER_LONGEST", 2)
    client.force_login(investigator_site_a)
    own = {p.subject_id for p in seeded["SA"]}
    for name in ("dashboard_waterfall", "dashboard_swimmer"):
        body = client.get(reverse(f"trials:{name}", args=[trial.pk])).content.decode()
        assert "CRYO-SB" not in body
        data = get_json(client, name, trial)
        assert data["total"] == 3
        if "rows" in data:
            assert {r["subject_id"] for r in data["rows"]} <= own
            assert {r["site"] for r in data["rows"]} == {"SA"}
        else:
            assert sum(b["n"] for b in data["bins"]) == 3
        assert (
            client.get(reverse(f"trials:{name}", args=[trial.pk]), {"site": "SB"}).status_code
            == 404
        )


def test_a_lead_investigators_site_filter_applies_to_the_rows(
    client, trial, seeded, lead_investigator
):
    client.force_login(lead_investigator)
    for name in ("dashboard_waterfall", "dashboard_swimmer"):
        rows = get_json(client, name, trial, site="SB")["rows"]
        assert {r["subject_id"] for r in rows} == {p.subject_id for p in seeded["SB"]}


def test_blinded_users_get_no_patient_rows(
    client, trial, seeded, investigator_site_a, monitor, lead_investigator, small_limit
):
    trial.blinding = trial.Blinding.BLINDED
    trial.save()
    for user in (investigator_site_a, monitor):
        client.force_login(user)
        for name in ("dashboard_waterfall", "dashboard_swimmer"):
            for params in ({}, {"site": "SA"}):
                response = client.get(reverse(f"trials:{name}", args=[trial.pk]), params)
                assert response.status_code == 404
                assert '"arm"' not in response.content.decode()
        assert (
            '"arm"'
            not in client.get(reverse("trials:dashboard_data", args=[trial.pk])).content.decode()
        )
    client.force_login(lead_investigator)  # unblinded view: arms in the bins
    bins = get_json(client, "dashboard_waterfall", trial)["bins"]
    assert set().union(*(b["by_arm"] for b in bins)) == {"A", "B"}


class Recorder:
    """The cache of ``selectors_stats``, noting every key read."""

    def __init__(self, real):
        self.real, self.read = real, []

    def get(self, key, *args, **kwargs):
        self.read.append(key)
        return self.real.get(key, *args, **kwargs)

    def get_many(self, keys, *args, **kwargs):
        self.read.extend(keys)
        return self.real.get_many(keys, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_the_warm_page_and_data_json_never_read_the_rows(
    client, trial, seeded, lead_investigator, monkeypatch, django_assert_num_queries
):
    client.force_login(lead_investigator)
    page = reverse("trials:dashboard", args=[trial.pk])
    assert client.get(page).status_code == 200  # computes and caches both parts
    recorder = Recorder(selectors_stats.cache)
    monkeypatch.setattr(selectors_stats, "cache", recorder)
    for url in (page, reverse("trials:dashboard_data", args=[trial.pk])):
        recorder.read.clear()
        # 1 session, 2 user, 3 memberships, 4 the trial; the figures from the cache
        with django_assert_num_queries(4):
            assert client.get(url).status_code == 200
        stats_keys = [k for k in recorder.read if k.startswith("trial-stats:")]
        assert stats_keys and all(k.endswith(":summary") for k in stats_keys), recorder.read
    for name in ("dashboard_waterfall", "dashboard_swimmer"):
        recorder.read.clear()
        with django_assert_num_queries(4):
            assert client.get(reverse(f"trials:{name}", args=[trial.pk])).status_code == 200
        assert any(k.endswith(":rows") for k in recorder.read)


def test_rows_evicted_from_the_cache_are_computed_again(client, trial, seeded, lead_investigator):
    from django.utils import timezone

    client.force_login(lead_investigator)
    get_json(client, "dashboard_data", trial)
    key = selectors_stats._stats_key(trial, None, arm_level=True, cutoff=timezone.localdate())
    assert cache.get(f"{key}:rows") is not None
    cache.delete(f"{key}:rows")  # evicted, the summary still cached
    assert get_json(client, "dashboard_swimmer", trial)["total"] == 6
    assert cache.get(f"{key}:rows") is not None


def test_the_pages_numbers_tables_count_every_row(
    client, trial, seeded, lead_investigator, monkeypatch
):
    monkeypatch.setattr(views_dashboard, "ROW_LIMIT", 2)
    client.force_login(lead_investigator)
    html = client.get(reverse("trials:dashboard", args=[trial.pk])).content.decode()
    for chart in CHARTS:
        section = html.split(f'id="chart-{chart}"')[1].split("</section>")[0]
        total = len(csv_rows(client, trial, chart))
        table = section.split('class="table numbers-table"')[1].split("</table>")[0]
        assert table.count("<tr>") - 1 == min(2, total), chart  # header row, then 2
        if total > 2:
            assert f"(first 2 of {total} rows; the CSV has all)" in section, chart
    # the first rows are those of the CSV
    swimmer = html.split('data-chart="swimmer"')[1].split("</table>")[0]
    first = csv_rows(client, trial, "swimmer")[:2]
    assert [r["subject_id"] for r in first] == re.findall(r"<td>(CRYO-S[AB]-\d+)</td>", swimmer)


def test_the_api_keeps_every_row_and_step(client, trial, seeded, lead_investigator):
    client.force_login(lead_investigator)
    body = client.get(f"/api/v1/trials/{trial.pk}/statistics/").json()
    assert len(body["waterfall"]) == len(body["swimmer"]) == 6
    km = body["by_arm"]["A"]["os"]
    assert "curve" not in km and "heads" not in body and "patient_rows" not in body
    assert [
        float(r["time_days"]) for r in csv_rows(client, trial, "km-os") if r["group"] == "Arm A"
    ] == [s["time"] for s in km["steps"]]


def test_the_waterfall_method_line_says_how_the_chart_is_drawn(
    client, trial, seeded, lead_investigator, monkeypatch
):
    """One bar per patient up to the limit; above it the page says the patients are
    counted in bins (the chart waterfall.json then draws), in both languages."""
    client.force_login(lead_investigator)
    url = reverse("trials:dashboard", args=[trial.pk])
    html = client.get(url).content.decode()
    assert "one bar per patient with measurable disease" in html
    assert "counted in bins of 5 percentage points" not in html
    monkeypatch.setattr(views_dashboard, "PATIENT_ROWS_LIMIT", 4)
    html = client.get(url).content.decode()
    assert "counted in bins of 5 percentage points" in html
    assert "one bar per patient with measurable disease" not in html
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "按每 5 个百分点分组计数" in html
