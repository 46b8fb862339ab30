"""The API documentation renders in Chromium with nothing loaded from outside: Swagger
UI, its assets and the schema are all served by the app."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL = {"localhost", "127.0.0.1", "[::1]", "::1"}


def test_swagger_ui_renders_offline(page: Any, live_server: Any, coordinator_site_a: Any) -> None:
    outside: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        host = urlparse(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOCAL:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", guard)
    login(page, live_server, "crc_a")
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30000)
    assert "Hepato-biliary trials API" in page.locator(".swagger-ui .title").inner_text()
    # a large schema renders in several passes: wait for the operations checked below
    for expected in ("/api/v1/patients/{id}/screen/", "/api/v1/trials/{id}/statistics/"):
        page.wait_for_selector(f'.opblock-summary-path[data-path="{expected}"]', timeout=30000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    for expected in (
        "/api/v1/patients/{id}/screen/",
        "/api/v1/patients/{id}/enroll/",
        "/api/v1/visits/{id}/submit/",
        "/api/v1/trials/{id}/statistics/",
    ):
        assert any(expected in p.replace("\u200b", "") for p in paths), expected
    # open one operation: its parameters and error responses are documented
    page.locator(".opblock-post", has_text="/enroll/").first.locator(".opblock-summary").click()
    body = page.locator(".opblock.is-open").inner_text()
    assert "Idempotency-Key" in body and "429" in body and "Retry-After" in body
    assert outside == [], outside
