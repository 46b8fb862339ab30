from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from patients.models import Patient, Visit
from patients.services.status import (
    patient_complete,
    patient_mark_lost,
    patient_record_death,
    patient_resume_follow_up,
    patient_withdraw_from_study,
)
from patients.services.visits import patient_local_today, visit_submit

from .helpers_visits import DAY, enroll, setup_protocol, submit_data, visit


@pytest.fixture
def protocol(trial):
    return setup_protocol(trial)


@pytest.fixture
def enrolled_a(patient_a, coordinator_site_a, protocol):
    enroll(patient_a, coordinator_site_a, protocol["arm"])
    return patient_a


@pytest.fixture
def today(enrolled_a):
    return patient_local_today(enrolled_a)


def statuses(patient):
    return dict(patient.visits.values_list("definition__code", "status"))


def test_death_sets_died_and_cancels_later_visits(client, enrolled_a, coordinator_site_a, today):
    d25 = visit(enrolled_a, "D25")
    death = d25.scheduled_date - DAY
    client.force_login(coordinator_site_a)
    response = client.post(
        reverse("patients:status", args=[enrolled_a.pk]),
        {"status": "died", "death_date": death.isoformat(), "reason": "Hospital death notice"},
    )
    assert response.status_code == 302
    enrolled_a.refresh_from_db()
    assert enrolled_a.status == "died" and enrolled_a.death_date == death
    # Visits after the death are cancelled; those before stay (they may still be entered).
    assert statuses(enrolled_a) == {
        "D0": "planned",
        "W3": "planned",
        "D25": "cancelled",
        "W12": "cancelled",
    }
    cancelled = visit(enrolled_a, "W12").history.first()
    assert cancelled.history_change_reason == "Hospital death notice"
    assert cancelled.history_user == coordinator_site_a
    assert enrolled_a.history.first().history_change_reason == "Hospital death notice"
    # A visit after the death cannot be submitted any more.
    with pytest.raises(ValidationError):
        visit_submit(
            visit=visit(enrolled_a, "D25"),
            acting_user=coordinator_site_a,
            actual_date=d25.scheduled_date,
            **submit_data(),
        )


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("future", "cannot be in the future"),
        ("before_enrollment", "cannot be before enrollment"),
        ("before_alive", "last known alive"),
    ],
)
def test_death_date_rules(enrolled_a, coordinator_site_a, today, when, message):
    w3 = visit(enrolled_a, "W3")
    visit_submit(
        visit=w3, acting_user=coordinator_site_a, actual_date=w3.scheduled_date, **submit_data()
    )
    enrolled_a.refresh_from_db()
    death = {
        "future": today + DAY,
        "before_enrollment": enrolled_a.enrollment.enrolled_on - DAY,
        "before_alive": w3.scheduled_date - DAY,
    }[when]
    rows = enrolled_a.history.count()
    with pytest.raises(ValidationError) as exc:
        patient_record_death(
            patient=enrolled_a, acting_user=coordinator_site_a, death_date=death, reason="x"
        )
    assert any(message in m for m in exc.value.message_dict["death_date"])
    enrolled_a.refresh_from_db()
    assert enrolled_a.status == "on_study" and enrolled_a.death_date is None
    assert enrolled_a.history.count() == rows
    assert "cancelled" not in statuses(enrolled_a).values()


def test_illegal_status_change_is_refused_with_the_transition_message(
    client, patient_a, coordinator_site_a
):
    today = patient_local_today(patient_a)
    with pytest.raises(ValidationError) as exc:
        patient_complete(
            patient=patient_a, acting_user=coordinator_site_a, on_date=today, reason="Done"
        )
    message = exc.value.message_dict["status"][0]
    assert "Cannot change status from “Screening” to “Completed”" in message
    client.force_login(coordinator_site_a)
    response = client.post(
        reverse("patients:status", args=[patient_a.pk]),
        {"status": "died", "death_date": today.isoformat(), "reason": "x"},
    )
    assert response.status_code == 200
    assert "Cannot change status" in response.context["form"].errors["status"][0]
    patient_a.refresh_from_db()
    assert patient_a.status == "screening" and patient_a.death_date is None


