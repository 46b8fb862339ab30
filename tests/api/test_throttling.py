"""Requests are throttled per user: the request over the rate is a 429 with
``Retry-After``, and other users are not affected. (Anonymous requests are refused with
401 before any throttling; only the schema and the docs answer them, at the anonymous
rate.)"""

from __future__ import annotations

import pytest
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from patients.models import Patient


@pytest.fixture
def tiny_rates(monkeypatch):
    # DRF reads the rates (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], from the
    # API_THROTTLE_USER / API_THROTTLE_ANON variables) once, into this class attribute;
    # overriding the setting in a test does not reach it, so the attribute is patched.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "2/min"})
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


def test_user_over_the_rate_gets_429_with_retry_after(
    tiny_rates, api_for, coordinator_site_a, coordinator_site_b, trial_site_a
):
    api = api_for(coordinator_site_a)
    for _ in range(3):
        assert api.get("/api/v1/patients/").status_code == 200
    refused = api.post(
        "/api/v1/patients/",
        {"trial_site": trial_site_a.pk, "full_name": "X"},
        format="json",
    )
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "throttled" in refused.json()["detail"]
    assert Patient.objects.count() == 0
    # throttling is per user: another coordinator is served
    assert api_for(coordinator_site_b).get("/api/v1/patients/").status_code == 200
