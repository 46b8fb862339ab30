from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import CHROMIUM

# Playwright's sync API runs an event loop in this thread; the live server and the
# fixtures still talk to the database synchronously, which is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    # Every page runs under the Content-Security-Policy: a blocked script or style is a
    # broken page, so any violation fails the test.
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text[:90]}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert violations == [], f"Content-Security-Policy violations: {violations}"


def login(page: Any, live_server: Any, username: str, password: str = "pw-for-tests-123") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button.primary")
    page.wait_for_url(f"{live_server.url}/")
