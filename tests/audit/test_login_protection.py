"""Login protection: django-axes locks an account for one address after
AXES_FAILURE_LIMIT wrong passwords, for AXES_COOLOFF_TIME; failures and lockouts are in
the access log; the user is told plainly (in their language); the emergency-unblinding
password counts like a login. Passwords: 12 characters, no username inside."""

from __future__ import annotations

import datetime
import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AccessLog
from sites.demo import DEMO_PASSWORD

PEER = "203.0.113.7"
OTHER = "198.51.100.99"
GOOD = "correct-horse-battery-1"


@pytest.fixture
def account(coordinator_site_a):
    coordinator_site_a.set_password(GOOD)
    coordinator_site_a.save()
    return coordinator_site_a


def _login(client, username, password, ip=PEER, **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


def test_five_failures_lock_the_account_for_that_address(client, settings, account):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _login(client, account.username, "wrong-password-123").status_code == 200
    fifth = _login(client, account.username, "wrong-password-123")
    assert fifth.status_code == 429
    assert "Too many failed logins for this account from your address" in fifth.content.decode()
    # even the right password is refused while locked, and the page says why
    locked = _login(client, account.username, GOOD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "locked for 30 minutes" in locked.content.decode()
    events = list(AccessLog.objects.order_by("at", "pk").values_list("event", "username", "ip"))
    assert events.count(("login_failed", account.username, PEER)) >= 5
    assert ("locked_out", account.username, PEER) in events
    # the same account from another address is not locked (no denial of service by
    # anyone who knows a username), nor is another account from this address
    assert _login(client, account.username, GOOD, ip=OTHER).status_code == 302


def test_lockout_ends_after_the_cool_off(client, settings, account):
    settings.AXES_COOLOFF_TIME = datetime.timedelta(seconds=1)
    for _ in range(5):
        _login(client, account.username, "wrong-password-123")
    assert _login(client, account.username, GOOD).status_code == 429
    time.sleep(1.2)
    assert _login(client, account.username, GOOD).status_code == 302


def test_lockout_message_is_translated(client, account):
    for _ in range(5):
        _login(client, account.username, "wrong-password-123")
    client.cookies["django_language"] = "zh-hans"
    page = _login(client, account.username, GOOD, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 429
    assert "登录失败次数过多" in page.content.decode()


def test_wrong_unblinding_passwords_count_towards_the_lockout(client, account):
    """The unblinding page re-checks the password through the authentication backends, so
    guessing there is limited like guessing at the login page."""
    from django.test import RequestFactory

    from patients.services.unblinding import _password_confirmed

    for _ in range(5):
        request = RequestFactory().post("/patients/enrollments/1/unblind/", REMOTE_ADDR=PEER)
        assert not _password_confirmed(account, "wrong-password-123", request)
    request = RequestFactory().post("/patients/enrollments/1/unblind/", REMOTE_ADDR=PEER)
    assert not _password_confirmed(account, GOOD, request)  # locked: even the right one
    assert request.axes_locked_out
    assert AccessLog.objects.filter(event="login_failed", username=account.username).count() >= 5
    assert _login(client, account.username, GOOD).status_code == 429


def test_api_tokens_do_not_check_passwords(api_for, account):
    """Token authentication compares a random token's hash, never a password, so a
    lockout does not stop it (revoke the token instead) and it cannot be used to guess."""
    api = api_for(account)
    assert api.get("/api/v1/patients/").status_code == 200


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short-pw-12", "at least 12 characters"),
        ("crc_a-is-my-name-2026", "must not contain your username"),
    ],
)
def test_weak_passwords_are_refused(coordinator_site_a, password, problem):
    with pytest.raises(ValidationError) as exc:
        validate_password(password, coordinator_site_a)
    assert problem in " ".join(exc.value.messages)


def test_demo_password_is_valid_for_the_demo_accounts(db):
    from tests.factories import UserFactory

    for username in ("admin", "datamanager", "lead", "monitor", "crc_sh01", "pi_sz01"):
        validate_password(DEMO_PASSWORD, UserFactory.build(username=username))
