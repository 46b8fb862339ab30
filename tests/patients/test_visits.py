from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from patients.models import Patient, Visit
from patients.selectors_visits import visits_due, visits_overdue
from patients.services.visits import (
    patient_local_today,
    visit_add_unscheduled,
    visit_mark_missed,
    visit_reschedule,
    visit_schedule_generate,
    visit_submit,
)

from .helpers_visits import (
    DAY,
    MON,
    THU,
    TUE,
    WED,
    as_post,
    enroll,
    setup_protocol,
    submit_data,
    visit,
)


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


def history_count(v: Visit) -> int:
    return v.history.count()


# --- schedule -------------------------------------------------------------------------


def test_schedule_lands_on_clinic_days_inside_the_windows(enrolled_a):
    monday = enrolled_a.enrollment.enrolled_on
    visits = {v.definition.code: v for v in enrolled_a.visits.select_related("definition")}
    # Visits anchored on first treatment wait for that date.
    assert set(visits) == {"D0", "W3", "D25", "W12"}
    for v in visits.values():
        assert v.scheduled_date.weekday() in (MON, WED), v  # lead site: Monday, Wednesday
        assert v.window_start <= v.scheduled_date <= v.window_end
        assert v.status == "planned"
    assert visits["D0"].scheduled_date == monday
    assert visits["W3"].scheduled_date == monday + 21 * DAY
    # Day 25 is a Friday: Wednesday (2 days before) is closer than Monday (3 after).
    assert visits["D25"].target_date == monday + 25 * DAY
    assert visits["D25"].scheduled_date == monday + 23 * DAY
    assert visits["W12"].window_start == monday + 77 * DAY
    assert visits["W12"].window_end == monday + 91 * DAY


def test_schedule_follows_the_other_sites_clinic_days_and_is_idempotent(
    patient_b, coordinator_site_b, protocol
):
    enrollment = enroll(patient_b, coordinator_site_b, protocol["arm"], number="R002")
    days = {v.scheduled_date.weekday() for v in patient_b.visits.all()}
    assert days <= {TUE, THU}
    assert visit_schedule_generate(enrollment=enrollment, acting_user=coordinator_site_b) == []
    assert patient_b.visits.count() == 4


# --- reschedule -----------------------------------------------------------------------


def test_reschedule_inside_window_with_reason(enrolled_a, coordinator_site_a):
    w12 = visit(enrolled_a, "W12")
    wednesday = w12.scheduled_date + 2 * DAY
    result = visit_reschedule(
        visit=w12, acting_user=coordinator_site_a, new_date=wednesday, reason="Patient travels"
    )
    assert result.warning == ""
    w12.refresh_from_db()
    assert w12.scheduled_date == wednesday
    last = w12.history.first()
    assert last.history_change_reason == "Patient travels"
    assert last.history_user == coordinator_site_a


def test_reschedule_to_a_non_clinic_day_warns_but_is_allowed(enrolled_a, coordinator_site_a):
    w12 = visit(enrolled_a, "W12")
    tuesday = w12.scheduled_date + DAY
    result = visit_reschedule(
        visit=w12, acting_user=coordinator_site_a, new_date=tuesday, reason="Special clinic"
    )
    assert "not a clinic day" in result.warning and "Monday, Wednesday" in result.warning
    w12.refresh_from_db()
    assert w12.scheduled_date == tuesday


@pytest.mark.parametrize(
    ("shift", "reason", "field"),
    [
        (10, "Outside", "new_date"),  # beyond window_end (+7)
        (-10, "Outside", "new_date"),
        (2, "", "reason"),
        (2, "   ", "reason"),
    ],
)
def test_reschedule_refused_outside_window_or_without_reason(
    enrolled_a, coordinator_site_a, shift, reason, field
):
    w12 = visit(enrolled_a, "W12")
    before = (w12.scheduled_date, history_count(w12))
    with pytest.raises(ValidationError) as exc:
        visit_reschedule(
            visit=w12,
            acting_user=coordinator_site_a,
            new_date=w12.target_date + shift * DAY,
            reason=reason,
        )
    assert field in exc.value.message_dict
    w12.refresh_from_db()
    assert (w12.scheduled_date, history_count(w12)) == before


