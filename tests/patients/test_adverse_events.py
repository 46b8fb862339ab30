from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from patients.models import AdverseEvent, AdverseEventCausality
from patients.services.safety import adverse_event_record, adverse_event_update
from patients.services.visits import patient_local_today, visit_submit

from .helpers_visits import DAY, as_post, enroll, setup_protocol, submit_data, visit


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


@pytest.fixture
def arm_causality(protocol):
    i = protocol["interventions"]
    return {
        i["Cryoablation"].pk: "not_related",
        i["Lenvatinib"].pk: "probable",
        i["Toripalimab"].pk: "unlikely",
    }


def ae_data(today, causality, **overrides):
    data = {
        "term": "Hypertension",
        "grade": 2,
        "serious": False,
        "serious_criteria": [],
        "onset_date": today - 10 * DAY,
        "resolution_date": None,
        "outcome": "not_recovered",
        "action_taken": "reduced",
        "description": "",
        "causality": causality,
    }
    data.update(overrides)
    return data


def ae_post(data):
    causality = data.pop("causality")
    post = as_post(data)
    post["serious_criteria"] = data["serious_criteria"]
    for pk, value in causality.items():
        post[f"causality_{pk}"] = value
    return post


def test_record_adverse_event_with_causality(enrolled_a, coordinator_site_a, today, arm_causality):
    event = adverse_event_record(
        patient=enrolled_a, acting_user=coordinator_site_a, **ae_data(today, arm_causality)
    )
    assert (event.term, event.grade, event.serious) == ("Hypertension", 2, False)
    assert event.recorded_by == coordinator_site_a
    assert {c.intervention_id: c.relatedness for c in event.causality.all()} == arm_causality
    assert event.history.first().history_user == coordinator_site_a


def test_serious_fatal_grade_5_event(enrolled_a, coordinator_site_a, today, arm_causality):
    event = adverse_event_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        **ae_data(
            today,
            arm_causality,
            term="Hepatic haemorrhage",
            grade=5,
            serious=True,
            serious_criteria=["death", "hospitalisation"],
            outcome="fatal",
            resolution_date=today - 8 * DAY,
            action_taken="na",
        ),
    )
    assert event.serious and event.serious_criteria == ["death", "hospitalisation"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"grade": 5, "serious": True, "serious_criteria": ["death"], "outcome": "recovering"},
            "outcome",
            "grade 5",
        ),
        (
            {
                "grade": 5,
                "serious": True,
                "serious_criteria": ["hospitalisation"],
                "outcome": "fatal",
            },
            "serious_criteria",
            "results in death",
        ),
        ({"grade": 3, "outcome": "fatal"}, "grade", "fatal adverse event is CTCAE grade 5"),
        ({"serious": True}, "serious_criteria", "at least one ICH E2A"),
        ({"serious_criteria": ["hospitalisation"]}, "serious_criteria", "non-serious"),
        ({"grade": 6}, "grade", "1 to 5"),
        ({"grade": 0}, "grade", "1 to 5"),
        ({"term": "  "}, "term", "Enter the adverse event term"),
        ("resolution_before_onset", "resolution_date", "cannot be before the onset"),
        ({"outcome": "recovered"}, "resolution_date", "needs its resolution date"),
        ("onset_future", "onset_date", "cannot be in the future"),
        ("onset_before_registration", "onset_date", "cannot be before registration"),
    ],
)
def test_adverse_event_rules(
    enrolled_a, coordinator_site_a, today, arm_causality, overrides, field, message
):
    if overrides == "resolution_before_onset":
        overrides = {"outcome": "recovered", "resolution_date": today - 11 * DAY}
    elif overrides == "onset_future":
        overrides = {"onset_date": today + DAY}
    elif overrides == "onset_before_registration":
        overrides = {"onset_date": enrolled_a.enrollment.enrolled_on - 30 * DAY}
    with pytest.raises(ValidationError) as exc:
        adverse_event_record(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            **ae_data(today, arm_causality, **overrides),
        )
    errors = exc.value.message_dict
    assert any(message in m for m in errors.get(field, [])), errors
    assert not AdverseEvent.objects.exists()
    assert not AdverseEvent.history.exists()


