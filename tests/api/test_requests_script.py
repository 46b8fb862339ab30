"""The README's example client (``docs/api_example.py``, only ``requests``) against a real
server: a coordinator registers, screens, consents, enrolls and, three weeks later,
submits the follow-up visit; the coordinator of another site gets 404s and writes
nothing; an enrollment retried with the same Idempotency-Key returns the first
allocation and creates nothing."""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from api.services import api_token_create
from docs import api_example as example
from patients.models import Enrollment, Patient, Visit

from .helpers_api import counts, history_counts, ready_trial

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(live_server: Any, trial: Any, trial_site_a: Any, trial_site_b: Any) -> dict[str, Any]:
    setup = ready_trial(trial)
    return {"url": live_server.url, "setup": setup}


def client_for(server: dict[str, Any], user: Any) -> example.Client:
    _token, raw = api_token_create(user=user, name="hospital system")
    return example.Client(server["url"], raw, retries=0)


def refused_with_404(call: Any) -> None:
    """The other site's call is a 404 and changes no record and no history row."""
    rows, history = counts(), history_counts()
    with pytest.raises(example.ApiError) as caught:
        call()
    assert caught.value.status == 404, caught.value.body
    assert counts() == rows and history_counts() == history


def test_coordinator_workflow_with_requests_only(
    server, trial_site_a, coordinator_site_a, coordinator_site_b
):
    site_a = client_for(server, coordinator_site_a)
    site_b = client_for(server, coordinator_site_b)
    today = timezone.localdate()
    version = server["setup"]["consent_versions"]["zh"]

    patient = example.register_patient(site_a, trial_site_a.pk, example.EXAMPLE_PATIENT)
    pid = patient["id"]
    assert patient["subject_id"] == "CRYO-SA-0001" and patient["status"] == "screening"
    # registering at another site's trial-site: 404 naming the field (not a site of yours;
    # the API never confirms another site's record exists)
    with pytest.raises(example.ApiError) as caught:
        example.register_patient(site_b, trial_site_a.pk, example.EXAMPLE_PATIENT)
    assert caught.value.status == 404 and "trial_site" in caught.value.body
    assert Patient.objects.count() == 1

    refused_with_404(lambda: example.screen(site_b, pid, today, example.EXAMPLE_ANSWERS))
    screening = example.screen(site_a, pid, today, example.EXAMPLE_ANSWERS)
    assert screening["result"] == "eligible" and screening["failed_codes"] == []
    assert {r["status"] for r in screening["criteria_results"]} <= {"met", "not_applicable"}

    consented_at = timezone.now() - datetime.timedelta(minutes=10)
    refused_with_404(lambda: example.consent(site_b, pid, version.pk, consented_at, "zh"))
    example.consent(site_a, pid, version.pk, consented_at, "zh")

    refused_with_404(lambda: example.enroll(site_b, pid, today, idempotency_key="b-1"))
    enrollment = example.enroll(site_a, pid, today, idempotency_key="enroll-42")
    assert enrollment["randomization_number"] == "R-SA-0001"
    assert enrollment["arm_code"] in ("A", "B") and enrollment["arm_visible"] is True

    # the network dropped the answer: the site retries with the same key
    rows, history = counts(), history_counts()
    retry = site_a.request(
        "POST",
        f"/api/v1/patients/{pid}/enroll/",
        json={"enrolled_on": today.isoformat()},
        idempotency_key="enroll-42",
    )
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == enrollment
    assert counts() == rows and history_counts() == history
    assert Enrollment.objects.count() == 1

    assert example.visits(site_b, pid) == []  # lists show only your own site's records
    three_weeks = today + datetime.timedelta(days=21)
    later = timezone.now() + datetime.timedelta(days=21)
    with mock.patch("django.utils.timezone.now", return_value=later):
        due = example.due_visit(example.visits(site_a, pid), three_weeks)
        assert due is not None and due["definition_code"] == "W3"
        refused_with_404(lambda: example.submit_visit(site_b, due["id"], three_weeks, ecog=1))
        done = example.submit_visit(site_a, due["id"], three_weeks, ecog=1, notes="Well.")
    assert done["status"] == "completed" and done["actual_date"] == three_weeks.isoformat()
    visit = Visit.objects.get(pk=due["id"])
    assert visit.submitted_by_username == "crc_a" and visit.history.first().history_origin == "api"
    assert Patient.objects.get(pk=pid).last_known_alive_date == three_weeks


def test_example_script_main(server, coordinator_site_a, monkeypatch, capsys):
    """``python docs/api_example.py`` as the README shows it."""
    _token, raw = api_token_create(user=coordinator_site_a, name="readme")
    monkeypatch.setenv("HBT_API_URL", server["url"])
    monkeypatch.setenv("HBT_API_TOKEN", raw)
    assert example.main() == 0
    out = capsys.readouterr().out
    assert "registered CRYO-SA-0001" in out and "screening eligible" in out
    assert "enrolled R-SA-0001" in out and "visit D0 completed" in out
