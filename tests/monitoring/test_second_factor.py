"""The optional TOTP second factor of electronic signatures (django-otp): off by default;
when on, signing needs the user id, the password and the code of an enrolled app."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from monitoring.models import Signature
from monitoring.services import signature_sign

PASSWORD = "sign-Here-2026"


def code(device, offset=0):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def sign(signer, record, token=""):
    return signature_sign(
        record=record,
        level="casebook",
        meaning="approved",
        username_entered=signer.username,
        password=PASSWORD,
        acting_user=signer,
        otp_token=token,
    )


def test_off_by_default_the_password_is_enough(visit_a, signer):
    signature = sign(signer, visit_a.patient)
    assert signature.second_factor is False


@pytest.fixture
def second_factor_on(settings):
    settings.SIGNATURE_SECOND_FACTOR = True
    return settings


def test_wrong_codes_are_throttled(visit_a, signer, second_factor_on):
    second_factor_on.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute after one wrong code
    device = TOTPDevice.objects.create(user=signer, name="app", confirmed=True)
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError):
        sign(signer, visit_a.patient, wrong)
    with pytest.raises(ValidationError) as exc:  # right away: even the right code waits
        sign(signer, visit_a.patient, code(device))
    assert "wait" in " ".join(exc.value.message_dict["otp_token"])


def test_on_signing_needs_an_enrolled_app_and_its_code(visit_a, signer, second_factor_on):
    second_factor_on.OTP_TOTP_THROTTLE_FACTOR = 0  # throttling has its own test
    with pytest.raises(ValidationError) as exc:
        sign(signer, visit_a.patient, "123456")
    assert "otp_token" in exc.value.message_dict  # no device enrolled

    device = TOTPDevice.objects.create(user=signer, name="app", confirmed=True)
    with pytest.raises(ValidationError) as exc:
        sign(signer, visit_a.patient)
    assert "otp_token" in exc.value.message_dict
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError) as exc:
        sign(signer, visit_a.patient, wrong)
    assert "otp_token" in exc.value.message_dict
    assert not Signature.objects.exists()

    signature = sign(signer, visit_a.patient, code(device))
    assert signature.second_factor is True


def test_a_wrong_password_does_not_use_the_code_up(visit_a, signer, second_factor_on):
    device = TOTPDevice.objects.create(user=signer, name="app", confirmed=True)
    token = code(device)
    with pytest.raises(ValidationError) as exc:
        signature_sign(
            record=visit_a.patient,
            level="casebook",
            meaning="approved",
            username_entered=signer.username,
            password="wrong",
            acting_user=signer,
            otp_token=token,
        )
    assert set(exc.value.message_dict) == {"password"}
    assert sign(signer, visit_a.patient, token).second_factor


def test_enrolment_page_shows_a_local_svg_qr_and_confirms_with_a_code(client, signer, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client.force_login(signer)
    page = client.get(reverse("monitoring:second_factor"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="otp-not-enrolled"' in html and reverse("monitoring:second_factor_qr") in html
    svg = client.get(reverse("monitoring:second_factor_qr"))
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg.content.lstrip().startswith(b"<?xml") and b"<svg" in svg.content
    device = TOTPDevice.objects.get(user=signer)
    assert not device.confirmed

    response = client.post(reverse("monitoring:second_factor"), {"token": "000000x"})
    assert response.status_code == 200 and "has-error" in response.content.decode()
    response = client.post(reverse("monitoring:second_factor"), {"token": code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed and device.history.count() >= 2
    assert 'id="otp-enrolled"' in client.get(reverse("monitoring:second_factor")).content.decode()


def test_the_sign_form_asks_for_the_code_only_when_on(client, visit_a, signer, settings):
    client.force_login(signer)
    url = reverse("monitoring:casebook_sign", args=[visit_a.patient.pk])
    assert 'name="otp_token"' not in client.get(url).content.decode()
    settings.SIGNATURE_SECOND_FACTOR = True
    device = TOTPDevice.objects.create(user=signer, name="app", confirmed=True)
    assert 'name="otp_token"' in client.get(url).content.decode()
    form = {"meaning": "approved", "username": signer.username, "password": PASSWORD}
    refused = client.post(url, {**form, "otp_token": ""})
    assert refused.status_code == 200 and not Signature.objects.exists()
    assert client.post(url, {**form, "otp_token": code(device)}).status_code == 302
    assert Signature.objects.get().second_factor


def test_coordinators_cannot_enrol(client, coordinator_site_a):
    client.force_login(coordinator_site_a)
    assert client.get(reverse("monitoring:second_factor")).status_code == 403
    assert client.get(reverse("monitoring:second_factor_qr")).status_code == 403