def test_reschedule_page(client, enrolled_a, coordinator_site_a):
    w12 = visit(enrolled_a, "W12")
    client.force_login(coordinator_site_a)
    url = reverse("patients:visit_reschedule", args=[w12.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"new_date": (w12.window_end + DAY).isoformat(), "reason": "x"})
    assert bad.status_code == 200
    assert "inside the visit window" in bad.context["form"].errors["new_date"][0]
    tuesday = w12.scheduled_date + DAY
    ok = client.post(url, {"new_date": tuesday.isoformat(), "reason": "Patient asked"}, follow=True)
    assert ok.redirect_chain[-1][0] == reverse("patients:detail", args=[enrolled_a.pk])
    assert "not a clinic day" in ok.content.decode()
    w12.refresh_from_db()
    assert w12.scheduled_date == tuesday


def test_submitted_visit_cannot_be_rescheduled(enrolled_a, coordinator_site_a):
    w3 = visit(enrolled_a, "W3")
    visit_submit(
        visit=w3, acting_user=coordinator_site_a, actual_date=w3.scheduled_date, **submit_data()
    )
    with pytest.raises(ValidationError) as exc:
        visit_reschedule(
            visit=w3, acting_user=coordinator_site_a, new_date=w3.scheduled_date, reason="x"
        )
    assert "Only a planned visit" in exc.value.message_dict["status"][0]


# --- unscheduled ----------------------------------------------------------------------


def test_unscheduled_visit_added_from_the_patient_page(
    client, enrolled_a, coordinator_site_a, today
):
    client.force_login(coordinator_site_a)
    url = reverse("patients:visit_unscheduled", args=[enrolled_a.pk])
    refused = client.post(url, {"scheduled_date": today.isoformat(), "reason": ""})
    assert refused.status_code == 200 and "reason" in refused.context["form"].errors
    response = client.post(url, {"scheduled_date": today.isoformat(), "reason": "Fever"})
    v = Visit.objects.get(patient=enrolled_a, definition__isnull=True)
    assert response.status_code == 302
    assert response.url == reverse("patients:visit_detail", args=[v.pk])
    assert (v.status, v.unscheduled_reason, v.scheduled_date) == ("planned", "Fever", today)
    page = client.get(reverse("patients:detail", args=[enrolled_a.pk])).content.decode()
    assert "Unscheduled" in page
    # It can be submitted like any visit; no window means no deviation.
    visit_submit(visit=v, acting_user=coordinator_site_a, actual_date=today, **submit_data())
    v.refresh_from_db()
    assert v.status == "completed" and not v.is_deviation


def test_unscheduled_visit_needs_a_patient_on_study(patient_a, coordinator_site_a):
    today = patient_local_today(patient_a)
    with pytest.raises(ValidationError) as exc:
        visit_add_unscheduled(
            patient=patient_a, acting_user=coordinator_site_a, scheduled_date=today, reason="x"
        )
    assert "on study" in exc.value.message_dict["patient"][0]
    assert not Visit.objects.exists()


# --- submit ---------------------------------------------------------------------------


def test_submit_visit_in_window(client, enrolled_a, coordinator_site_a):
    w3 = visit(enrolled_a, "W3")
    client.force_login(coordinator_site_a)
    response = client.post(
        reverse("patients:visit_submit", args=[w3.pk]),
        as_post(submit_data(actual_date=w3.scheduled_date + DAY)),
    )
    assert response.status_code == 302
    w3.refresh_from_db()
    assert w3.status == "completed" and w3.actual_date == w3.scheduled_date + DAY
    assert not w3.is_deviation and w3.ecog == 1 and w3.ae_review_done
    assert w3.submitted_by == coordinator_site_a and w3.submitted_at is not None
    enrolled_a.refresh_from_db()
    assert enrolled_a.last_known_alive_date == w3.actual_date


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("future", "cannot be in the future"),
        ("before_enrollment", "cannot be before enrollment"),
    ],
)
def test_submit_refuses_future_or_pre_enrollment_date_naming_actual_date(
    client, enrolled_a, coordinator_site_a, today, when, message
):
    v = visit(enrolled_a, "D0")
    actual = today + 3 * DAY if when == "future" else enrolled_a.enrollment.enrolled_on - DAY
    client.force_login(coordinator_site_a)
    response = client.post(
        reverse("patients:visit_submit", args=[v.pk]),
        as_post(submit_data(actual_date=actual, deviation_reason="Reason given")),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in e for e in errors["actual_date"]), errors
    v.refresh_from_db()
    assert v.status == "planned" and v.actual_date is None and v.history.count() == 1
    enrolled_a.refresh_from_db()
    assert enrolled_a.last_known_alive_date is None