def test_causality_is_required_for_each_intervention_of_the_arm(
    client, enrolled_a, coordinator_site_a, today, arm_causality, protocol
):
    lenvatinib = protocol["interventions"]["Lenvatinib"]
    missing = {k: v for k, v in arm_causality.items() if k != lenvatinib.pk}
    with pytest.raises(ValidationError) as exc:
        adverse_event_record(
            patient=enrolled_a, acting_user=coordinator_site_a, **ae_data(today, missing)
        )
    assert "Lenvatinib" in exc.value.message_dict[f"causality_{lenvatinib.pk}"][0]
    # An intervention of the other arm is not the patient's.
    gemox = protocol["interventions"]["GEMOX"]
    with pytest.raises(ValidationError) as exc:
        adverse_event_record(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            **ae_data(today, {**arm_causality, gemox.pk: "possible"}),
        )
    assert "interventions of the patient's arm" in exc.value.message_dict["causality"][0]
    # The form asks for exactly the arm's interventions.
    client.force_login(coordinator_site_a)
    page = client.get(reverse("patients:ae_new", args=[enrolled_a.pk])).content.decode()
    assert "Relatedness to Cryoablation" in page and "Relatedness to Toripalimab" in page
    assert "GEMOX" not in page
    post = ae_post(ae_data(today, missing))
    response = client.post(reverse("patients:ae_new", args=[enrolled_a.pk]), post)
    assert response.status_code == 200
    assert f"causality_{lenvatinib.pk}" in response.context["form"].errors
    assert not AdverseEvent.objects.exists() and not AdverseEventCausality.objects.exists()


def test_adverse_event_recorded_at_a_visit(client, enrolled_a, coordinator_site_a, arm_causality):
    w3 = visit(enrolled_a, "W3")
    visit_submit(
        visit=w3, acting_user=coordinator_site_a, actual_date=w3.scheduled_date, **submit_data()
    )
    client.force_login(coordinator_site_a)
    url = reverse("patients:ae_new", args=[enrolled_a.pk])
    form_page = client.get(url, {"visit": w3.pk})
    assert form_page.context["form"].initial["visit"] == w3.pk
    data = ae_data(w3.scheduled_date + DAY, arm_causality, onset_date=w3.scheduled_date - DAY)
    data["visit"] = w3.pk
    response = client.post(url, ae_post(data))
    event = AdverseEvent.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("patients:ae_detail", args=[event.pk])
    assert event.visit == w3 and event.causality.count() == 3
    detail = client.get(reverse("patients:visit_detail", args=[w3.pk])).content.decode()
    assert "Hypertension" in detail
    patient_page = client.get(reverse("patients:detail", args=[enrolled_a.pk])).content.decode()
    assert 'id="adverse-events"' in patient_page and "Hypertension" in patient_page
    # An event reported at a visit cannot start after it.
    with pytest.raises(ValidationError) as exc:
        adverse_event_record(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            **ae_data(w3.scheduled_date, arm_causality, onset_date=w3.scheduled_date + DAY),
            visit=w3,
        )
    assert "onset_date" in exc.value.message_dict


def test_adverse_events_only_for_enrolled_patients(patient_a, coordinator_site_a, protocol):
    today = patient_local_today(patient_a)
    with pytest.raises(ValidationError) as exc:
        adverse_event_record(
            patient=patient_a,
            acting_user=coordinator_site_a,
            **ae_data(today, {}, onset_date=today),
        )
    assert "enrolled patients only" in exc.value.message_dict["patient"][0]
    assert not AdverseEvent.objects.exists()


