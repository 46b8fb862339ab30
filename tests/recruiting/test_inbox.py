"""The coordinator's referral inbox: scoping, accept / propose / decline, registration,
deletion of referrals never converted, and the conversion figures."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from notifications.models import OutboxMessage
from patients.models import Patient
from patients.selectors_screening import screening_log
from recruiting.models import Referral
from recruiting.services import referrals_purge

from .conftest import next_weekday
from .test_booking import booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral_a(client, public_trial, clinic_a) -> Referral:
    booking(client, clinic_a, next_weekday(0))
    client.logout()
    return Referral.objects.get()


@pytest.fixture
def referral_b(public_trial, trial_site_b) -> Referral:
    return Referral.objects.create(
        trial_site=trial_site_b,
        reference="R-BBBB-0001",
        requested_date=next_weekday(1),
        appointment_date=next_weekday(1),
        language="en",
        full_name="Other Person",
        email="other@example.org",
        nationality="CN",
        personal_information_consent_at=timezone.now(),
    )


def test_inbox_lists_own_site_requests_with_the_answers(
    client, referral_a, referral_b, coordinator_site_a
):
    client.force_login(coordinator_site_a)
    html = client.get("/recruiting/inbox/").content.decode()
    assert referral_a.reference in html and "Jane Doe" in html
    assert referral_b.reference not in html
    detail = client.get(f"/recruiting/referrals/{referral_a.pk}/").content.decode()
    assert "How old are you?" in detail and "56" in detail
    assert client.get(f"/recruiting/referrals/{referral_b.pk}/").status_code == 404


def test_lead_investigator_sees_referrals_without_names(client, referral_a, lead_investigator):
    client.force_login(lead_investigator)
    html = client.get("/recruiting/inbox/").content.decode()
    assert referral_a.reference in html and "Jane Doe" not in html


def test_accept_confirms_and_emails_a_confirmed_ics(client, referral_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    response = client.post(f"/recruiting/referrals/{referral_a.pk}/accept/")
    assert response.status_code == 302
    referral_a.refresh_from_db()
    assert referral_a.status == Referral.Status.ACCEPTED
    assert referral_a.decided_by == coordinator_site_a
    mail = OutboxMessage.objects.filter(key__contains=":accepted:").get()
    assert "confirmed" in mail.subject
    assert "STATUS:CONFIRMED" in mail.attachments[0]["content"]
    assert "SEQUENCE:" in mail.attachments[0]["content"]


def test_propose_another_clinic_day_checks_the_day(client, referral_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    tuesday = next_weekday(1)
    client.post(f"/recruiting/referrals/{referral_a.pk}/propose/", {"day": tuesday.isoformat()})
    referral_a.refresh_from_db()
    assert referral_a.status == Referral.Status.NEW  # refused: not a clinic day
    wednesday = next_weekday(2)
    client.post(f"/recruiting/referrals/{referral_a.pk}/propose/", {"day": wednesday.isoformat()})
    referral_a.refresh_from_db()
    assert referral_a.status == Referral.Status.PROPOSED
    assert referral_a.appointment_date == wednesday
    mail = OutboxMessage.objects.filter(key__contains=":proposed:").get()
    assert f"DTSTART:{wednesday:%Y%m%d}" in mail.attachments[0]["content"]


def test_decline_needs_a_reason_and_tells_the_person(client, referral_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    client.post(f"/recruiting/referrals/{referral_a.pk}/decline/", {"reason": ""})
    referral_a.refresh_from_db()
    assert referral_a.status == Referral.Status.NEW
    client.post(
        f"/recruiting/referrals/{referral_a.pk}/decline/",
        {"reason": "The trial needs a biopsy-confirmed diagnosis."},
    )
    referral_a.refresh_from_db()
    assert referral_a.status == Referral.Status.DECLINED
    mail = OutboxMessage.objects.filter(key__contains=":declined").get()
    assert "The trial needs a biopsy-confirmed diagnosis." in mail.body
    assert mail.attachments == []


def test_monitor_cannot_act_on_a_referral(client, referral_a, monitor):
    client.force_login(monitor)
    response = client.post(f"/recruiting/referrals/{referral_a.pk}/accept/")
    assert response.status_code == 403
    referral_a.refresh_from_db()
    assert referral_a.status == Referral.Status.NEW


def test_accepted_referral_becomes_a_patient_in_one_step_with_answers_kept(
    client, referral_a, coordinator_site_a
):
    client.force_login(coordinator_site_a)
    client.post(f"/recruiting/referrals/{referral_a.pk}/accept/")
    form = client.get(f"/recruiting/referrals/{referral_a.pk}/register/").content.decode()
    assert 'value="Jane Doe"' in form and 'value="jane@example.org"' in form
    birth = datetime.date.today().replace(year=datetime.date.today().year - 56)
    response = client.post(
        f"/recruiting/referrals/{referral_a.pk}/register/",
        {
            "full_name": "Jane Doe",
            "email": "jane@example.org",
            "phone": "+86 138 0000 0000",
            "id_document_type": "passport",
            "id_document_number": "GB1234567",
            "sex": "F",
            "birth_date": birth.isoformat(),
            "nationality": "GB",
            "is_expatriate": "on",
            "preferred_language": "en",
            "interpreter_needed": "on",
            "residence_permit_expiry": (
                datetime.date.today() + datetime.timedelta(days=900)
            ).isoformat(),
            "insurance_covers_trial": "unknown",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    patient = Patient.objects.get()
    referral_a.refresh_from_db()
    assert referral_a.status == Referral.Status.CONVERTED and referral_a.patient == patient
    assert patient.trial_site == referral_a.trial_site and patient.full_name == "Jane Doe"
    assert referral_a.prescreen_answers["items"]  # the source stays with the patient
    log = screening_log(user=coordinator_site_a)
    assert log.conversion == {"prescreened": 1, "referred": 1, "referred_registered": 1}
    assert log.rows[0].referrals == {"referred": 1, "referred_registered": 1}
    page = client.get("/patients/screening-log/").content.decode()
    assert "Referrals registered as patients" in page


def test_unconverted_referrals_are_deleted_after_the_retention_time(client, referral_a, settings):
    settings.REFERRAL_RETENTION_DAYS = 30
    assert referrals_purge() == 0
    later = timezone.now() + datetime.timedelta(days=31)
    assert referrals_purge(now=later) == 1
    assert not Referral.objects.exists()
    assert not OutboxMessage.objects.for_recipient("jane@example.org").exists()
    # the emails' history is the write-once audit trail: the purge never rewrites it
    # (on PostgreSQL a trigger would refuse the DELETE and the job would fail every hour)
    deleted = OutboxMessage.history.filter(
        key__startswith=f"recruiting:referral:{referral_a.pk}:", history_type="-"
    )
    assert deleted.exists()
    # ... and what it keeps of the address and the mail is ciphertext only
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, recipient, subject, body, attachments "
            "FROM notifications_historicaloutboxmessage"
        )
        mails = [" ".join(str(v) for v in row) for row in cursor.fetchall()]
    assert mails and not any("jane" in mail.lower() or "Jane" in mail for mail in mails)
    # What history keeps of the deleted identity is encrypted, never clear text.
    rows = Referral.history.all()
    assert rows.filter(history_type="-").count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT full_name, email FROM recruiting_historicalreferral")
        stored = cursor.fetchall()
    assert len(stored) == rows.count() >= 2
    assert all("Jane" not in name and "jane@" not in email for name, email in stored)


def test_purge_runs_as_a_beat_job(settings):
    assert (
        settings.CELERY_BEAT_SCHEDULE["purge-referrals"]["task"]
        == "recruiting.tasks.purge_referrals"
    )
    from recruiting.tasks import purge_referrals

    assert purge_referrals() == 0


def test_the_site_sets_its_daily_capacity_with_a_reason(
    client, clinic_a, coordinator_site_a, coordinator_site_b
):
    url = f"/recruiting/clinics/{clinic_a.pk}/capacity/"
    client.force_login(coordinator_site_b)
    assert (
        client.post(url, {"daily_capacity": 9, "weeks_ahead": 4, "reason": "x"}).status_code == 404
    )
    client.force_login(coordinator_site_a)
    client.post(url, {"daily_capacity": 9, "weeks_ahead": 6, "reason": ""})
    clinic_a.refresh_from_db()
    assert clinic_a.daily_capacity == 4  # no reason, no change
    client.post(url, {"daily_capacity": 9, "weeks_ahead": 6, "reason": "Second doctor in clinic"})
    clinic_a.refresh_from_db()
    assert (clinic_a.daily_capacity, clinic_a.weeks_ahead) == (9, 6)
    assert clinic_a.history.first().history_change_reason == "Second doctor in clinic"


def test_history_of_a_referral_is_shown_to_its_site_only(
    client, referral_a, coordinator_site_a, coordinator_site_b
):
    client.force_login(coordinator_site_a)
    client.post(f"/recruiting/referrals/{referral_a.pk}/accept/")
    url = f"/history/recruiting.referral/{referral_a.pk}/"
    html = client.get(url).content.decode()
    assert "Appointment confirmed" in html  # the reason of the change
    client.force_login(coordinator_site_b)
    assert client.get(url).status_code == 404
