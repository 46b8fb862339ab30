"""Trial setup through the UI only, in Chromium: a data manager creates a two-arm trial
with its protocol version, visit schedule and consent version on the trial's admin page,
then adds an intervention and an eligibility criterion built in the rule editor."""

from __future__ import annotations

import json

import pytest

from trials.models import EligibilityCriterion, Trial

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_data_manager_creates_a_two_arm_trial_through_the_ui(page, live_server, data_manager):
    data_manager.is_staff = True
    data_manager.save()
    login(page, live_server, data_manager.username)

    # The rule editor builds the criterion's rule and tries it on sample answers.
    page.goto(f"{live_server.url}/trials/rule-editor/")
    page.select_option("#id_c0-field", "ecog")
    page.select_option("#id_c0-op", "<=")
    page.fill("#id_c0-value", "1")
    page.fill("#id_answers", "ecog = 2")
    page.click("#rule-editor button.primary")
    assert page.get_attribute("#rule-status", "data-status") == "not_met"
    rule = json.loads(page.inner_text("#rule-json"))
    assert rule == {"field": "ecog", "op": "<=", "value": 1}

    page.goto(f"{live_server.url}/admin/trials/trial/add/")
    page.fill("#id_protocol_code", "UI-TWO-ARM")
    page.fill("#id_title", "Two-arm trial set up in the browser")
    page.select_option("#id_phase", "2")
    page.select_option("#id_design", "randomized")
    page.fill("#id_planned_followup_months", "24")
    for n, (code, name) in enumerate((("A", "Cryoablation + lenvatinib"), ("B", "Lenvatinib"))):
        page.fill(f"#id_arms-{n}-code", code)
        page.fill(f"#id_arms-{n}-name", name)
    page.check("#id_arms-1-is_control")
    page.fill("#id_protocol_versions-0-version", "1.0")
    page.fill("#id_protocol_versions-0-effective_date", "2026-01-01")
    for n, (code, name, day) in enumerate((("D0", "Baseline", "0"), ("W6", "Week 6", "42"))):
        page.fill(f"#id_visit_definitions-{n}-code", code)
        page.fill(f"#id_visit_definitions-{n}-name", name)
        page.fill(f"#id_visit_definitions-{n}-day_offset", day)
    page.fill("#id_consent_versions-0-version", "1.0")
    page.select_option("#id_consent_versions-0-language", "en")
    page.fill("#id_consent_versions-0-ethics_approval_ref", "EC-2026-01")
    page.fill("#id_consent_versions-0-approved_on", "2026-01-01")
    page.fill("#id_consent_versions-0-effective_from", "2026-01-01")
    page.click("input[name=_continue]")
    page.wait_for_selector("#id_interventions-0-name, .errornote")
    errors = page.locator(".errorlist").all_inner_texts()
    assert page.locator(".errornote").count() == 0, errors

    trial = Trial.objects.get(protocol_code="UI-TWO-ARM")
    assert sorted(trial.arms.values_list("code", flat=True)) == ["A", "B"]
    assert trial.visit_definitions.count() == 2
    assert trial.consent_versions.count() == 1 and trial.protocol_versions.count() == 1

    page.select_option("#id_interventions-0-kind", "procedure")
    page.fill("#id_interventions-0-name", "Cryoablation")
    page.check("#id_interventions-0-arms label:has-text('A:') input")
    page.select_option("#id_criteria-0-protocol_version", index=1)
    page.fill("#id_criteria-0-code", "INC-ECOG")
    page.select_option("#id_criteria-0-kind", "inclusion")
    page.fill("#id_criteria-0-text", "ECOG performance status 0-1")
    page.fill("#id_criteria-0-rule", json.dumps(rule))
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success, .errornote")
    assert page.locator(".errornote").count() == 0, page.locator(".errorlist").all_inner_texts()

    intervention = trial.interventions.get()
    assert list(intervention.arms.values_list("code", flat=True)) == ["A"]
    assert EligibilityCriterion.objects.get(trial=trial).rule == rule
