"""Public recruiting pages in Chromium: trial page, pre-screening and booking, in English
and Simplified Chinese, at desktop width and on a 390 px phone.

Set RECRUITING_SHOTS=docs/screenshots to save the screenshots the README shows.
"""

from __future__ import annotations

import os

import pytest

from recruiting.models import Referral
from tests.recruiting.conftest import _fresh_rate_limit, clinic_a, public_trial  # noqa: F401
from tests.recruiting.helpers import answers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("RECRUITING_SHOTS")
TEXTS = {
    "en": {"monday": "Monday", "verdict": "You may be eligible", "received": "Request received"},
    "zh-hans": {"monday": "星期一", "verdict": "您可能符合条件", "received": "申请已收到"},
}


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_find_prescreen_and_book(browser, live_server, public_trial, clinic_a, lang, width):  # noqa: F811
    context = browser.new_context(
        locale="zh-CN" if lang == "zh-hans" else "en-US",
        viewport={"width": width, "height": 900},
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    texts = TEXTS[lang]
    tag = f"{lang}-{'desktop' if width > 400 else 'phone'}"
    try:
        page.goto(f"{live_server.url}/recruiting/")
        page.wait_for_url(f"**/recruiting/{lang}/")
        assert context.cookies() == []  # nothing set by the public pages
        page.click(".trial h2 a")
        page.wait_for_selector(".site")
        assert texts["monday"] in page.locator(".site").first.inner_text()
        assert "ChiCTR2600012345" in page.inner_text("main")
        assert fits_width(page)
        shot(page, f"recruiting-trial-{tag}")

        page.click("a.pub-button")
        page.wait_for_selector("form.pub-form")
        assert context.cookies() == []
        for name, value in answers().items():
            radio = page.locator(f'input[type=radio][name="{name}"][value="{value}"]')
            if radio.count():
                radio.check()
            elif value:
                page.fill(f'input[name="{name}"]', value)
        assert fits_width(page)
        shot(page, f"recruiting-prescreen-{tag}")
        page.click("form.pub-form button[type=submit]")
        page.wait_for_selector("#verdict")
        assert texts["verdict"] in page.inner_text("#verdict")

        first_day = page.locator("#id_slot option:not([disabled])").nth(1).get_attribute("value")
        page.select_option("#id_slot", first_day)
        page.fill("#id_full_name", "Jane Doe")
        page.fill("#id_email", "jane@example.org")
        page.select_option("#id_nationality", "GB")
        page.check("#id_personal_information_consent")
        assert not page.is_visible("#id_website")  # the honeypot is hidden from people
        assert fits_width(page)
        shot(page, f"recruiting-booking-{tag}")
        page.click("form[action$='/request/'] button[type=submit]")
        page.wait_for_selector("#reference")
        assert texts["received"] in page.inner_text("main")
        referral = Referral.objects.get()
        assert page.inner_text("#reference") == referral.reference
        assert referral.language == lang
        assert referral.appointment_date.weekday() in (0, 2)  # site A: Monday, Wednesday
        shot(page, f"recruiting-requested-{tag}")
    finally:
        context.close()
