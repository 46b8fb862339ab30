"""Issue 11 on the dashboard: the analysis plan stated, hazard ratios, landmarks,
follow-up, the subgroup forest plot, and the data-quality list instead of silent drops."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse

from .helpers_dashboard import seed


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_dashboard_states_the_plan_and_shows_hr_forest_and_follow_up(
    client, trial, trial_site_a, trial_site_b, lead_investigator
):
    trial.orr_null_rate = 0.05
    trial.orr_sided = "one-sided"
    trial.ci_band = "log"
    trial.save()
    seed(trial, trial_site_a, trial_site_b)
    client.force_login(lead_investigator)
    html = client.get(reverse("trials:dashboard", args=[trial.pk])).content.decode()
    assert "Time origin" in html and "randomization date" in html
    assert "exact binomial test against 5%, one-sided" in html
    assert "Median follow-up (reverse KM)" in html
    assert "Hazard ratio (95% CI)" in html and "B vs A" in html
    assert 'id="chart-forest"' in html and "<svg" in html
    assert "Numbers at risk (months)" in html
    stats = client.get(reverse("trials:dashboard_data", args=[trial.pk])).json()
    assert stats["analysis_settings"]["ci_band"] == "log"
    assert stats["analysis_settings"]["orr_null_rate"] == 0.05
    assert stats["overall"]["os"]["ci_band"] == "log"
    assert stats["overall"]["rates"]["binomial_test"]["sided"] == "one-sided"
    assert {row["factor"] for row in stats["forest"]} >= {"all", "site"}


def test_dashboard_lists_data_problems_instead_of_dropping_patients(
    client, trial, trial_site_a, trial_site_b, lead_investigator
):
    from patients.models import ResponseSummary

    patients = seed(trial, trial_site_a, trial_site_b)
    victim = patients["SA"][0]
    summary = ResponseSummary.objects.get(patient=victim)
    outcome = dict(summary.outcome)
    # what the engine stores for a scan dated before the baseline scan
    outcome["problems"] = [
        {
            "subject_id": victim.subject_id,
            "field": "assessments[1].date",
            "message": "follow-up scan 2026-01-01 is not after the baseline scan 2026-01-02",
        }
    ]
    summary.outcome = outcome
    summary.save()
    client.force_login(lead_investigator)
    html = client.get(reverse("trials:dashboard", args=[trial.pk])).content.decode()
    assert 'id="data-quality"' in html
    assert "is not after the baseline scan" in html
    stats = client.get(reverse("trials:dashboard_data", args=[trial.pk])).json()
    assert stats["overall"]["rates"]["enrolled"] == 6  # nobody dropped
    assert stats["data_quality"][0]["subject_id"] == victim.subject_id


def test_api_statistics_state_the_analysis_plan(client, trial, lead_investigator):
    trial.time_origin = "first_treatment"
    trial.landmark_months = "3,9"
    trial.save()
    client.force_login(lead_investigator)
    body = client.get(f"/api/v1/trials/{trial.pk}/statistics/").json()
    assert body["analysis_settings"]["time_origin"] == "first_treatment"
    assert body["analysis_settings"]["landmark_months"] == [3.0, 9.0]
    assert body["definitions"]["day0"].startswith("first treatment date")
    assert body["data_quality"] == []


def test_trial_rejects_malformed_landmarks(trial):
    from django.core.exceptions import ValidationError

    trial.landmark_months = "6,twelve"
    with pytest.raises(ValidationError) as info:
        trial.full_clean()
    assert "landmark_months" in info.value.message_dict


def test_recompute_outcomes_follows_a_new_time_origin(trial, trial_site_a, trial_site_b):
    import io

    from django.core.management import call_command

    from patients.models import ResponseSummary

    patients = seed(trial, trial_site_a, trial_site_b)
    victim = patients["SA"][0]
    enrollment = victim.enrollment
    enrollment.first_treatment_date = enrollment.enrolled_on + datetime.timedelta(days=5)
    enrollment.save()  # test setup: the stored outcome still counts from randomization
    before = ResponseSummary.objects.get(patient=victim).outcome["day0"]
    assert before == enrollment.enrolled_on.isoformat()  # randomization: the default
    trial.time_origin = "first_treatment"
    trial.save()
    out = io.StringIO()
    call_command("recompute_outcomes", trial.protocol_code, stdout=out)
    assert "6 outcomes recomputed" in out.getvalue()
    after = ResponseSummary.objects.get(patient=victim).outcome["day0"]
    assert after == enrollment.first_treatment_date.isoformat() != before
