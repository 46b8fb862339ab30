"""Optional TOTP second factor for electronic signatures (django-otp).

Off by default (``SIGNATURE_SECOND_FACTOR``). When on, a signature needs the user id,
the password and the current code of the signer's confirmed authenticator app. A
signing role enrols one device on ``/monitoring/second-factor/``: the page shows the
``otpauth://`` URI as a QR code drawn locally as SVG (``qrcode``'s SVG path factory,
served by this app, no CDN) and the secret in base32 for manual entry; the device is
confirmed by entering one code. Wrong codes are throttled (django-otp doubles the wait
after each, ``OTP_TOTP_THROTTLE_FACTOR``) and a code is accepted once. Administrators see and remove devices in the admin
(django-otp's own ``TOTPDevice`` admin); devices carry history (``monitoring/models``).
"""

from __future__ import annotations

import base64
import io
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "Authenticator app"


def second_factor_required() -> bool:
    return bool(getattr(settings, "SIGNATURE_SECOND_FACTOR", False))


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def check_second_factor(*, user: Any, token: str) -> bool:
    """True when a code was checked; raises ``ValidationError`` on ``otp_token`` when
    the setting is on and the code is missing or wrong (or no device is enrolled)."""
    if not second_factor_required():
        return False
    device = confirmed_device(user)
    if device is None:
        raise ValidationError(
            {
                "otp_token": [
                    _("Enrol an authenticator app first (menu: second factor for signatures).")
                ]
            }
        )
    token = (token or "").strip().replace(" ", "")
    if not token:
        raise ValidationError({"otp_token": [_("Enter the code of your authenticator app.")]})
    allowed, _info = device.verify_is_allowed()
    if not allowed:  # django-otp's throttling: each wrong code doubles the wait
        raise ValidationError(
            {"otp_token": [_("Too many wrong codes: wait a few seconds and try again.")]}
        )
    if not device.verify_token(token):
        raise ValidationError({"otp_token": [_("The code is not correct or has expired.")]})
    return True


def pending_device(user: Any) -> TOTPDevice:
    """The user's unconfirmed device (created on first visit), shown as a QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def device_confirm(*, user: Any, token: str) -> TOTPDevice:
    """Confirm the pending device with one code; an earlier device is replaced."""
    device = pending_device(user)
    token = (token or "").strip().replace(" ", "")
    if not token or not device.verify_token(token):
        raise ValidationError({"token": [_("The code is not correct or has expired.")]})
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save()
    return device


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: TOTPDevice) -> bytes:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