def test_out_of_window_visit_needs_a_deviation_reason(client, enrolled_a, coordinator_site_a):
    w3 = visit(enrolled_a, "W3")
    late = w3.window_end + 2 * DAY
    client.force_login(coordinator_site_a)
    url = reverse("patients:visit_submit", args=[w3.pk])
    refused = client.post(url, as_post(submit_data(actual_date=late)))
    assert refused.status_code == 200
    errors = refused.context["form"].errors
    assert list(errors) == ["deviation_reason"]
    assert "outside the window" in errors["deviation_reason"][0]
    w3.refresh_from_db()
    assert w3.status == "planned" and w3.history.count() == 1  # nothing saved
    enrolled_a.refresh_from_db()
    assert enrolled_a.last_known_alive_date is None

    accepted = client.post(
        url, as_post(submit_data(actual_date=late, deviation_reason="Patient was abroad"))
    )
    assert accepted.status_code == 302
    w3.refresh_from_db()
    assert w3.status == "completed" and w3.is_deviation
    assert w3.deviation_reason == "Patient was abroad"
    page = client.get(reverse("patients:detail", args=[enrolled_a.pk])).content.decode()
    assert "Protocol deviation" in page


def test_deviation_reason_is_dropped_for_a_visit_inside_its_window(enrolled_a, coordinator_site_a):
    w3 = visit(enrolled_a, "W3")
    visit_submit(
        visit=w3,
        acting_user=coordinator_site_a,
        actual_date=w3.scheduled_date,
        **submit_data(deviation_reason="not needed"),
    )
    w3.refresh_from_db()
    assert not w3.is_deviation and w3.deviation_reason == ""


def test_editing_a_submitted_visit_requires_a_reason(client, enrolled_a, coordinator_site_a):
    w3 = visit(enrolled_a, "W3")
    visit_submit(
        visit=w3, acting_user=coordinator_site_a, actual_date=w3.scheduled_date, **submit_data()
    )
    client.force_login(coordinator_site_a)
    url = reverse("patients:visit_submit", args=[w3.pk])
    page = client.get(url)
    assert 'name="reason"' in page.content.decode()
    rows = w3.history.count()
    refused = client.post(url, as_post(submit_data(actual_date=w3.scheduled_date, ecog=2)))
    assert refused.status_code == 200 and "reason" in refused.context["form"].errors
    w3.refresh_from_db()
    assert w3.ecog == 1 and w3.history.count() == rows
    with pytest.raises(ValidationError) as exc:
        visit_submit(
            visit=w3,
            acting_user=coordinator_site_a,
            actual_date=w3.scheduled_date,
            **submit_data(ecog=2),
        )
    assert "reason" in exc.value.message_dict

    ok = client.post(
        url,
        as_post(
            submit_data(actual_date=w3.scheduled_date, ecog=2, reason="ECOG misread from source")
        ),
    )
    assert ok.status_code == 302
    w3.refresh_from_db()
    assert w3.ecog == 2
    last = w3.history.first()
    assert last.history_change_reason == "ECOG misread from source"
    assert last.prev_record.ecog == 1


