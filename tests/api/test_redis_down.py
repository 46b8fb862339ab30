"""Redis is optional at run time: with the cache unreachable every page and API list
answers normally, and API rate limits still hold (process-local fallback)."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from config import cache as resilient

UNREACHABLE = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings):
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": UNREACHABLE,
            "OPTIONS": options,
        },
        "throttle": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": UNREACHABLE,
            "OPTIONS": {**options, "LOCAL_FALLBACK": True},
            "KEY_PREFIX": "test-throttle",
        },
    }
    resilient.reset_down_state()
    yield
    resilient.reset_down_state()


def test_positional_default_is_returned_when_redis_is_down(redis_down):
    from django.core.cache import cache, caches

    assert cache.get("history-key", []) == []  # as DRF's throttle calls it
    assert cache.get("k", "fallback") == "fallback"
    assert cache.get("k", default=3) == 3
    # the throttle cache keeps working in memory
    caches["throttle"].set("k", [1, 2])
    assert caches["throttle"].get("k", []) == [1, 2]


def test_api_list_and_dashboard_answer_200_with_redis_down(
    redis_down, api_for, client, trial, patient_a, coordinator_site_a, lead_investigator
):
    started = time.monotonic()
    response = api_for(coordinator_site_a).get("/api/v1/patients/")
    assert response.status_code == 200, response.content[:500]
    assert response.json()["count"] == 1
    assert (
        api_for(lead_investigator).get(f"/api/v1/trials/{trial.pk}/statistics/").status_code == 200
    )
    client.force_login(lead_investigator)
    assert client.get(reverse("trials:dashboard", args=[trial.pk])).status_code == 200
    assert client.get(reverse("trials:dashboard_data", args=[trial.pk])).status_code == 200
    client.force_login(coordinator_site_a)
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("patients:detail", args=[patient_a.pk])).status_code == 200
    # one connect timeout, then the server is skipped for a few seconds
    assert time.monotonic() - started < 5


def test_throttling_falls_back_to_local_memory_with_redis_down(
    redis_down, monkeypatch, api_for, coordinator_site_a
):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "2/min"})
    api = api_for(coordinator_site_a)
    assert [api.get("/api/v1/patients/").status_code for _ in range(4)] == [200, 200, 200, 429]
