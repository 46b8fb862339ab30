from __future__ import annotations

import pytest
from django.urls import reverse

from trials.models import Trial


def trial_form(**overrides):
    data = {
        "protocol_code": "NEW-ICC",
        "title": "A new trial",
        "short_title": "",
        "nct_id": "",
        "chictr_id": "",
        "phase": "2",
        "design": "randomized",
        "blinding": "open",
        "status": "draft",
        "response_criteria": "recist11",
        "planned_followup_months": "24",
        "imaging_interval_weeks": "6",
        "confirmation_min_days": "28",
        "min_sd_days": "42",
        "randomization_block_sizes": "4,6",
        # statistical analysis plan (issue 11)
        "time_origin": "randomization",
        "ci_band": "log-log",
        "orr_null_rate": "",
        "orr_sided": "two-sided",
        "landmark_months": "6,12,24",
        "analysis_population": "evaluable",
        "nya_handling": "exclude",
        "nya_days": "",
    }
    data.update(overrides)
    data.update(inline_management())
    return data


#: The setup inlines of the trial's admin page (trials/admin_setup.py), by form prefix.
SETUP_PREFIXES = (
    "arms",
    "protocol_versions",
    "visit_definitions",
    "consent_versions",
    "interventions",
    "criteria",
)


def inline_management(**totals):
    """Management forms of the trial page's inlines: ``totals`` rows per prefix."""
    data = {}
    for prefix in SETUP_PREFIXES:
        data[f"{prefix}-TOTAL_FORMS"] = str(totals.get(prefix, 0))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
    return data


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"nct_id": "NCT123"}, "nct_id", "NCT followed by 8 digits"),
        ({"chictr_id": "CHICTR2400081234"}, "chictr_id", "ChiCTR followed by 10 digits"),
        ({"protocol_code": "bad code"}, "protocol_code", "upper-case letters"),
        ({"planned_followup_months": "0"}, "planned_followup_months", "greater than or equal to 1"),
        ({"landmark_months": "6,x"}, "landmark_months", "positive numbers of months"),
        ({"orr_null_rate": "1.5"}, "orr_null_rate", "less than or equal to 0.999"),
        (
            {"randomization_block_sizes": "4,x"},
            "randomization_block_sizes",
            "positive whole numbers",
        ),
        (
            {"design": "single_arm", "blinding": "blinded"},
            "blinding",
            "single-arm trial cannot be blinded",
        ),
        ({"title": "t" * 301}, "title", "at most 300 characters"),
    ],
)
def test_bad_trial_configuration_is_refused(client, data_manager, overrides, field, message):
    client.force_login(data_manager)
    response = client.post(reverse("admin:trials_trial_add"), trial_form(**overrides))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(message in e for e in errors[field]), errors
    assert not Trial.objects.filter(protocol_code__in=["NEW-ICC", "bad code"]).exists()


def test_valid_registry_ids_are_accepted(client, data_manager):
    client.force_login(data_manager)
    response = client.post(
        reverse("admin:trials_trial_add"),
        trial_form(nct_id="NCT04361331", chictr_id="ChiCTR-IPR-17012345"),
    )
    assert response.status_code == 302
    trial = Trial.objects.get(protocol_code="NEW-ICC")
    assert trial.history.first().history_username == "dm"


def test_illegal_status_change_is_refused_with_reason_required(client, data_manager, trial):
    client.force_login(data_manager)
    url = reverse("admin:trials_trial_change", args=[trial.pk])
    data = trial_form(
        protocol_code=trial.protocol_code, status="draft", change_reason="Back to draft"
    )
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["status"]
    assert "Cannot change status from “Recruiting” to “Draft”" in errors[0]
    no_reason = client.post(url, trial_form(protocol_code=trial.protocol_code, status="closed"))
    assert "A reason for change is required" in no_reason.content.decode()
    trial.refresh_from_db()
    assert trial.status == "recruiting"
    ok = client.post(
        url,
        trial_form(
            protocol_code=trial.protocol_code,
            status="closed",
            change_reason="Accrual target reached",
        ),
    )
    assert ok.status_code == 302
    trial.refresh_from_db()
    assert trial.status == "closed"
    assert trial.history.first().history_change_reason == "Accrual target reached"


def test_coordinator_cannot_configure_trials(client, coordinator_site_a, trial):
    coordinator_site_a.is_staff = True
    coordinator_site_a.save()
    client.force_login(coordinator_site_a)
    response = client.post(reverse("admin:trials_trial_add"), trial_form())
    assert response.status_code == 403
    assert not Trial.objects.filter(protocol_code="NEW-ICC").exists()
