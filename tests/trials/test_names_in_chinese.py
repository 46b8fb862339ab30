"""Names users read are data in both languages (issue #18): a reader in Chinese sees the
trial, arms, study treatments, visits and sites of the demo by their Chinese names; the
English names stay for readers in English. The zh-hans walk fails on any known
English-only name of the demo."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from demo.builder import SITES
from patients.models import Patient, Screening, Visit
from sites.models import Membership
from sites.roles import Role
from trials.models import Arm, Intervention, Trial, VisitDefinition


@pytest.fixture
def demo(db: Any, settings: Any, monkeypatch: Any) -> Trial:
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_REGISTRY_PATIENTS", "0")
    call_command("seed_demo", sites=2, patients_per_site=3, quiet_logins=True)
    return Trial.objects.get(protocol_code="CRYO-ICC")


def english_names(trial: Trial) -> list[str]:
    names = [trial.title, trial.short_title]
    names += [a.name for a in Arm.objects.filter(trial=trial)]
    for i in Intervention.objects.filter(trial=trial):
        names.append(i.name)
        # dose, route and schedule where the Chinese differs ("240 mg" reads the same)
        names += [
            english
            for english, chinese in (
                (i.dose, i.dose_zh),
                (i.route, i.route_zh),
                (i.schedule, i.schedule_zh),
            )
            if chinese and chinese != english and len(english) > 3  # not "IV"
        ]
    names += [v.name for v in VisitDefinition.objects.filter(trial=trial)]
    names += [name for _code, name, *_rest in SITES[:2]]
    return [n for n in names if n]


def pages(trial: Trial) -> list[str]:
    patient = Patient.objects.filter(enrollment__isnull=False).order_by("pk").first()
    visit = Visit.objects.filter(patient=patient).order_by("scheduled_date").first()
    return [
        "/",
        "/patients/",
        f"/patients/{patient.pk}/",
        f"/patients/visits/{visit.pk}/",
        "/patients/screening-log/",
        f"/patients/screenings/{Screening.objects.filter(patient=patient).first().pk}/",
        "/trials/",
        f"/trials/{trial.pk}/",
    ]


def lead_pages(trial: Trial) -> list[str]:
    return [f"/trials/{trial.pk}/", f"/trials/{trial.pk}/dashboard/"]


def read(client: Any, username: str, language: str, urls: list[str]) -> str:
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    html = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html.append(response.content.decode())
    return "\n".join(html)


def test_a_reader_in_chinese_sees_no_english_only_name(client, demo):
    coordinator = Membership.objects.filter(role=Role.COORDINATOR).order_by("pk").first()
    html = read(client, coordinator.user.username, "zh-hans", pages(demo))
    html += read(client, "lead", "zh-hans", lead_pages(demo))
    found = [name for name in english_names(demo) if name in html]
    assert found == [], found
    # the eligibility engine's reasons on the screening record read in Chinese too
    assert "; must be" not in html and "须为" in html
    for chinese in (
        demo.short_title_zh,
        "第6周：影像评估",
        "冷冻消融 + 仑伐替尼 + 特瑞普利单抗",
        "口服, 每日一次",
    ):
        assert chinese in html, chinese
    assert "上海肝胆中心（牵头单位）" in html or "北京肝胆医院" in html


def test_a_reader_in_english_sees_the_english_names(client, demo):
    coordinator = Membership.objects.filter(role=Role.COORDINATOR).order_by("pk").first()
    html = read(client, coordinator.user.username, "en", pages(demo))
    assert demo.short_title in html and "Week 6: imaging" in html
    assert "第6周：影像评估" not in html


def test_a_name_without_chinese_falls_back_to_english(demo):
    arm = Arm.objects.filter(trial=demo).first()
    arm.name_zh = ""
    with translation.override("zh-hans"):
        assert arm.display_name == arm.name
        arm.name_zh = "甲组"
        assert str(arm) == f"{arm.code}: 甲组"
    with translation.override("en"):
        assert str(arm) == f"{arm.code}: {arm.name}"


ENGINE_ENGLISH = (
    "Clopper-Pearson exact",
    "else enrollment date",
    "censored at the last",
    "Efron ties",
    "Kaplan-Meier estimator",
    "hybrid score interval",
    "smallest time with",
    "Denominator:",
)


def test_the_dashboard_states_its_methods_in_chinese(client, demo):
    """Method statements and definitions come from the English engines; a reader in
    Chinese gets every one of them in Chinese (issue #18, "method text")."""
    html = read(client, "lead", "zh-hans", [f"/trials/{demo.pk}/dashboard/"])
    methods = re.findall(r'class="method small">(.*?)</(?:p|span)>', html, re.S)
    facts = re.search(r'id="dashboard-facts">(.*?)</section>', html, re.S).group(1)
    definitions = re.findall(r"<dd>(.*?)</dd>", facts, re.S)
    assert len(methods) >= 5 and len(definitions) >= 5
    # a sentence (two English words in a row) without any Chinese; codes, dates and
    # method names such as "RECIST1.1" or "log-log" are the same in both languages
    english = [
        m
        for m in methods + definitions
        if re.search(r"[a-z]{3,} [a-z]{3,}", m) and not re.search(r"[\u4e00-\u9fff]", m)
    ]
    assert english == [], english
    assert [phrase for phrase in ENGINE_ENGLISH if phrase in html] == []
    assert "随机化日期，无则为入组日期" in html or "首次治疗日期，无则为入组日期" in html
    # the same page in English keeps the engine's own wording
    english_html = read(client, "lead", "en", [f"/trials/{demo.pk}/dashboard/"])
    assert "Clopper-Pearson exact 95% CI" in english_html