def test_complete_cancels_the_remaining_visits(enrolled_a, coordinator_site_a, today):
    patient_complete(
        patient=enrolled_a, acting_user=coordinator_site_a, on_date=today, reason="Protocol end"
    )
    enrolled_a.refresh_from_db()
    assert enrolled_a.status == "completed" and enrolled_a.last_known_alive_date == today
    assert statuses(enrolled_a)["W12"] == "cancelled"
    assert statuses(enrolled_a)["W3"] == "planned"
    # Died after completion is still recorded for survival.
    patient_record_death(
        patient=enrolled_a, acting_user=coordinator_site_a, death_date=today, reason="Notice"
    )
    enrolled_a.refresh_from_db()
    assert enrolled_a.status == "died"


def test_lost_to_follow_up_and_found_again(client, enrolled_a, coordinator_site_a, today):
    w3 = visit(enrolled_a, "W3")
    client.force_login(coordinator_site_a)
    url = reverse("patients:status", args=[enrolled_a.pk])
    missing = client.post(url, {"status": "lost", "reason": "No answer"})
    assert missing.status_code == 200
    assert "last_known_alive_date" in missing.context["form"].errors
    response = client.post(
        url,
        {
            "status": "lost",
            "last_known_alive_date": w3.scheduled_date.isoformat(),
            "reason": "Phone disconnected",
        },
    )
    assert response.status_code == 302
    enrolled_a.refresh_from_db()
    assert enrolled_a.status == "lost"
    assert enrolled_a.last_known_alive_date == w3.scheduled_date
    assert statuses(enrolled_a)["W12"] == "planned"  # still due if the patient is found
    patient_resume_follow_up(
        patient=enrolled_a, acting_user=coordinator_site_a, on_date=today, reason="Called back"
    )
    enrolled_a.refresh_from_db()
    assert enrolled_a.status == "on_study" and enrolled_a.last_known_alive_date == today


def test_lost_date_cannot_go_back_before_a_visit(enrolled_a, coordinator_site_a):
    w3 = visit(enrolled_a, "W3")
    visit_submit(
        visit=w3, acting_user=coordinator_site_a, actual_date=w3.scheduled_date, **submit_data()
    )
    with pytest.raises(ValidationError) as exc:
        patient_mark_lost(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            last_known_alive_date=w3.scheduled_date - DAY,
            reason="x",
        )
    assert "last_known_alive_date" in exc.value.message_dict
    assert Patient.objects.get(pk=enrolled_a.pk).status == "on_study"


def test_withdraw_from_study_cancels_future_visits(enrolled_a, coordinator_site_a, today):
    patient_withdraw_from_study(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        on_date=today,
        reason="Investigator decision: toxicity",
    )
    enrolled_a.refresh_from_db()
    assert enrolled_a.status == "withdrawn"
    assert statuses(enrolled_a) == {
        "D0": "planned",
        "W3": "planned",
        "D25": "planned",
        "W12": "cancelled",
    }
    assert visit(enrolled_a, "W12").history.first().history_change_reason == (
        "Investigator decision: toxicity"
    )


def test_status_changes_need_a_reason(enrolled_a, coordinator_site_a, today):
    with pytest.raises(ValidationError) as exc:
        patient_withdraw_from_study(
            patient=enrolled_a, acting_user=coordinator_site_a, on_date=today, reason=" "
        )
    assert "reason" in exc.value.message_dict
    assert Patient.objects.get(pk=enrolled_a.pk).status == "on_study"


def test_monitor_and_other_site_cannot_change_status(
    client, enrolled_a, monitor, coordinator_site_b, today
):
    url = reverse("patients:status", args=[enrolled_a.pk])
    data = {"status": "died", "death_date": today.isoformat(), "reason": "x"}
    client.force_login(monitor)
    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    client.force_login(coordinator_site_b)
    assert client.get(url).status_code == 404
    assert client.post(url, data).status_code == 404
    with pytest.raises(PermissionDenied):
        patient_record_death(patient=enrolled_a, acting_user=monitor, death_date=today, reason="x")
    enrolled_a.refresh_from_db()
    assert enrolled_a.status == "on_study" and enrolled_a.death_date is None
    assert not Visit.objects.filter(status="cancelled").exists()
