"""Anonymous visitors: trial list, trial page, languages, cookies."""

from __future__ import annotations

import pytest
from django.test import Client

from recruiting.models import TrialPublicPage
from trials.models import Trial

from .helpers import answers

pytestmark = pytest.mark.django_db


def test_list_shows_the_trial_with_its_sites_and_clinic_days_in_english(client, public_trial):
    response = client.get("/recruiting/en/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Freezing the tumour plus targeted therapy" in html
    assert "Trial clinic of Dr Wang Peng" in html
    assert "Monday, Wednesday" in html  # site A, like the lead site
    assert "Tuesday, Thursday" in html  # site B
    assert response["Content-Language"] == "en"


def test_list_in_simplified_chinese_uses_the_chinese_texts(client, public_trial):
    html = client.get("/recruiting/zh-hans/").content.decode()
    assert "冷冻消融联合靶向和免疫治疗晚期肝内胆管癌" in html
    assert "王鹏医生临床研究门诊" in html
    assert "星期一" in html and "星期三" in html
    assert '<html lang="zh-hans" dir="ltr">' in html


def test_bare_address_follows_the_browser_language(client, public_trial):
    assert client.get("/recruiting/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").url == (
        "/recruiting/zh-hans/"
    )
    assert client.get("/recruiting/", HTTP_ACCEPT_LANGUAGE="fr-FR").url == "/recruiting/en/"


def test_trial_page_shows_participation_sites_and_registry_id_as_plain_text(client, public_trial):
    html = client.get("/recruiting/en/CRYO/").content.decode()
    assert "A scan every 6 weeks" in html
    assert "1200 Fenglin Road" not in html  # site codes SA/SB are not demo sites
    assert "ChiCTR2600012345" in html
    assert 'href="http' not in html  # registry ids link nowhere: no third party
    assert "08:00–12:00" in html


def test_no_cookie_on_the_public_pages_and_the_questionnaire(client, public_trial):
    for url in (
        "/recruiting/",
        "/recruiting/en/",
        "/recruiting/en/CRYO/",
        "/recruiting/en/CRYO/check/",
    ):
        response = client.get(url)
        assert response.cookies == {}, url
        assert "Set-Cookie" not in response.headers, url


def test_pages_have_no_inline_script_or_style(client, public_trial):
    for url in ("/recruiting/en/", "/recruiting/en/CRYO/", "/recruiting/en/CRYO/check/"):
        html = client.get(url).content.decode()
        assert "<script" not in html and "<style" not in html and "style=" not in html, url
        assert " onchange=" not in html and " onclick=" not in html, url
    html = client.post("/recruiting/en/CRYO/check/", answers()).content.decode()
    assert "<script" not in html and "style=" not in html


def test_a_language_not_offered_is_not_found(client, public_trial):
    assert client.get("/recruiting/ar/").status_code == 404
    assert client.get("/recruiting/xx/CRYO/").status_code == 404


def test_arabic_once_offered_is_right_to_left_with_the_arabic_texts(client, public_trial, settings):
    settings.RECRUITING_LANGUAGES = ["en", "zh-hans", "ar"]
    page = TrialPublicPage.objects.get(trial=public_trial)
    page.title_ar = "تجميد الورم مع العلاج الموجه والمناعي لسرطان القنوات الصفراوية"
    page.summary_ar = "تقارن هذه الدراسة بين علاجين."
    page.save()
    response = client.get("/recruiting/ar/CRYO/")
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "تقارن هذه الدراسة بين علاجين." in html
    assert response["Content-Language"] == "ar"
    # Untranslated texts fall back to English rather than showing nothing.
    assert "A scan every 6 weeks" in html
    assert "العربية" in client.get("/recruiting/en/").content.decode()  # offered in the switch


def test_unpublished_or_not_recruiting_trials_are_not_shown(client, public_trial):
    Trial.objects.filter(pk=public_trial.pk).update(status=Trial.Status.CLOSED_TO_ACCRUAL)
    assert "Freezing the tumour" not in client.get("/recruiting/en/").content.decode()
    assert client.get("/recruiting/en/CRYO/").status_code == 404


def test_the_questionnaire_is_generated_from_the_criteria_in_the_visitors_language(
    client, public_trial
):
    html = client.get("/recruiting/zh-hans/CRYO/check/").content.decode()
    assert "您今年多少岁？" in html
    assert "是否通过活检" in html
    en = client.get("/recruiting/en/CRYO/check/").content.decode()
    assert "How old are you?" in en and "How are you managing day to day?" in en


def test_prescreening_without_answers_names_every_missing_answer(public_trial):
    client = Client(enforce_csrf_checks=True)  # the questionnaire needs no CSRF token
    response = client.post("/recruiting/en/CRYO/check/", {})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Please answer the questions marked below." in html
    assert html.count("This field is required.") >= 8


def _no_cookie(response) -> bool:
    return response.cookies == {} and "Set-Cookie" not in response.headers


def test_a_missing_public_page_is_a_public_404_without_cookie(client, public_trial):
    """Unknown addresses of the public area get the public layout in the page's language,
    not the staff page (whose logout form sets the CSRF cookie)."""
    for url, lang, text in (
        ("/recruiting/en/NO-SUCH-TRIAL/", "en", "Page not found"),
        ("/recruiting/zh-hans/NO-SUCH-TRIAL/", "zh-hans", "页面不存在"),
        ("/recruiting/en/CRYO/nothing/here/", "en", "Page not found"),
        ("/recruiting/xx/", "en", "Page not found"),
    ):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 404, url
        assert _no_cookie(response), url
        assert text in html and f'<html lang="{lang}"' in html, url
        assert "csrfmiddlewaretoken" not in html and "logout" not in html, url
    # the staff area keeps the staff 404 (and a staff page outside /recruiting/ too)
    staff = client.get("/trials/no-such-page/")
    assert staff.status_code in (302, 404)


def test_wrong_method_and_server_error_on_public_pages_set_no_cookie(public_trial, monkeypatch):
    client = Client(raise_request_exception=False)
    not_allowed = client.post("/recruiting/en/")  # a GET-only page
    assert not_allowed.status_code == 405 and _no_cookie(not_allowed)

    def broken():
        raise RuntimeError("database gone")

    monkeypatch.setattr("recruiting.selectors.published_pages", broken)
    failed = client.get("/recruiting/zh-hans/CRYO/")
    assert failed.status_code == 500 and _no_cookie(failed)
    assert "出现错误" in failed.content.decode()
