"""Trial setup in one flow (the trial's admin page with its inlines) and the eligibility
rule editor with its "try this rule" box (the screening's own engine)."""

from __future__ import annotations

import json

from django.urls import reverse

from trials.models import EligibilityCriterion, Trial

from .test_admin_config import inline_management, trial_form


def test_a_data_manager_creates_a_two_arm_trial_on_one_page(client, data_manager):
    data_manager.is_staff = True
    data_manager.save()
    client.force_login(data_manager)
    add = reverse("admin:trials_trial_add")
    page = client.get(add).content.decode()
    for prefix in ("arms", "protocol_versions", "visit_definitions", "consent_versions"):
        assert f'name="{prefix}-TOTAL_FORMS"' in page
    form = trial_form(protocol_code="TWO-ARM")
    form.update(
        inline_management(arms=2, protocol_versions=1, visit_definitions=2, consent_versions=1)
    )
    form.update(
        {
            "arms-0-code": "A",
            "arms-0-name": "Cryoablation + lenvatinib",
            "arms-0-allocation_ratio": "1",
            "arms-1-code": "B",
            "arms-1-name": "Lenvatinib",
            "arms-1-allocation_ratio": "1",
            "arms-1-is_control": "on",
            "protocol_versions-0-version": "1.0",
            "protocol_versions-0-effective_date": "2026-01-01",
            "protocol_versions-0-ethics_approval_ref": "EC-1",
            "visit_definitions-0-code": "D0",
            "visit_definitions-0-name": "Baseline",
            "visit_definitions-0-anchor": "enrollment",
            "visit_definitions-0-day_offset": "0",
            "visit_definitions-0-window_before": "0",
            "visit_definitions-0-window_after": "3",
            "visit_definitions-0-order": "0",
            "visit_definitions-1-code": "W6",
            "visit_definitions-1-name": "Week 6",
            "visit_definitions-1-anchor": "enrollment",
            "visit_definitions-1-day_offset": "42",
            "visit_definitions-1-window_before": "3",
            "visit_definitions-1-window_after": "3",
            "visit_definitions-1-tumor_assessment": "on",
            "visit_definitions-1-order": "1",
            "consent_versions-0-version": "1.0",
            "consent_versions-0-language": "en",
            "consent_versions-0-ethics_approval_ref": "EC-1",
            "consent_versions-0-approved_on": "2026-01-01",
            "consent_versions-0-effective_from": "2026-01-01",
            "consent_versions-0-requires_reconsent": "on",
            "_continue": "1",
        }
    )
    response = client.post(add, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    trial = Trial.objects.get(protocol_code="TWO-ARM")
    assert sorted(trial.arms.values_list("code", flat=True)) == ["A", "B"]
    assert trial.visit_definitions.count() == 2 and trial.consent_versions.count() == 1
    version = trial.protocol_versions.get()
    assert trial.arms.get(code="A").history.count() == 1  # history like any admin change

    # Second step on the same page: interventions (their arms) and criteria (their version).
    change = reverse("admin:trials_trial_change", args=[trial.pk])
    page = client.get(change)
    assert page.status_code == 200
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items()}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    data.update(trial_form(protocol_code="TWO-ARM"))
    for formset in page.context["inline_admin_formsets"]:
        fs = formset.formset
        management = fs.management_form
        for name in management.fields:
            data[f"{fs.prefix}-{name}"] = management.initial.get(name, 0)
        for row in fs.initial_forms:
            for name, field in row.fields.items():
                value = row.initial.get(name, field.initial)
                if hasattr(value, "pk"):
                    value = value.pk
                if value is True:
                    value = "on"
                if value is not None and value is not False:  # 0 is a value
                    data[row.add_prefix(name)] = value
        data[f"{fs.prefix}-TOTAL_FORMS"] = str(len(fs.initial_forms))
    arm_a = trial.arms.get(code="A")
    data.update(
        {
            "interventions-TOTAL_FORMS": "1",
            "interventions-0-kind": "procedure",
            "interventions-0-name": "Cryoablation",
            "interventions-0-arms": [str(arm_a.pk)],
            "criteria-TOTAL_FORMS": "1",
            "criteria-0-protocol_version": str(version.pk),
            "criteria-0-code": "INC-ECOG",
            "criteria-0-kind": "inclusion",
            "criteria-0-applies_to": "all",
            "criteria-0-text": "ECOG 0-1",
            "criteria-0-rule": json.dumps({"field": "ecog", "op": "<=", "value": 1}),
        }
    )
    response = client.post(change, data)
    assert response.status_code == 302, [
        f.formset.errors for f in response.context["inline_admin_formsets"]
    ]
    assert list(trial.interventions.get().arms.values_list("code", flat=True)) == ["A"]
    assert EligibilityCriterion.objects.get(trial=trial).rule["field"] == "ecog"


def editor_post(client, **extra):
    data = {"combine": "all", "rule": "", "answers": ""}
    data.update(extra)
    return client.post(reverse("trials:rule_editor"), data)


def test_rule_editor_builds_the_json_and_tries_it(client, data_manager):
    client.force_login(data_manager)
    assert client.get(reverse("trials:rule_editor")).status_code == 200
    response = editor_post(
        client,
        **{"c0-field": "ecog", "c0-op": "<=", "c0-value": "1"},
        answers="ecog = 2",
    )
    html = response.content.decode()
    built = json.loads(response.context["built"])
    assert built == {"field": "ecog", "op": "<=", "value": 1}
    assert 'data-status="not_met"' in html
    response = editor_post(
        client, **{"c0-field": "ecog", "c0-op": "<=", "c0-value": "1"}, answers="ecog = 0"
    )
    assert 'data-status="met"' in response.content.decode()


def test_rule_editor_combines_and_refuses_bad_input_in_one_round(client, data_manager):
    client.force_login(data_manager)
    response = editor_post(
        client,
        **{
            "c0-field": "ecog",
            "c0-op": "<=",
            "c0-value": "one",
            "c1-field": "",
            "c1-op": "==",
        },
        answers="nonsense = 3",
    )
    assert response.status_code == 200
    rows = response.context["rows"]
    assert "value" in rows[0].errors and "field" in rows[1].errors
    assert "answers" in response.context["form"].errors
    response = editor_post(client, rule='{"field": "ecog", "op": "<=", "value": 1}', answers="")
    assert json.loads(response.context["built"])["op"] == "<="


def test_only_trial_configurators_use_the_editor(client, coordinator_site_a):
    client.force_login(coordinator_site_a)
    assert client.get(reverse("trials:rule_editor")).status_code == 403
