from __future__ import annotations

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse

from domain.eligibility import ICCA_DEFAULT_CRITERIA
from trials.models import EligibilityCriterion, ProtocolVersion
from trials.services import criteria_load_defaults


@pytest.fixture
def version(trial):
    return ProtocolVersion.objects.create(
        trial=trial, version="1.0", effective_date=datetime.date(2025, 1, 1)
    )


def criterion_form(version, rule, **overrides):
    data = {
        "protocol_version": version.pk,
        "code": "INC-ECOG",
        "kind": "inclusion",
        "applies_to": "all",
        "text": "ECOG performance status 0 or 1.",
        "text_zh": "",
        "rule": rule if isinstance(rule, str) else json.dumps(rule),
        "order": "10",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"field": "ecgo", "op": "<=", "value": 1},
            "unknown field &#x27;ecgo&#x27;; did you mean &#x27;ecog&#x27;?",
        ),
        ({"field": "ecog", "op": "=<", "value": 1}, "unknown operator &#x27;=&lt;&#x27;"),
        ({"field": "ecog", "op": "<=", "value": "one"}, "is not a whole number"),
        ({"field": "platelets", "op": ">=", "value": 75000}, "outside the plausible range"),
        ({"all": []}, "needs a non-empty list of rules"),
        ('{"field": "ecog", "op": "<=", "value": 1', "The rule is not valid JSON (line 1"),
        ("{'field': 'ecog'}", "Use double quotes"),
    ],
)
def test_malformed_rule_is_refused_naming_the_problem(client, data_manager, version, rule, message):
    client.force_login(data_manager)
    response = client.post(
        reverse("admin:trials_eligibilitycriterion_add"), criterion_form(version, rule)
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["rule"], errors
    assert message in response.content.decode()
    assert len(errors["rule"]) == 1  # the model's own check adds no duplicate
    assert not EligibilityCriterion.objects.exists()


def test_valid_criterion_is_saved_with_its_trial(client, data_manager, version):
    client.force_login(data_manager)
    response = client.post(
        reverse("admin:trials_eligibilitycriterion_add"),
        criterion_form(version, {"field": "ecog", "op": "<=", "value": 1}),
    )
    assert response.status_code == 302
    criterion = EligibilityCriterion.objects.get()
    assert criterion.trial == version.trial and criterion.rule["op"] == "<="
    assert criterion.history.get().history_username == "dm"
    page = client.get(reverse("admin:trials_eligibilitycriterion_change", args=[criterion.pk]))
    assert "&quot;op&quot;: &quot;&lt;=&quot;,\n" in page.content.decode()  # indented JSON
    assert "days_between:" in page.content.decode()  # field reference
    changed = client.post(
        reverse("admin:trials_eligibilitycriterion_change", args=[criterion.pk]),
        criterion_form(
            version,
            {"field": "ecog", "op": "<=", "value": 2},
            change_reason="Protocol amendment allows ECOG 2",
        ),
    )
    assert changed.status_code == 302
    criterion.refresh_from_db()
    assert criterion.rule["value"] == 2
    assert criterion.history.first().history_change_reason == "Protocol amendment allows ECOG 2"


def test_criterion_list_filters(client, data_manager, version):
    criteria_load_defaults(protocol_version=version, acting_user=data_manager)
    client.force_login(data_manager)
    url = reverse("admin:trials_eligibilitycriterion_changelist")
    response = client.get(url, {"kind": "exclusion", "trial__id__exact": version.trial_id})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 7
    response = client.get(
        url, {"protocol_version__id__exact": version.pk, "applies_to": "expatriate"}
    )
    assert response.context["cl"].result_count == 4


def test_coordinator_cannot_edit_criteria(client, coordinator_site_a, version):
    coordinator_site_a.is_staff = True
    coordinator_site_a.save()
    client.force_login(coordinator_site_a)
    response = client.post(
        reverse("admin:trials_eligibilitycriterion_add"),
        criterion_form(version, {"field": "ecog", "op": "<=", "value": 1}),
    )
    assert response.status_code == 403
    assert not EligibilityCriterion.objects.exists()
    with pytest.raises(PermissionDenied):
        criteria_load_defaults(protocol_version=version, acting_user=coordinator_site_a)
    assert not EligibilityCriterion.objects.exists()


def test_load_defaults_is_idempotent_and_keeps_edits(data_manager, version):
    assert criteria_load_defaults(protocol_version=version, acting_user=data_manager) == len(
        ICCA_DEFAULT_CRITERIA
    )
    ecog = version.criteria.get(code="INC-ECOG")
    assert ecog.text_zh and ecog.trial == version.trial
    assert ecog.history.get().history_user == data_manager
    ecog.rule = {"field": "ecog", "op": "<=", "value": 2}
    ecog.save()
    assert criteria_load_defaults(protocol_version=version, acting_user=data_manager) == 0
    assert version.criteria.count() == len(ICCA_DEFAULT_CRITERIA)
    assert version.criteria.get(code="INC-ECOG").rule["value"] == 2
    codes = list(version.criteria.order_by("order").values_list("code", flat=True))
    assert codes == [c.code for c in ICCA_DEFAULT_CRITERIA]


def test_load_icca_criteria_command(capsys, version, data_manager):
    call_command("load_icca_criteria", "CRYO", "1.0", "--user", "dm")
    assert "25 criteria created, 25 in this version" in capsys.readouterr().out
    call_command("load_icca_criteria", "CRYO", "1.0")
    assert "0 criteria created, 25 in this version" in capsys.readouterr().out
    with pytest.raises(CommandError, match="Known versions: 1.0"):
        call_command("load_icca_criteria", "CRYO", "9.9")
    with pytest.raises(CommandError, match="No account"):
        call_command("load_icca_criteria", "CRYO", "1.0", "--user", "nobody")
