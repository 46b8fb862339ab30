from __future__ import annotations

import pytest

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_language_switch_to_chinese(page, live_server, coordinator_site_a):
    login(page, live_server, "crc_a")
    page.select_option("#lang-select", "zh-hans")
    page.wait_for_selector("html[lang=zh-hans]")
    nav = page.locator(".mainnav").inner_text()
    assert "患者" in nav and "试验" in nav
    page.select_option("#lang-select", "en")
    page.wait_for_selector("html[lang=en]")
    assert "Patients" in page.locator(".mainnav").inner_text()
