"""The investigator dashboard: who sees what, blinding, caching, query counts, downloads."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.cache import cache
from django.urls import reverse

from analysis.selectors import trial_statistics_for
from patients.services.response import response_recompute, statistics_invalidate
from sites.roles import Role
from tests.factories import MembershipFactory, TrialFactory, TrialSiteFactory, UserFactory

from .helpers_dashboard import RESPONDER, arms, make_patient, seed

CHARTS = ("enrollment", "rates", "waterfall", "swimmer", "km-pfs", "km-os")


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def seeded(trial, trial_site_a, trial_site_b):
    return seed(trial, trial_site_a, trial_site_b)


def ids(patients):
    return {p.subject_id for p in patients}


def data(client, trial, **params):
    response = client.get(reverse("trials:dashboard_data", args=[trial.pk]), params)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def patient_rows(client, trial, chart, **params):
    """The rows of waterfall.json or swimmer.json (every row: few patients here)."""
    response = client.get(reverse(f"trials:dashboard_{chart}", args=[trial.pk]), params)
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["shown"] == body["total"] == len(body["rows"])
    return body["rows"]


def test_lead_investigator_sees_every_sites_patients(client, trial, seeded, lead_investigator):
    client.force_login(lead_investigator)
    page = client.get(reverse("trials:dashboard", args=[trial.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for patient in seeded["SA"] + seeded["SB"]:
        assert patient.subject_id in html  # in the waterfall and swimmer "Numbers"
    stats = data(client, trial)
    everyone = ids(seeded["SA"]) | ids(seeded["SB"])
    assert {r["subject_id"] for r in patient_rows(client, trial, "swimmer")} == everyone
    assert {r["subject_id"] for r in patient_rows(client, trial, "waterfall")} == everyone
    assert stats["overall"]["rates"]["enrolled"] == 6
    assert set(stats["by_arm"]) == {"A", "B"} and set(stats["by_site"]) == {"SA", "SB"}
    assert stats["scope"]["trial_wide"] and stats["trial_level"] is None
    # The page states how each figure was computed.
    assert "Clopper-Pearson exact 95% CI" in html
    assert "median = smallest time with S(t) &lt;= 0.5" in html
    assert "log-log" in html and "Fisher&#x27;s exact test" in html
    assert "Log-rank test between arms: p = " in html
    assert stats["definitions"]["evaluable"] in html


def test_lead_investigator_filters_one_site(client, trial, seeded, lead_investigator):
    client.force_login(lead_investigator)
    stats = data(client, trial, site="SB")
    assert {r["subject_id"] for r in patient_rows(client, trial, "swimmer", site="SB")} == ids(
        seeded["SB"]
    )
    assert {r["subject_id"] for r in patient_rows(client, trial, "waterfall", site="SB")} == ids(
        seeded["SB"]
    )
    assert stats["overall"]["rates"]["enrolled"] == 3
    assert list(stats["by_site"]) == ["SB"]
    assert stats["enrollment"]["targets"] == {"SB": 10}
    url = reverse("trials:dashboard", args=[trial.pk])
    assert client.get(url, {"site": "NOPE"}).status_code == 404


def test_site_investigator_sees_own_patients_and_trial_level_rates(
    client, trial, seeded, investigator_site_a
):
    client.force_login(investigator_site_a)
    page = client.get(reverse("trials:dashboard", args=[trial.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for patient in seeded["SA"]:
        assert patient.subject_id in html
    for patient in seeded["SB"]:
        assert patient.subject_id not in html
    stats = data(client, trial)
    assert {r["subject_id"] for r in patient_rows(client, trial, "swimmer")} == ids(seeded["SA"])
    assert {r["subject_id"] for r in patient_rows(client, trial, "waterfall")} == ids(seeded["SA"])
    assert stats["overall"]["rates"]["enrolled"] == 3
    assert list(stats["by_site"]) == ["SA"]
    assert stats["enrollment"]["targets"] == {"SA": 10}
    # Trial-level aggregates: every site's patients counted, no patient rows.
    whole = stats["trial_level"]
    assert whole["overall"]["rates"]["enrolled"] == 6
    assert whole["by_arm"]["A"]["rates"]["evaluable"] == 4
    assert "swimmer" not in whole and "waterfall" not in whole and "by_site" not in whole
    assert all(set(m) == {"month", "total"} for m in whole["enrollment"]["months"])
    assert "SB" not in str(stats["trial_level"])
    assert "Whole trial (all sites)" in html
    # Another site cannot be chosen, and its CSV rows never appear.
    for name in ("dashboard", "dashboard_data", "dashboard_waterfall", "dashboard_swimmer"):
        assert (
            client.get(reverse(f"trials:{name}", args=[trial.pk]), {"site": "SB"}).status_code
            == 404
        )
    swimmer_csv = client.get(reverse("trials:dashboard_csv", args=[trial.pk, "swimmer"]))
    assert "CRYO-SB" not in swimmer_csv.content.decode()


def test_coordinator_without_dashboard_permission_is_refused(
    client, trial, seeded, coordinator_site_a
):
    client.force_login(coordinator_site_a)
    for url in (
        reverse("trials:dashboard", args=[trial.pk]),
        reverse("trials:dashboard_data", args=[trial.pk]),
        reverse("trials:dashboard_waterfall", args=[trial.pk]),
        reverse("trials:dashboard_swimmer", args=[trial.pk]),
        reverse("trials:dashboard_csv", args=[trial.pk, "rates"]),
    ):
        assert client.get(url).status_code == 403
    detail = client.get(reverse("trials:detail", args=[trial.pk])).content.decode()
    assert reverse("trials:dashboard", args=[trial.pk]) not in detail


def test_trial_detail_links_to_the_dashboard(client, trial, lead_investigator):
    client.force_login(lead_investigator)
    detail = client.get(reverse("trials:detail", args=[trial.pk])).content.decode()
    assert reverse("trials:dashboard", args=[trial.pk]) in detail


def test_another_trials_dashboard_is_not_found(
    client, seeded, lead_investigator, investigator_site_a
):
    other = TrialFactory(protocol_code="OTHER")
    TrialSiteFactory(trial=other)
    for user in (lead_investigator, investigator_site_a):
        client.force_login(user)
        for name, args in (
            ("trials:dashboard", [other.pk]),
            ("trials:dashboard_data", [other.pk]),
            ("trials:dashboard_waterfall", [other.pk]),
            ("trials:dashboard_swimmer", [other.pk]),
            ("trials:dashboard_csv", [other.pk, "rates"]),
        ):
            assert client.get(reverse(name, args=args)).status_code == 404


def test_unknown_chart_csv_is_not_found(client, trial, seeded, lead_investigator):
    client.force_login(lead_investigator)
    assert client.get(reverse("trials:dashboard_csv", args=[trial.pk, "pie"])).status_code == 404


def test_blinded_trial_hides_arm_level_efficacy_from_blinded_roles(
    client, trial, seeded, investigator_site_a, monitor, lead_investigator
):
    trial.blinding = trial.Blinding.BLINDED
    trial.save()
    for user in (investigator_site_a, monitor):
        client.force_login(user)
        html = client.get(reverse("trials:dashboard", args=[trial.pk])).content.decode()
        assert "arm-level efficacy hidden (blinded trial)" in html
        assert "Arm A" not in html and "Arm B" not in html
        stats = data(client, trial)
        assert not stats["arm_level"]
        for key in ("by_arm", "comparisons", "waterfall", "swimmer"):
            assert key not in stats
        if stats["trial_level"]:
            assert "by_arm" not in stats["trial_level"]
            assert "comparisons" not in stats["trial_level"]
        assert (
            '"arm"'
            not in client.get(reverse("trials:dashboard_data", args=[trial.pk])).content.decode()
        )
        assert stats["overall"]["rates"]["evaluable"] > 0  # trial-level figures remain
        assert stats["patient_rows"] == {}
        for chart in ("waterfall", "swimmer"):
            url = reverse("trials:dashboard_csv", args=[trial.pk, chart])
            assert client.get(url).status_code == 404
            # no per-patient rows at all, so no arm of any patient
            rows = client.get(reverse(f"trials:dashboard_{chart}", args=[trial.pk]))
            assert rows.status_code == 404 and '"arm"' not in rows.content.decode()
        rates_csv = client.get(reverse("trials:dashboard_csv", args=[trial.pk, "rates"]))
        assert "Arm" not in rates_csv.content.decode()
    # The lead investigator holds the unblinded-view permission.
    client.force_login(lead_investigator)
    stats = data(client, trial)
    assert stats["arm_level"] and set(stats["by_arm"]) == {"A", "B"}


def _cold_dashboard_queries(client, trial, django_assert_num_queries):
    cache.clear()
    # 1 session, 2 user, 3 the user's memberships (scope), 4 the trial (visible_to),
    # 5 arms and 6 trial-sites with their sites (trial header), 7 the stored outcomes.
    with django_assert_num_queries(7):
        assert client.get(reverse("trials:dashboard", args=[trial.pk])).status_code == 200
    # Warm cache: 1 session, 2 user, 3 memberships, 4 the trial; figures from the cache.
    with django_assert_num_queries(4):
        assert client.get(reverse("trials:dashboard", args=[trial.pk])).status_code == 200
    for name in ("dashboard_data", "dashboard_waterfall", "dashboard_swimmer"):
        with django_assert_num_queries(4):
            assert client.get(reverse(f"trials:{name}", args=[trial.pk])).status_code == 200


@pytest.mark.parametrize("per_site", [3, 30])
def test_dashboard_query_count_does_not_grow_with_patients(
    client,
    trial,
    trial_site_a,
    trial_site_b,
    lead_investigator,
    per_site,
    django_assert_num_queries,
):
    seed(trial, trial_site_a, trial_site_b, per_site=per_site)
    client.force_login(lead_investigator)
    _cold_dashboard_queries(client, trial, django_assert_num_queries)
    assert len(patient_rows(client, trial, "swimmer")) == 2 * per_site
    assert data(client, trial)["patient_rows"]["swimmer"]["total"] == 2 * per_site


@pytest.mark.parametrize("per_site", [3, 30])
def test_selector_query_count_is_constant(
    trial, trial_site_a, trial_site_b, investigator_site_a, per_site, django_assert_num_queries
):
    seed(trial, trial_site_a, trial_site_b, per_site=per_site)
    # 1 memberships, 2 arms, 3 trial-sites, 4 outcomes of site A, 5 outcomes of all sites
    # (the trial-level aggregates).
    with django_assert_num_queries(5):
        stats = trial_statistics_for(trial=trial, user=investigator_site_a)
    assert stats["overall"]["rates"]["enrolled"] == per_site
    assert stats["trial_level"]["overall"]["rates"]["enrolled"] == 2 * per_site
    with django_assert_num_queries(0):  # the same user object: scope and figures cached
        trial_statistics_for(trial=trial, user=investigator_site_a)


def test_repeat_views_come_from_the_cache_until_assessments_change(
    client,
    trial,
    trial_site_a,
    seeded,
    lead_investigator,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    client.force_login(lead_investigator)
    first = data(client, trial)
    second = data(client, trial)
    assert second["computed_at"] == first["computed_at"]
    assert second == first

    arm_a = trial.arms.get(code="A")
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = make_patient(trial_site_a, arm_a, changes=RESPONDER)
    third = data(client, trial)
    assert third["overall"]["rates"]["enrolled"] == 7
    assert newcomer.subject_id in {r["subject_id"] for r in patient_rows(client, trial, "swimmer")}

    # A recomputation that changes nothing keeps the cache; an explicit invalidation
    # (as after any change to imaging) recomputes.
    with django_capture_on_commit_callbacks(execute=True):
        response_recompute(patient=newcomer)
    user = lead_investigator
    trial_statistics_for(trial=trial, user=user)
    with django_assert_num_queries(0):
        trial_statistics_for(trial=trial, user=user)
    statistics_invalidate(trial_id=trial.pk)
    # 1 arms, 2 trial-sites (the header is versioned too), 3 outcomes.
    with django_assert_num_queries(3):
        trial_statistics_for(trial=trial, user=user)


def read_csv(client, trial, chart, **params):
    response = client.get(reverse("trials:dashboard_csv", args=[trial.pk, chart]), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_downloads_contain_the_numbers(client, trial, seeded, lead_investigator):
    client.force_login(lead_investigator)
    stats = data(client, trial)

    rates = read_csv(client, trial, "rates")
    overall = next(r for r in rates if r["group"] == "All patients" and r["scope"] == "Whole trial")
    orr = stats["overall"]["rates"]["orr"]
    assert int(overall["evaluable"]) == stats["overall"]["rates"]["evaluable"]
    assert float(overall["orr_pct"]) == pytest.approx(orr["estimate"] * 100, abs=1e-3)
    assert float(overall["orr_ci_lower_pct"]) == pytest.approx(orr["ci_lower"] * 100, abs=1e-3)
    assert float(overall["orr_ci_upper_pct"]) == pytest.approx(orr["ci_upper"] * 100, abs=1e-3)
    assert overall["method"] == "Clopper-Pearson exact 95% CI"
    assert {r["group"] for r in rates} >= {"Arm A", "Arm B", "All patients"}

    waterfall = read_csv(client, trial, "waterfall")
    assert [(r["subject_id"], float(r["best_change_pct"])) for r in waterfall] == [
        (r["subject_id"], r["best_change_pct"]) for r in patient_rows(client, trial, "waterfall")
    ]
    swimmer = read_csv(client, trial, "swimmer")
    assert [int(r["days_on_study"]) for r in swimmer] == [
        r["days_on_study"] for r in patient_rows(client, trial, "swimmer")
    ]
    km = read_csv(client, trial, "km-os")
    # every step of the curve (data.json holds the curve compressed for drawing)
    steps = trial_statistics_for(trial=trial, user=lead_investigator)["by_arm"]["A"]["os"]["steps"]
    arm_a = [r for r in km if r["group"] == "Arm A"]
    assert [float(r["time_days"]) for r in arm_a] == [s["time"] for s in steps]
    assert [int(r["at_risk"]) for r in arm_a] == [s["at_risk"] for s in steps]
    assert read_csv(client, trial, "km-pfs")
    enrollment = read_csv(client, trial, "enrollment")
    last_total = [r for r in enrollment if r["site"] == "ALL"][-1]
    assert int(last_total["enrolled_cumulative"]) == 6
    assert int(last_total["target"]) == 20


def test_page_offers_every_chart_with_numbers_and_download(
    client, trial, seeded, lead_investigator
):
    client.force_login(lead_investigator)
    html = client.get(reverse("trials:dashboard", args=[trial.pk])).content.decode()
    for chart in CHARTS:
        assert f'id="canvas-{chart}"' in html
        assert reverse("trials:dashboard_csv", args=[trial.pk, chart]) in html
    assert html.count("<summary>Numbers") == len(CHARTS)
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert "cdn" not in html.lower()


def test_site_investigator_with_two_sites_sees_both(
    client, trial, trial_site_a, trial_site_b, seeded
):
    user = UserFactory(username="pi_ab")
    for ts in (trial_site_a, trial_site_b):
        MembershipFactory(user=user, role=Role.SITE_INVESTIGATOR, trial=trial, trial_site=ts)
    client.force_login(user)
    stats = data(client, trial)
    assert stats["overall"]["rates"]["enrolled"] == 6
    assert not stats["scope"]["trial_wide"]
    assert data(client, trial, site="SB")["overall"]["rates"]["enrolled"] == 3


def test_empty_trial_renders(client, trial, trial_site_a, lead_investigator):
    arms(trial)
    client.force_login(lead_investigator)
    assert client.get(reverse("trials:dashboard", args=[trial.pk])).status_code == 200
    stats = data(client, trial)
    assert stats["overall"]["rates"]["evaluable"] == 0
    for chart in CHARTS:
        assert (
            client.get(reverse("trials:dashboard_csv", args=[trial.pk, chart])).status_code == 200
        )


def test_dashboard_csv_keeps_negative_changes_numeric_and_quotes_formulas(
    client, trial, seeded, lead_investigator
):
    from analysis.dashboard_tables import Table

    client.force_login(lead_investigator)
    response = client.get(reverse("trials:dashboard_csv", args=[trial.pk, "waterfall"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    changes = [r["best_change_pct"] for r in rows if r["best_change_pct"]]
    assert changes and any(c.startswith("-") for c in changes)
    assert all(float(c) == float(c.lstrip("'")) and not c.startswith("'") for c in changes)
    table = Table((("a", "A"), ("b", "B")), [["=1+1", -3.5]])
    assert table.csv().splitlines()[1] == "'=1+1,-3.5"


def test_data_and_csv_are_gzipped_the_page_is_not(client, trial, seeded, lead_investigator):
    import gzip
    import json

    client.force_login(lead_investigator)
    data_url = reverse("trials:dashboard_data", args=[trial.pk])
    packed = client.get(data_url, headers={"accept-encoding": "gzip"})
    assert packed["Content-Encoding"] == "gzip"
    plain = client.get(data_url)
    assert "Content-Encoding" not in plain
    unpacked = json.loads(gzip.decompress(packed.content))
    assert unpacked["overall"] == plain.json()["overall"]
    csv = client.get(
        reverse("trials:dashboard_csv", args=[trial.pk, "swimmer"]),
        headers={"accept-encoding": "gzip"},
    )
    assert csv["Content-Encoding"] == "gzip"
    for chart in ("waterfall", "swimmer"):
        url = reverse(f"trials:dashboard_{chart}", args=[trial.pk])
        packed = client.get(url, headers={"accept-encoding": "gzip"})
        assert packed["Content-Encoding"] == "gzip"
        assert json.loads(gzip.decompress(packed.content)) == client.get(url).json()
    # The page carries the CSRF token: never compressed (BREACH).
    page = client.get(
        reverse("trials:dashboard", args=[trial.pk]), headers={"accept-encoding": "gzip"}
    )
    assert page.status_code == 200 and "Content-Encoding" not in page
