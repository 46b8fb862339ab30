"""The API documentation renders in Chromium with nothing loaded from outside: Swagger
UI, its assets and the schema are all served by the app."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL = {"localhost", "127.0.0.1", "[::1]", "::1"}


def rendered_paths(page: Any) -> set[str]:
    """Every operation path Swagger UI shows, scrolling down the page: it renders only the
    tags near the viewport, so a long API is never in the DOM all at once."""
    seen: set[str] = set()
    page.evaluate("window.scrollTo(0, 0)")
    for _ in range(400):
        seen.update(
            p.replace("\u200b", "") for p in page.locator(".opblock-summary-path").all_inner_texts()
        )
        if page.evaluate("window.innerHeight + window.scrollY >= document.body.scrollHeight - 2"):
            break
        page.mouse.wheel(0, 700)
        page.wait_for_timeout(60)
    return seen


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
    paths = rendered_paths(page)
    for expected in (
        "/api/v1/patients/{id}/screen/",
        "/api/v1/patients/{id}/enroll/",
        "/api/v1/visits/{id}/submit/",
        "/api/v1/trials/{id}/statistics/",
    ):
        assert any(expected in p.replace("\u200b", "") for p in paths), expected
    # open one operation: its parameters and error responses are documented
    enroll = page.locator(".opblock-post", has_text="/enroll/").first
    page.evaluate("window.scrollTo(0, 0)")
    for _ in range(400):  # scroll until Swagger UI has rendered it
        if enroll.count():
            break
        page.mouse.wheel(0, 700)
        page.wait_for_timeout(60)
    enroll.locator(".opblock-summary").click()
    body = page.locator(".opblock.is-open").inner_text()
    assert "Idempotency-Key" in body and "429" in body and "Retry-After" in body
    assert outside == [], outside
