"""Edit checks as data: the eligibility engine expresses them, the admin configures them,
saving a record runs them, and a passing check closes its own query."""

from __future__ import annotations

import datetime
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse

from domain.eligibility import Status, evaluate
from monitoring.demo import DEMO_CHECKS, seed_monitoring
from monitoring.models import DataQuery, EditCheck, QueryMessage
from monitoring.services import edit_checks_run_trial
from patients.models import Visit
from patients.services.visits import visit_submit

from ..patients.helpers_visits import submit_data

IN_ORDER = {"field": "days_between:onset_date:resolution_date", "op": ">=", "value": 0}
REQUIRED_WHEN = {
    "any": [
        {"not": {"field": "serious", "op": "is_true"}},
        {"field": "awareness_at", "op": "present"},
    ]
}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"onset_date": datetime.date(2026, 1, 2), "resolution_date": datetime.date(2026, 1, 5)},
            Status.MET,
        ),
        (
            {"onset_date": datetime.date(2026, 1, 5), "resolution_date": datetime.date(2026, 1, 2)},
            Status.NOT_MET,
        ),
        ({"onset_date": datetime.date(2026, 1, 5), "resolution_date": None}, Status.MISSING),
    ],
)
def test_engine_expresses_dates_in_order(data, expected):
    assert evaluate(IN_ORDER, data, catalogue={}).status is expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"serious": False, "awareness_at": None}, Status.MET),
        ({"serious": True, "awareness_at": "2026-01-02"}, Status.MET),
        ({"serious": True, "awareness_at": ""}, Status.NOT_MET),
    ],
)
def test_engine_expresses_required_when(data, expected):
    assert evaluate(REQUIRED_WHEN, data, catalogue={}).status is expected


def ecog_check_form(trial, rule):
    return {
        "trial": trial.pk,
        "code": "EC-ECOG",
        "target": ContentType.objects.get_for_model(Visit).pk,
        "field_name": "ecog",
        "rule": json.dumps(rule),
        "message": "ECOG above 2 needs confirmation",
        "message_zh": "ECOG 大于 2 需确认",
        "active": "on",
    }


def test_admin_refuses_a_bad_rule_and_unknown_field(client, data_manager, trial):
    client.force_login(data_manager)
    form = ecog_check_form(trial, {"field": "nonsense", "op": "<=", "value": 2})
    form["field_name"] = "nope"
    response = client.post(reverse("admin:monitoring_editcheck_add"), form)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "rule" in errors and "field_name" in errors
    assert not EditCheck.objects.exists()


def test_check_configured_in_admin_raises_then_closes_its_query(
    client, data_manager, trial, visit_a, coordinator_site_a
):
    client.force_login(data_manager)
    response = client.post(
        reverse("admin:monitoring_editcheck_add"),
        ecog_check_form(trial, {"field": "ecog", "op": "<=", "value": 2}),
    )
    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )
    check = EditCheck.objects.get(code="EC-ECOG")

    def correct(ecog):
        visit = Visit.objects.get(pk=visit_a.pk)
        visit_submit(
            visit=visit,
            acting_user=coordinator_site_a,
            actual_date=visit.actual_date,
            reason="correction",
            **submit_data(ecog=ecog),
        )

    correct(3)  # saving runs the check: a query on the field
    query = DataQuery.objects.get(edit_check=check)
    assert query.status == "open" and query.field_name == "ecog" and query.origin == "edit_check"
    assert "ECOG above 2" in query.text
    correct(4)  # still failing: no second query
    assert DataQuery.objects.filter(edit_check=check).count() == 1
    correct(1)  # passes: the check closes its own query
    query.refresh_from_db()
    assert query.status == "closed"
    assert query.messages.filter(action=QueryMessage.Action.AUTO_CLOSE).exists()


def test_demo_checks_on_the_whole_trial(trial, visit_a, coordinator_site_a, capsys):
    seed_monitoring(trial)
    assert EditCheck.objects.filter(trial=trial).count() == len(DEMO_CHECKS)
    # Outside its window without a deviation reason (written directly: the form refuses it).
    Visit.objects.filter(pk=visit_a.pk).update(
        actual_date=visit_a.window_end + datetime.timedelta(days=3), deviation_reason=""
    )
    tally = edit_checks_run_trial(trial=trial)
    assert tally.get("raised") == 1
    query = DataQuery.objects.get(edit_check__code="EC-VISIT-WINDOW")
    assert query.object_id == visit_a.pk
    call_command("run_edit_checks", trial.protocol_code)
    assert DataQuery.objects.filter(edit_check__code="EC-VISIT-WINDOW").count() == 1
    assert "known: 1" in capsys.readouterr().out


def test_run_checks_button(client, monitor, coordinator_site_a, trial, visit_a):
    seed_monitoring(trial)
    url = reverse("monitoring:run_checks", args=[trial.pk])
    client.force_login(coordinator_site_a)
    assert client.post(url).status_code == 403
    client.force_login(monitor)
    assert client.post(url).status_code == 302