def test_update_requires_reason_and_lands_in_history(
    client, enrolled_a, coordinator_site_a, today, arm_causality, protocol
):
    event = adverse_event_record(
        patient=enrolled_a, acting_user=coordinator_site_a, **ae_data(today, arm_causality)
    )
    with pytest.raises(ValidationError) as exc:
        adverse_event_update(
            adverse_event=event, acting_user=coordinator_site_a, reason="", grade=3
        )
    assert "reason" in exc.value.message_dict
    client.force_login(coordinator_site_a)
    url = reverse("patients:ae_edit", args=[event.pk])
    assert client.get(url).status_code == 200
    data = ae_data(today, {**arm_causality, protocol["interventions"]["Lenvatinib"].pk: "definite"})
    data.update(grade=3, outcome="recovered", resolution_date=today - 2 * DAY)
    refused = client.post(url, ae_post(dict(data)))
    assert refused.status_code == 200 and "reason" in refused.context["form"].errors
    event.refresh_from_db()
    assert event.grade == 2
    post = ae_post(dict(data))
    post["reason"] = "Grade corrected after source verification"
    assert client.post(url, post).status_code == 302
    event.refresh_from_db()
    assert (event.grade, event.outcome) == (3, "recovered")
    assert event.history.first().history_change_reason == (
        "Grade corrected after source verification"
    )
    lenvatinib = event.causality.get(intervention=protocol["interventions"]["Lenvatinib"])
    assert lenvatinib.relatedness == "definite"
    assert lenvatinib.history.first().history_change_reason.startswith("Grade corrected")
    # Inconsistent corrections are refused like new entries.
    with pytest.raises(ValidationError) as exc:
        adverse_event_update(
            adverse_event=event, acting_user=coordinator_site_a, reason="x", outcome="fatal"
        )
    assert "grade" in exc.value.message_dict


def test_ae_list_filters_and_paginates(
    client, enrolled_a, coordinator_site_a, today, arm_causality, django_assert_num_queries
):
    for n in range(26):
        adverse_event_record(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            **ae_data(today, arm_causality, term=f"Fatigue {n}", grade=1 + n % 3),
        )
    adverse_event_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        **ae_data(
            today,
            arm_causality,
            term="Cryoshock",
            grade=4,
            serious=True,
            serious_criteria=["life_threatening", "hospitalisation"],
        ),
    )
    client.force_login(coordinator_site_a)
    url = reverse("patients:ae_list")
    first = client.get(url)
    assert len(first.context["page"].object_list) == 25
    assert "Page 1 of 2" in first.content.decode()
    serious = client.get(url, {"serious": "yes"})
    assert [e.term for e in serious.context["page"]] == ["Cryoshock"]
    grade4 = client.get(url, {"grade": 4})
    assert [e.term for e in grade4.context["page"]] == ["Cryoshock"]
    grade1 = client.get(url, {"grade": 1, "page": 1})
    assert grade1.context["page"].paginator.count == 9
    site = client.get(url, {"trial_site": enrolled_a.trial_site_id})
    assert site.context["page"].paginator.count == 27
    # 1 session, 2 user, 3 memberships (scope), 4 count, 5 trial sites of the filter,
    # 6 the page of events with patient, trial-site and site joined: no per-row queries.
    with django_assert_num_queries(6):
        client.get(url, {"serious": "no"})


def test_monitor_reads_but_cannot_record(client, enrolled_a, monitor, today, arm_causality):
    client.force_login(monitor)
    url = reverse("patients:ae_new", args=[enrolled_a.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, ae_post(ae_data(today, arm_causality))).status_code == 403
    with pytest.raises(PermissionDenied):
        adverse_event_record(
            patient=enrolled_a, acting_user=monitor, **ae_data(today, arm_causality)
        )
    assert not AdverseEvent.objects.exists()
    assert client.get(reverse("patients:ae_list")).status_code == 200


def test_coordinator_b_gets_404_on_site_a_adverse_events(
    client, enrolled_a, coordinator_site_a, coordinator_site_b, today, arm_causality
):
    event = adverse_event_record(
        patient=enrolled_a, acting_user=coordinator_site_a, **ae_data(today, arm_causality)
    )
    client.force_login(coordinator_site_b)
    for url in (
        reverse("patients:ae_detail", args=[event.pk]),
        reverse("patients:ae_edit", args=[event.pk]),
        reverse("patients:ae_new", args=[enrolled_a.pk]),
        reverse("audit:history", args=["patients.adverseevent", event.pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"reason": "x", "term": "y"}).status_code == 404, url
    listing = client.get(reverse("patients:ae_list")).content.decode()
    assert enrolled_a.subject_id not in listing and "Hypertension" not in listing
    event.refresh_from_db()
    assert event.history.count() == 1
    client.force_login(coordinator_site_a)
    detail = client.get(reverse("patients:ae_detail", args=[event.pk])).content.decode()
    assert "Lenvatinib" in detail and "Probably related" in detail
    assert reverse("audit:history", args=["patients.adverseevent", event.pk]) in detail