def test_last_known_alive_only_moves_forward(enrolled_a, coordinator_site_a):
    w3, d25 = visit(enrolled_a, "W3"), visit(enrolled_a, "D25")
    visit_submit(
        visit=d25, acting_user=coordinator_site_a, actual_date=d25.scheduled_date, **submit_data()
    )
    visit_submit(
        visit=w3, acting_user=coordinator_site_a, actual_date=w3.scheduled_date, **submit_data()
    )
    enrolled_a.refresh_from_db()
    assert enrolled_a.last_known_alive_date == d25.scheduled_date
    record = enrolled_a.history.first()
    assert record.last_known_alive_date == d25.scheduled_date
    assert record.history_user == coordinator_site_a and "Seen alive" in (
        record.history_change_reason or ""
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"vital_status": "dead"}, "vital_status", "Change status"),
        ({"ecog": 5}, "ecog", "ECOG 5 means dead"),
        ({"ecog": 7}, "ecog", "0 to 5"),
    ],
)
def test_death_is_not_recorded_on_a_visit(
    enrolled_a, coordinator_site_a, overrides, field, message
):
    w3 = visit(enrolled_a, "W3")
    with pytest.raises(ValidationError) as exc:
        visit_submit(
            visit=w3,
            acting_user=coordinator_site_a,
            actual_date=w3.scheduled_date,
            **submit_data(**overrides),
        )
    assert message in exc.value.message_dict[field][0]
    w3.refresh_from_db()
    assert w3.status == "planned"


# --- missed ---------------------------------------------------------------------------


def test_mark_missed_then_submit_late(enrolled_a, coordinator_site_a):
    w3 = visit(enrolled_a, "W3")
    with pytest.raises(ValidationError):
        visit_mark_missed(visit=w3, acting_user=coordinator_site_a, reason="")
    visit_mark_missed(visit=w3, acting_user=coordinator_site_a, reason="No show, phoned twice")
    w3.refresh_from_db()
    assert w3.status == "missed"
    assert w3.history.first().history_change_reason == "No show, phoned twice"
    # The visit did take place after all: it can still be submitted.
    visit_submit(
        visit=w3, acting_user=coordinator_site_a, actual_date=w3.scheduled_date, **submit_data()
    )
    w3.refresh_from_db()
    assert w3.status == "completed"


def test_future_visit_cannot_be_marked_missed(enrolled_a, coordinator_site_a):
    w12 = visit(enrolled_a, "W12")
    with pytest.raises(ValidationError) as exc:
        visit_mark_missed(visit=w12, acting_user=coordinator_site_a, reason="Will not come")
    assert "not opened yet" in exc.value.message_dict["status"][0]
    w12.refresh_from_db()
    assert w12.status == "planned"


# --- coordinator home page selectors --------------------------------------------------


def test_due_and_overdue_visits(enrolled_a, coordinator_site_a, coordinator_site_b, today):
    overdue = list(visits_overdue(user=coordinator_site_a, today=today))
    assert [v.definition.code for v in overdue] == ["D0", "W3", "D25"]
    w12 = visit(enrolled_a, "W12")
    due = visits_due(user=coordinator_site_a, start=today, end=today + 40 * DAY)
    assert list(due) == [w12]
    assert not visits_overdue(user=coordinator_site_b, today=today).exists()
    assert not visits_due(user=coordinator_site_b, start=today, end=today + 40 * DAY).exists()


def test_patient_page_shows_visits_with_weekday_and_overdue(client, enrolled_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    html = client.get(reverse("patients:detail", args=[enrolled_a.pk])).content.decode()
    assert 'id="visits"' in html and "W12 · Week 12" in html
    assert "Overdue" in html and 'class="overdue"' in html
    w12 = visit(enrolled_a, "W12")
    assert f'{w12.scheduled_date:%Y-%m-%d} <span class="muted">Mon</span>' in html
    assert reverse("patients:visit_reschedule", args=[w12.pk]) in html
    assert reverse("patients:status", args=[enrolled_a.pk]) in html


def test_visit_detail_links_to_history(client, enrolled_a, coordinator_site_a, monitor):
    w3 = visit(enrolled_a, "W3")
    for user in (coordinator_site_a, monitor):
        client.force_login(user)
        response = client.get(reverse("patients:visit_detail", args=[w3.pk]))
        assert response.status_code == 200
        assert reverse("audit:history", args=["patients.visit", w3.pk]) in response.content.decode()
    history = client.get(reverse("audit:history", args=["patients.visit", w3.pk]))
    assert history.status_code == 200


# --- permissions and scoping ----------------------------------------------------------


def test_monitor_cannot_submit_and_nothing_is_written(client, enrolled_a, monitor):
    w3 = visit(enrolled_a, "W3")
    client.force_login(monitor)
    url = reverse("patients:visit_submit", args=[w3.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, as_post(submit_data(actual_date=w3.scheduled_date)))
    assert response.status_code == 403
    for name in ("visit_reschedule", "visit_missed"):
        assert client.post(reverse(f"patients:{name}", args=[w3.pk]), {}).status_code == 403
    w3.refresh_from_db()
    assert w3.status == "planned" and w3.history.count() == 1
    with pytest.raises(PermissionDenied):
        visit_submit(visit=w3, acting_user=monitor, actual_date=w3.scheduled_date, **submit_data())
    enrolled_a.refresh_from_db()
    assert enrolled_a.last_known_alive_date is None


def test_coordinator_b_gets_404_on_site_a_visit_pages(client, enrolled_a, coordinator_site_b):
    w3 = visit(enrolled_a, "W3")
    client.force_login(coordinator_site_b)
    for name in ("visit_detail", "visit_submit", "visit_reschedule", "visit_missed"):
        url = reverse(f"patients:{name}", args=[w3.pk])
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"reason": "x"}).status_code == 404, url
    for name in ("visit_unscheduled", "status"):
        assert client.get(reverse(f"patients:{name}", args=[enrolled_a.pk])).status_code == 404
    w3.refresh_from_db()
    assert w3.status == "planned" and w3.history.count() == 1
    with pytest.raises(PermissionDenied):
        visit_submit(
            visit=w3,
            acting_user=coordinator_site_b,
            actual_date=w3.scheduled_date,
            **submit_data(),
        )


