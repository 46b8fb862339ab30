"""Serious adverse events: notified at once, reporting deadlines, escalation, the safety page."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from notifications.services import outbox_flush
from patients.models import AdverseEvent
from patients.services.sae import (
    adverse_event_set_expectedness,
    sae_escalate_overdue,
    sae_mark_reported,
)
from patients.services.safety import adverse_event_record
from patients.services.visits import patient_local_today
from sites.roles import Role
from tests.patients.helpers_visits import enroll, setup_protocol

from .helpers_jobs import SAFETY_CONTACTS, causality_for, form_post, sae_data, staff

H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)


@pytest.fixture
def protocol(trial):
    trial.safety_contacts = SAFETY_CONTACTS
    trial.save()
    return setup_protocol(trial)


@pytest.fixture
def enrolled_a(patient_a, coordinator_site_a, protocol):
    enroll(patient_a, coordinator_site_a, protocol["arm"])
    return patient_a


@pytest.fixture
def team(lead_investigator, investigator_site_a, coordinator_site_b, trial):
    """The people an SAE at site A concerns, and some it does not."""
    chinese_lead = staff("lead_zh", Role.LEAD_INVESTIGATOR, language="zh-hans", trial=trial)
    return {"lead": lead_investigator, "lead_zh": chinese_lead, "pi_a": investigator_site_a}


@pytest.fixture
def today(enrolled_a):
    return patient_local_today(enrolled_a)


def record(patient, user, today, protocol, **overrides):
    causality = overrides.pop("causality", causality_for(protocol, Cryoablation="probable"))
    return adverse_event_record(
        patient=patient, acting_user=user, **sae_data(today, causality, **overrides)
    )


def recipients(key_prefix):
    return sorted(
        OutboxMessage.objects.filter(key__startswith=key_prefix).values_list("recipient", flat=True)
    )


EXPECTED_RECIPIENTS = sorted(
    [
        "lead@example.org",
        "lead_zh@example.org",
        "pi_a@example.org",
        "pv@sponsor.example",
        "drug.safety@cro.example",
    ]
)


def test_sae_through_the_form_notifies_each_recipient_once(
    client, enrolled_a, coordinator_site_a, team, protocol, today
):
    client.force_login(coordinator_site_a)
    post = form_post(sae_data(today, causality_for(protocol, Cryoablation="probable")))
    before = timezone.now()
    response = client.post(reverse("patients:ae_new", args=[enrolled_a.pk]), post)
    assert response.status_code == 302
    event = AdverseEvent.objects.get()
    # Deadlines: awareness defaults to the recording time; initial report 24 h later.
    assert before <= event.awareness_at <= timezone.now()
    assert event.initial_report_due == event.awareness_at + 24 * H
    assert event.expected is None and not event.susar and event.susar_report_due is None
    detail = client.get(response.url).content.decode()
    assert "Expedited reporting" in detail and "not yet recorded as sent" in detail
    # One message per recipient: lead investigators, the site's investigator, the two
    # valid safety contacts; not the coordinators, not site B; languages per person.
    assert recipients(f"sae:{event.pk}:initial") == EXPECTED_RECIPIENTS
    languages = dict(OutboxMessage.objects.filter(kind="sae").values_list("recipient", "language"))
    assert languages["lead_zh@example.org"] == "zh-hans"
    assert languages["pv@sponsor.example"] == "en"
    message = OutboxMessage.objects.for_recipient("lead@example.org").get()
    assert message.subject.startswith("Serious adverse event: CRYO")
    assert enrolled_a.subject_id in message.subject and "Liver abscess" in message.subject
    assert "Initial report due" in message.body and "Cryoablation" not in message.body
    assert message.trial_site == enrolled_a.trial_site
    # A correction through the form keeps the awareness (shown to the minute) and
    # re-notifies nobody.
    aware = event.awareness_at
    post = form_post(
        sae_data(
            today,
            causality_for(protocol, Cryoablation="probable"),
            term="Liver abscess.",
            awareness_at=aware,
        )
    )
    post["reason"] = "Typo"
    response = client.post(reverse("patients:ae_edit", args=[event.pk]), post)
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.term == "Liver abscess." and event.awareness_at == aware
    assert OutboxMessage.objects.filter(kind="sae").count() == len(EXPECTED_RECIPIENTS)


def test_non_serious_event_notifies_nobody(enrolled_a, coordinator_site_a, team, protocol, today):
    event = record(
        enrolled_a, coordinator_site_a, today, protocol, serious=False, serious_criteria=[], grade=2
    )
    assert event.initial_report_due is None and not event.susar
    assert not OutboxMessage.objects.exists()


def test_mail_is_delivered_once_per_recipient(
    enrolled_a,
    coordinator_site_a,
    team,
    protocol,
    today,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        record(enrolled_a, coordinator_site_a, today, protocol)
    assert sorted(m.to[0] for m in mailoutbox) == EXPECTED_RECIPIENTS
    assert outbox_flush() == 0
    assert len(mailoutbox) == len(EXPECTED_RECIPIENTS)


def test_awareness_before_recording_moves_the_deadline(
    client, enrolled_a, coordinator_site_a, team, protocol, today
):
    client.force_login(coordinator_site_a)
    aware = (timezone.now() - 30 * H).replace(second=0, microsecond=0)
    post = form_post(sae_data(today, causality_for(protocol), awareness_at=aware))
    assert client.post(reverse("patients:ae_new", args=[enrolled_a.pk]), post).status_code == 302
    event = AdverseEvent.objects.get()
    assert event.awareness_at == aware
    assert event.initial_report_due == aware + 24 * H  # already overdue
    # Awareness in the future is refused on its field, nothing saved.
    post = form_post(sae_data(today, causality_for(protocol), awareness_at=timezone.now() + 2 * D))
    response = client.post(reverse("patients:ae_new", args=[enrolled_a.pk]), post)
    assert response.status_code == 200
    assert "cannot be in the future" in response.context["form"].errors["awareness_at"][0]
    assert AdverseEvent.objects.count() == 1


def test_unexpected_related_sae_is_a_susar_with_15_or_7_days(
    enrolled_a, coordinator_site_a, lead_investigator, team, protocol, today
):
    event = record(enrolled_a, coordinator_site_a, today, protocol)
    event = adverse_event_set_expectedness(
        adverse_event=event, acting_user=lead_investigator, expected=False
    )
    assert event.susar and event.susar_report_due == event.awareness_at + 15 * D
    assert recipients(f"sae:{event.pk}:susar") == EXPECTED_RECIPIENTS
    assert event.history.first().history_change_reason == "Expectedness assessed"
    # Changing the assessment needs a reason.
    with pytest.raises(ValidationError) as exc:
        adverse_event_set_expectedness(
            adverse_event=event, acting_user=lead_investigator, expected=True
        )
    assert "reason" in exc.value.message_dict
    # Fatal (grade 5): 7 days; unrelated: no SUSAR whatever the expectedness.
    fatal = record(
        enrolled_a,
        coordinator_site_a,
        today,
        protocol,
        grade=5,
        outcome="fatal",
        serious_criteria=["death"],
        expected=False,
    )
    assert fatal.susar and fatal.susar_report_due == fatal.awareness_at + 7 * D
    unrelated = record(
        enrolled_a,
        coordinator_site_a,
        today,
        protocol,
        causality=causality_for(protocol),
        expected=False,
    )
    assert not unrelated.susar


def test_marking_reports_sent(
    enrolled_a, coordinator_site_a, coordinator_site_b, lead_investigator, team, protocol, today
):
    event = record(
        enrolled_a,
        coordinator_site_a,
        today,
        protocol,
        expected=False,
        awareness_at=timezone.now() - 3 * H,
    )
    sent = timezone.now() - H
    # The site may not record the SUSAR report (made unblinded, by the sponsor)...
    with pytest.raises(PermissionDenied):
        sae_mark_reported(
            adverse_event=event, acting_user=coordinator_site_a, report="susar", reported_at=sent
        )
    # ...nor may another site record anything.
    with pytest.raises(PermissionDenied):
        sae_mark_reported(
            adverse_event=event, acting_user=coordinator_site_b, report="initial", reported_at=sent
        )
    event.refresh_from_db()
    assert event.initial_reported_at is None and event.susar_reported_at is None
    with pytest.raises(ValidationError) as exc:
        sae_mark_reported(
            adverse_event=event,
            acting_user=coordinator_site_a,
            report="initial",
            reported_at=timezone.now() + D,
        )
    assert "reported_at" in exc.value.message_dict
    event = sae_mark_reported(
        adverse_event=event, acting_user=coordinator_site_a, report="initial", reported_at=sent
    )
    assert event.initial_reported_at == sent
    assert event.history.first().history_user == coordinator_site_a
    event = sae_mark_reported(
        adverse_event=event, acting_user=lead_investigator, report="susar", reported_at=sent
    )
    assert event.susar_reported_at == sent
    with pytest.raises(ValidationError) as exc:  # a correction needs its reason
        sae_mark_reported(
            adverse_event=event,
            acting_user=coordinator_site_a,
            report="initial",
            reported_at=sent - H,
        )
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # before awareness: impossible
        sae_mark_reported(
            adverse_event=event,
            acting_user=coordinator_site_a,
            report="initial",
            reported_at=sent - 3 * H,
            reason="Wrong time",
        )
    assert "reported_at" in exc.value.message_dict


def test_passed_deadlines_escalate_once(
    enrolled_a, coordinator_site_a, lead_investigator, team, protocol, today
):
    aware = timezone.now() - 26 * H
    event = record(
        enrolled_a, coordinator_site_a, today, protocol, expected=False, awareness_at=aware
    )
    other = record(
        enrolled_a, coordinator_site_a, today, protocol, expected=True, awareness_at=aware
    )
    assert sae_escalate_overdue(now=aware + 23 * H) == 0
    later = timezone.now()
    assert sae_escalate_overdue(now=later) == 2  # both initial reports
    assert sae_escalate_overdue(now=later + H) == 0  # idempotent
    assert sae_escalate_overdue() == 0
    esc = OutboxMessage.objects.filter(kind="sae_escalation", key__startswith=f"sae:{event.pk}:")
    # Escalations also reach the site's coordinators, who enter the report.
    assert sorted(esc.values_list("recipient", flat=True)) == sorted(
        [*EXPECTED_RECIPIENTS, "crc_a@example.org"]
    )
    assert esc.first().subject.startswith("OVERDUE initial SAE report")
    event.refresh_from_db()
    assert event.escalated_at == later
    assert event.history.first().history_username == "system"
    # Reported: no more escalation of the initial report; the SUSAR report escalates
    # after day 15.
    sae_mark_reported(
        adverse_event=event, acting_user=coordinator_site_a, report="initial", reported_at=later
    )
    sae_mark_reported(
        adverse_event=other, acting_user=coordinator_site_a, report="initial", reported_at=later
    )
    assert sae_escalate_overdue(now=event.awareness_at + 14 * D) == 0
    assert sae_escalate_overdue(now=event.awareness_at + 16 * D) == 1
    assert OutboxMessage.objects.filter(key__contains=f"sae:{event.pk}:escalate:susar").exists()


def test_safety_page_lists_open_saes_by_deadline(
    client, enrolled_a, coordinator_site_a, coordinator_site_b, team, protocol, today
):
    late = record(
        enrolled_a,
        coordinator_site_a,
        today,
        protocol,
        term="Haemorrhage",
        awareness_at=timezone.now() - 30 * H,
        expected=True,  # nothing left to do once the initial report is sent
    )
    fresh = record(enrolled_a, coordinator_site_a, today, protocol, term="Cholangitis")
    record(
        enrolled_a, coordinator_site_a, today, protocol, serious=False, serious_criteria=[], grade=1
    )
    client.force_login(coordinator_site_a)
    html = client.get(reverse("patients:safety")).content.decode()
    assert html.index("Haemorrhage") < html.index("Cholangitis")  # nearest deadline first
    assert "badge-overdue" in html and "overdue by" in html and "left" in html
    assert reverse("patients:sae_report", args=[late.pk]) in html
    # Mark the initial report sent through the page: it leaves the list.
    url = reverse("patients:sae_report", args=[late.pk])
    response = client.post(
        url,
        {
            "report": "initial",
            "reported_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.initial_reported_at is not None
    html = client.get(reverse("patients:safety")).content.decode()
    # the open-SAE list (the table by SOC and term below it lists every event)
    open_saes = html.split('id="open-saes"')[1].split("</section>")[0]
    assert "Haemorrhage" not in open_saes and "Cholangitis" in open_saes
    # Another site sees none of it and may not open the action.
    client.force_login(coordinator_site_b)
    assert "Cholangitis" not in client.get(reverse("patients:safety")).content.decode()
    assert client.get(reverse("patients:sae_report", args=[fresh.pk])).status_code == 404


def test_incidence_by_worst_grade_per_arm_hidden_when_blinded(
    client, enrolled_a, coordinator_site_a, lead_investigator, monitor, protocol, today, trial
):
    record(enrolled_a, coordinator_site_a, today, protocol, grade=3)
    record(
        enrolled_a, coordinator_site_a, today, protocol, serious=False, serious_criteria=[], grade=1
    )
    client.force_login(lead_investigator)
    response = client.get(reverse("patients:safety"), {"trial": trial.pk})
    rows = response.context["incidence"]["rows"]
    arm_a = next(r for r in rows if r["code"] == "A")
    assert arm_a["enrolled"] == 1 and arm_a["any"] == (1, 100.0)
    assert arm_a["grades"][3] == (1, 100.0) and arm_a["grades"][1] == (0, 0.0)
    assert next(r for r in rows if r["code"] == "B")["any"] == (0, None)
    assert "Cryoablation + lenvatinib" in response.content.decode()
    trial.blinding = "blinded"
    trial.save()
    client.force_login(monitor)
    response = client.get(reverse("patients:safety"), {"trial": trial.pk})
    incidence = response.context["incidence"]
    assert not incidence["by_arm"] and [r["code"] for r in incidence["rows"]] == ["all"]
    assert "Cryoablation + lenvatinib" not in response.content.decode()
    client.force_login(lead_investigator)  # holds the unblinded view
    assert client.get(reverse("patients:safety"), {"trial": trial.pk}).context["incidence"][
        "by_arm"
    ]


def test_trial_page_links_to_the_safety_page(client, lead_investigator, trial):
    client.force_login(lead_investigator)
    html = client.get(reverse("trials:detail", args=[trial.pk])).content.decode()
    assert f"{reverse('patients:safety')}?trial={trial.pk}" in html
