"""The audit IP is the real peer unless trusted proxies are configured; a forged or
malformed X-Forwarded-For never fails a request and never reaches the audit trail."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from audit.middleware import client_ip
from audit.models import AccessLog

PEER = "203.0.113.7"


@pytest.mark.parametrize(
    ("hops", "header", "expected"),
    [
        (0, "198.51.100.1", PEER),  # spoofed: ignored without trusted proxies
        (0, "not-an-ip", PEER),
        (1, "198.51.100.1", "198.51.100.1"),  # the proxy appended the client it saw
        (1, "10.0.0.1, 198.51.100.1", "198.51.100.1"),  # client forged the first entry
        (2, "10.0.0.1, 198.51.100.1, 192.0.2.9", "198.51.100.1"),
        (2, "198.51.100.1", PEER),  # fewer entries than hops: not what our proxies send
        (1, "not-an-ip", PEER),
        (1, "1.2.3.4, <script>", PEER),
        (1, " 2001:db8::1 ", "2001:db8::1"),
        (1, "", PEER),
    ],
)
def test_client_ip_honours_trusted_proxy_hops(settings, hops, header, expected):
    settings.TRUSTED_PROXY_HOPS = hops
    request = RequestFactory().get("/", REMOTE_ADDR=PEER, HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected


def test_malformed_peer_address_is_none(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="garbage")
    assert client_ip(request) is None


def test_spoofed_header_on_login_stores_the_real_peer(client, coordinator_site_a):
    coordinator_site_a.set_password("a-long-enough-password-1")
    coordinator_site_a.save()
    for header in ("198.51.100.1", "not-an-ip"):
        response = client.post(
            reverse("login"),
            {"username": coordinator_site_a.username, "password": "a-long-enough-password-1"},
            REMOTE_ADDR=PEER,
            HTTP_X_FORWARDED_FOR=header,
        )
        assert response.status_code == 302
        client.logout()
    ips = list(AccessLog.objects.filter(event="login").values_list("ip", flat=True))
    assert ips == [PEER, PEER]


def test_malformed_header_on_failed_login_is_no_500(client, coordinator_site_a):
    response = client.post(
        reverse("login"),
        {"username": coordinator_site_a.username, "password": "wrong-password-123"},
        REMOTE_ADDR=PEER,
        HTTP_X_FORWARDED_FOR="not-an-ip",
    )
    assert response.status_code == 200
    assert AccessLog.objects.get(event="login_failed").ip == PEER


def test_malformed_header_on_audited_patch_is_no_500(api_for, patient_a, coordinator_site_a):
    api = api_for(coordinator_site_a)
    response = api.patch(
        f"/api/v1/patients/{patient_a.pk}/",
        {"phone": "13900001111", "reason": "Phone from the patient"},
        format="json",
        REMOTE_ADDR=PEER,
        HTTP_X_FORWARDED_FOR="not-an-ip",
    )
    assert response.status_code == 200, response.content[:500]
    assert patient_a.history.first().history_ip == PEER
