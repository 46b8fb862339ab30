"""Pre-screening answers and appointment requests from the public pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from notifications.models import OutboxMessage
from recruiting.models import PrescreenEvent, Referral

from .conftest import next_weekday
from .helpers import answers

pytestmark = pytest.mark.django_db


def prescreen(client, lang="en", **overrides):
    return client.post(f"/recruiting/{lang}/CRYO/check/", answers(**overrides))


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def booking(client, clinic, day, *, lang="en", **overrides):
    html = prescreen(client, lang).content.decode()
    data = {
        "token": token_of(html),
        "slot": f"{clinic.pk}:{day.isoformat()}",
        "full_name": "Jane Doe",
        "email": "jane@example.org",
        "phone": "+86 138 0000 0000",
        "language": lang,
        "nationality": "GB",
        "interpreter_needed": "on",
        "personal_information_consent": "on",
        "website": "",
        **overrides,
    }
    return client.post(f"/recruiting/{lang}/CRYO/request/", data)


def test_matching_answers_may_be_eligible_and_nothing_personal_is_stored(client, public_trial):
    response = prescreen(client)
    html = response.content.decode()
    assert "You may be eligible" in html
    assert "Blood counts (platelets) are high enough." in html  # checked at the clinic
    assert Referral.objects.count() == 0
    assert list(PrescreenEvent.objects.values_list("verdict", flat=True)) == ["may_be_eligible"]


def test_too_old_is_probably_not_eligible_with_the_reason_and_no_booking(client, public_trial):
    html = prescreen(client, birth_date="80").content.decode()
    assert "You are probably not eligible for this trial" in html
    assert "You are 18 to 75 years old." in html
    assert 'name="slot"' not in html


def test_dont_know_asks_a_doctor_to_check_in_chinese(client, public_trial):
    html = prescreen(client, "zh-hans", histology_confirmed="unknown").content.decode()
    assert "需要医生核实" in html
    assert "活检或细胞学检查确诊为肝内胆管癌。" in html


def test_booking_on_a_monday_reaches_the_site_and_emails_an_ics(client, public_trial, clinic_a):
    monday = next_weekday(0)
    response = booking(client, clinic_a, monday)
    html = response.content.decode()
    assert response.status_code == 200
    referral = Referral.objects.get()
    assert referral.reference in html
    assert referral.trial_site == clinic_a.trial_site
    assert referral.appointment_date == monday
    assert referral.full_name == "Jane Doe" and referral.interpreter_needed
    assert referral.prescreen_result["verdict"] == "may_be_eligible"
    assert any(i["answer"] == "56" for i in referral.prescreen_answers["items"])
    message = OutboxMessage.objects.for_recipient("jane@example.org").get()
    assert referral.reference in message.subject
    (ics,) = message.attachments
    assert ics["filename"] == f"{referral.reference}.ics"
    assert ics["mimetype"] == "text/calendar"
    assert f"DTSTART:{monday:%Y%m%d}T000000Z" in ics["content"]  # 08:00 Shanghai = 00:00 UTC
    assert "STATUS:TENTATIVE" in ics["content"]
    assert f"UID:{referral.reference}@hbtrials" in ics["content"]


def test_booking_in_chinese_emails_in_chinese(client, public_trial, clinic_a):
    booking(client, clinic_a, next_weekday(2), lang="zh-hans")
    message = OutboxMessage.objects.get()
    assert "您的预约申请" in message.subject
    assert "王鹏医生临床研究门诊" in message.body


def test_a_day_that_is_not_a_clinic_day_is_refused_with_the_clinic_days(
    client, public_trial, clinic_a
):
    tuesday = next_weekday(1)
    html = booking(client, clinic_a, tuesday).content.decode()
    assert "is not a clinic day at Site A: the trial clinic runs on Monday, Wednesday." in html
    assert Referral.objects.count() == 0
    assert 'value="Jane Doe"' in html  # the form comes back filled in


def test_a_full_day_is_refused(client, public_trial, clinic_a):
    clinic_a.daily_capacity = 1
    clinic_a.save()
    monday = next_weekday(0)
    booking(client, clinic_a, monday)
    html = booking(client, clinic_a, monday, email="other@example.org").content.decode()
    assert "is fully booked at Site A; please choose another day." in html
    assert Referral.objects.count() == 1


def test_without_the_separate_consent_nothing_is_stored(client, public_trial, clinic_a):
    html = booking(
        client, clinic_a, next_weekday(0), personal_information_consent=""
    ).content.decode()
    assert "Without this consent we cannot process your request." in html
    assert Referral.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_honeypot_answers_like_a_success_and_stores_nothing(client, public_trial, clinic_a):
    response = booking(client, clinic_a, next_weekday(0), website="http://spam.example")
    html = response.content.decode()
    assert "Request received" in html
    # A reference of the real shape: the bot cannot tell it was caught.
    assert re.search(r'id="reference">R-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}<', html)
    assert Referral.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_asking_twice_gives_the_same_answer_so_nobody_learns_who_applied(
    client, public_trial, clinic_a
):
    monday = next_weekday(0)
    first = booking(client, clinic_a, monday).content.decode()
    second = booking(client, clinic_a, monday).content.decode()
    assert "Request received" in first and "Request received" in second
    assert "already" not in second.lower()


def test_the_sixth_request_within_a_minute_is_throttled(client, public_trial):
    statuses = [prescreen(client).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert prescreen(other).status_code == 200
    # A forged X-Forwarded-For does not buy a fresh allowance.
    forged = client.post(
        "/recruiting/en/CRYO/check/", answers(), HTTP_X_FORWARDED_FOR="1.2.3.4, 127.0.0.1"
    )
    assert forged.status_code == 429


def test_throttling_uses_the_cache_without_redis(client, public_trial, settings):
    # no Redis: process-local memory, as the embedded default and Redis outages give
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    settings.RECRUITING_RATE_LIMIT_PER_MINUTE = 1
    assert prescreen(client).status_code == 200
    assert prescreen(client).status_code == 429


def test_the_appointment_request_needs_the_csrf_token(public_trial, clinic_a):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/recruiting/en/CRYO/request/", {"slot": f"{clinic_a.pk}:{next_weekday(0)}"}
    )
    assert response.status_code == 403
    result = prescreen(client)
    assert "csrftoken" in result.cookies  # set with the page that holds the form


def test_a_tampered_questionnaire_token_goes_back_to_the_questions(client, public_trial, clinic_a):
    response = client.post(
        "/recruiting/en/CRYO/request/",
        {"token": "forged", "slot": f"{clinic_a.pk}:{next_weekday(0)}"},
    )
    assert response.status_code == 302 and response.url.endswith("/check/")
    assert Referral.objects.count() == 0


def test_full_days_are_shown_as_full(client, public_trial, clinic_a):
    clinic_a.daily_capacity = 0
    clinic_a.save()
    html = client.get("/recruiting/en/CRYO/").content.decode()
    assert "(full)" in html