def test_visit_definition_admin_lists_by_trial_and_day(client, data_manager, protocol, trial):
    client.force_login(data_manager)
    response = client.get(reverse("admin:trials_visitdefinition_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f">{code}<") for code in ("D0", "W3", "D25", "FT4", "W12")]
    assert positions == sorted(positions)
    add = client.post(
        reverse("admin:trials_visitdefinition_add"),
        {
            "trial": trial.pk,
            "code": "W24",
            "name": "Week 24",
            "anchor": "enrollment",
            "day_offset": "168",
            "window_before": "7",
            "window_after": "7",
            "labs": "on",
            "ae_review": "on",
            "order": "10",
        },
    )
    assert add.status_code == 302
    assert trial.visit_definitions.filter(code="W24").exists()


def test_submission_is_refused_after_consent_withdrawal(enrolled_a, coordinator_site_a, today):
    """Consent withdrawal ends data collection (patient_is_collecting)."""
    from patients.models import Consent

    w3 = visit(enrolled_a, "W3")
    consent = Consent(
        patient=enrolled_a,
        consent_version=_consent_version(enrolled_a),
        language="zh",
        consented_at=datetime.datetime.combine(
            enrolled_a.enrollment.enrolled_on - 2 * DAY, datetime.time(9), tzinfo=datetime.UTC
        ),
        withdrawn_on=w3.window_start,
    )
    consent.save()
    with pytest.raises(ValidationError) as exc:
        visit_submit(
            visit=w3, acting_user=coordinator_site_a, actual_date=w3.scheduled_date, **submit_data()
        )
    assert "withdrew consent" in exc.value.message_dict["actual_date"][0]
    assert Patient.objects.get(pk=enrolled_a.pk).last_known_alive_date is None


def _consent_version(patient):
    from trials.models import ConsentVersion

    return ConsentVersion.objects.create(
        trial=patient.trial_site.trial,
        version="1.0",
        language="zh",
        ethics_approval_ref="EC-1",
        approved_on=datetime.date(2025, 1, 1),
        effective_from=datetime.date(2025, 1, 1),
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_of_one_visit_do_not_both_land(enrolled_a, coordinator_site_a):
    """The visit row is locked: the second submission sees a submitted visit, which
    needs a reason for change, instead of silently overwriting the first."""
    import threading

    from django.db import connection

    w3 = visit(enrolled_a, "W3")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(ecog: int) -> None:
        try:
            barrier.wait()
            visit_submit(
                visit=w3,
                acting_user=coordinator_site_a,
                actual_date=w3.scheduled_date,
                **submit_data(ecog=ecog),
            )
            outcomes.append("ok")
        except ValidationError as exc:
            outcomes.append(",".join(exc.message_dict))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(e,)) for e in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "reason"]
    w3.refresh_from_db()
    assert w3.status == "completed"
    assert w3.history.filter(status="completed").count() == 1
