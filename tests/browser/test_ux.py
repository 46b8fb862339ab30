"""Every page as its users expect it (issue #18), in Chromium, at desktop width and at
390 px, in English and Simplified Chinese: one round of validation with a linked error
summary, grouped and progressive registration, no page wider than a phone, readable
charts from 20 to 2,000 patients, the dashboard in the navigation, the order of steps
(pre-screening), and the smaller items (favicon, language names, API docs link back)."""

from __future__ import annotations

import datetime
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from patients.models import Patient, Visit
from sites.models import Membership
from sites.roles import Role
from tests.trials.helpers_dashboard import seed

from .conftest import CHROMIUM_ARGS, login  # noqa: F401 (CHROMIUM_ARGS: same launch)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="390px")]
LANGUAGES = [pytest.param("en", id="en"), pytest.param("zh-hans", id="zh")]
DEMO_PASSWORD = "demo-Trial-2026"  # noqa: S105 (the published demo password)

WIDTH_JS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def new_page(browser: Any, size: dict[str, int], language: str = "en") -> Any:
    context = browser.new_context(
        locale="zh-CN" if language == "zh-hans" else "en-US", viewport=size
    )
    page = context.new_page()
    page.set_default_timeout(20000)
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.csp_violations = violations
    return page


def sign_in(page: Any, live_server: Any, username: str, password: str, language: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    if language != "en":
        page.select_option("#lang-select", language)
        page.wait_for_load_state()
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button.primary")
    page.wait_for_url(f"{live_server.url}/")


def close(page: Any) -> None:
    violations = page.csp_violations
    page.context.close()
    assert violations == [], violations


# --- 1 and 6: registration -------------------------------------------------------------


@pytest.fixture
def recruiting(trial: Any, trial_site_a: Any) -> Any:
    trial.planned_followup_months = 24
    trial.save()
    return trial_site_a


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_registration_is_grouped_progressive_and_validated_in_one_round(
    browser: Any, live_server: Any, recruiting: Any, coordinator_site_a: Any, size, language
) -> None:
    page = new_page(browser, size, language)
    sign_in(page, live_server, "crc_a", "pw-for-tests-123", language)
    page.goto(f"{live_server.url}/patients/register/")
    # Grouped: identity, contact, residence, insurance ... each a fieldset with a legend.
    groups = page.eval_on_selector_all("fieldset.form-group", "els => els.map(e => e.id)")
    for group in ("group-identity", "group-contact", "group-residence", "group-insurance"):
        assert group in groups
    # Residents are the rule: nationality China is preselected; the expatriate section
    # appears only once "expatriate patient" is ticked.
    assert page.input_value("#id_nationality") == "CN"
    assert not page.is_visible("#id_residence_permit_expiry")
    page.check("#id_is_expatriate")
    assert page.is_visible("#id_residence_permit_expiry")
    page.uncheck("#id_is_expatriate")
    assert not page.is_visible("#id_residence_permit_expiry")

    # One round: phone "abc", a future date of birth and a name over the limit are all
    # flagged at once, each listed in the summary with a link to its field.
    long_name = "Zhang " + "Wei" * 80  # 246 characters: over the 200 that fit
    page.fill("#id_full_name", long_name)
    page.select_option("#id_sex", "M")
    future = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    page.fill("#id_birth_date", future)
    page.select_option("#id_id_document_type", "resident_id")
    page.fill("#id_id_document_number", "11010519491231002X")
    page.fill("#id_phone", "abc")
    page.click("main button.primary")
    page.wait_for_selector("#error-summary")
    links = page.eval_on_selector_all(
        "#error-summary a", "els => els.map(e => e.getAttribute('href'))"
    )
    assert {"#id_phone", "#id_birth_date", "#id_full_name"} <= set(links), links
    # the name is refused with a message, never cut
    assert len(page.input_value("#id_full_name")) == len(long_name)
    assert "246" in page.locator("#error-summary").inner_text()
    page.click("#error-summary a[href='#id_birth_date']")
    assert page.evaluate("location.hash") == "#id_birth_date"
    assert Patient.objects.count() == 0
    width, inner = page.evaluate(WIDTH_JS)
    assert width <= inner, (width, inner)

    # An expatriate whose permit ends before the planned follow-up (24 months): accepted,
    # with a warning.
    page.fill("#id_full_name", "Kim Min-jun")
    page.fill("#id_birth_date", "1968-07-09")
    page.fill("#id_phone", "+86 138 0000 0000")
    page.select_option("#id_nationality", "KR")
    page.check("#id_is_expatriate")
    page.select_option("#id_id_document_type", "passport")
    page.fill("#id_id_document_number", "M12345678")
    expiry = timezone.localdate() + datetime.timedelta(days=200)
    page.fill("#id_residence_permit_expiry", expiry.isoformat())
    page.click("main button.primary")
    page.wait_for_selector(".messages .msg-warning")
    assert expiry.isoformat() in page.locator(".messages .msg-warning").inner_text()
    assert Patient.objects.get().is_expatriate
    close(page)


def test_patient_page_flags_visits_after_the_permit_ends(
    page: Any, live_server: Any, trial: Any, trial_site_a: Any, coordinator_site_a: Any
) -> None:
    from tests.trials.helpers_dashboard import arms, make_patient

    arm_a, _arm_b = arms(trial)
    patient = make_patient(trial_site_a, arm_a)
    patient.is_expatriate = True
    patient.nationality = "KR"
    patient.residence_permit_expiry = timezone.localdate() + datetime.timedelta(days=20)
    patient.save()
    today = timezone.localdate()
    for days in (10, 40, 80):
        Visit.objects.create(
            patient=patient,
            unscheduled_reason="Follow-up",
            scheduled_date=today + datetime.timedelta(days=days),
            window_start=today + datetime.timedelta(days=days - 3),
            window_end=today + datetime.timedelta(days=days + 3),
        )
    login(page, live_server, "crc_a")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    assert page.locator("#visits .badge-permit").count() == 2
    assert "2 planned visits fall after the residence permit ends" in page.inner_text(
        "#permit-warning"
    )


# --- 1: the adverse-event and follow-up scan forms in one round --------------------------


@pytest.fixture
def enrolled(trial: Any, trial_site_a: Any) -> Any:
    from tests.trials.helpers_dashboard import arms, make_patient

    arm_a, _ = arms(trial)
    return make_patient(trial_site_a, arm_a)


@pytest.mark.parametrize("size", SIZES)
def test_adverse_event_and_scan_forms_flag_everything_in_one_round(
    browser: Any, live_server: Any, enrolled: Any, coordinator_site_a: Any, size
) -> None:
    page = new_page(browser, size)
    sign_in(page, live_server, "crc_a", "pw-for-tests-123", "en")
    page.goto(f"{live_server.url}/patients/{enrolled.pk}/adverse-events/new/")
    # a term not in the list (a form error) and a future onset date (a service rule)
    page.fill("#id_ctcae_term", "no such term at all")
    future = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    page.fill("#id_onset_date", future)
    page.click("main button.primary")
    page.wait_for_selector("#error-summary")
    links = page.eval_on_selector_all(
        "#error-summary a", "els => els.map(e => e.getAttribute('href'))"
    )
    assert "#id_ctcae_term" in links and "#id_onset_date" in links, links
    assert "future" in page.inner_text("#error-summary")
    width, inner = page.evaluate(WIDTH_JS)
    assert width <= inner, (width, inner)

    page.goto(f"{live_server.url}/patients/{enrolled.pk}/assessments/new/")
    page.fill("#id_assessment_date", future)
    page.fill("#id_measurements-0-diameter_mm", "-4")  # a typed minus: no diameter is negative
    page.click("main button.primary")
    page.wait_for_selector("#error-summary")
    summary = page.inner_text("#error-summary")
    links = page.eval_on_selector_all(
        "#error-summary a", "els => els.map(e => e.getAttribute('href'))"
    )
    assert "#id_assessment_date" in links, summary
    assert "#id_measurements-0-diameter_mm" in links, summary
    close(page)


# --- 2, 5: no page scrolls sideways at 390 px, as any role, in both languages -------------


def demo_accounts() -> dict[str, str]:
    first = {}
    for role in (Role.COORDINATOR, Role.SITE_INVESTIGATOR):
        m = Membership.objects.filter(role=role).order_by("user__username").first()
        first[role] = m.user.username
    return {
        "coordinator": first[Role.COORDINATOR],
        "investigator": first[Role.SITE_INVESTIGATOR],
        "lead": "lead",
        "monitor": "monitor",
        "datamanager": "datamanager",
        "admin": "admin",
    }


PAGES_JS = """
() => {
  const own = (a) => a.origin === location.origin;
  const nav = [...document.querySelectorAll('nav.mainnav a, .pagehead a.button')]
    .filter(own).map((a) => a.pathname + a.search);
  return [...new Set(nav)];
}
"""


def main_pages(page: Any, base: str) -> list[str]:
    """Home, every page of the navigation and the home buttons, a patient, its
    screening and history, a trial and its dashboard: what this role can reach."""
    page.goto(base + "/")
    pages = ["/", *page.evaluate(PAGES_JS)]
    page.goto(base + "/patients/")
    links = page.locator("main table a[href^='/patients/']")
    patients = [links.nth(i).get_attribute("href") for i in range(min(links.count(), 6))]
    if patients:
        pages.append(patients[0])
    # the first patient that has been screened: its screening record and its history
    for href in patients:
        page.goto(base + href)
        screening = page.locator("#screening a[href*='/screenings/']").first
        if screening.count():
            pages += [href, screening.get_attribute("href")]
            history = page.locator("a.button[href^='/history/']").first
            if history.count():
                pages.append(history.get_attribute("href"))
            break
    page.goto(base + "/trials/")
    trial = page.locator("main table a[href^='/trials/']").first
    if trial.count():
        href = trial.get_attribute("href")
        pages.append(href)
        page.goto(base + href)
        dashboard = page.locator("main a[href$='/dashboard/']").first
        if dashboard.count():
            pages.append(dashboard.get_attribute("href"))
    skip = ("/admin/", "/accounts/logout", "/api/")
    return [p for p in dict.fromkeys(pages) if not p.startswith(skip)]


#: ``make gallery`` sets this: every page of the walk is also photographed, at 390 px and
#: at desktop width, in both languages, into that folder with an index (docs/GALLERY.md).
GALLERY_DIR = os.environ.get("GALLERY_DIR")


def gallery_name(path: str) -> str:
    """A stable file name for a page whatever the ids of this demo run."""
    slug = re.sub(r"\d+", "n", path.strip("/")).replace("/", "-")
    return slug or "home"


def photograph(page: Any, folder: Path, name: str, language: str) -> list[str]:
    files = []
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)  # charts redraw at the new width
        file = f"{name}-{language}-{label}.png"
        page.screenshot(path=str(folder / file), full_page=True)
        files.append(file)
    page.set_viewport_size(PHONE)
    return files


def write_gallery_index(folder: Path, shots: dict[str, dict[str, Any]]) -> None:
    lines = [
        "# Screenshot gallery",
        "",
        "Every main page of the demo as the first role that reaches it, in English and",
        "Simplified Chinese, at 390 px and at desktop width (1280 px). Generated by the",
        "browser tests: `make gallery` (`tests/browser/test_ux.py`, Chromium).",
        "",
        "| page | role | English, 390 px | English, desktop | 中文, 390 px | 中文, desktop |",
        "|---|---|---|---|---|---|",
    ]
    base = os.path.relpath(folder, folder.parent)
    for _name, shot in sorted(shots.items()):
        cells = [
            f"[![]({base}/{f})]({base}/{f})"
            for language in ("en", "zh-hans")
            for f in shot.get(language, [])
        ]
        lines.append(f"| `{shot['path']}` | {shot['role']} | " + " | ".join(cells) + " |")
    (folder.parent / "GALLERY.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def demo(settings: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    call_command("seed_demo", sites=2, patients_per_site=6, quiet_logins=True, force=True)
    yield demo_accounts()
    cache.clear()


def test_demo_pages_as_every_role_at_390px_in_both_languages(
    browser: Any, live_server: Any, demo: dict[str, str]
) -> None:
    """One demo (seeding is slow): every main page of every role at 390 px in English
    and Chinese fits the phone; the language menu names the languages; screening data
    are never cut off (desktop and phone) and say which step they are; "Enrolled" is
    one number on the home page and the dashboard."""
    from patients.models import Enrollment, Screening

    too_wide: list[tuple[str, str, str, int]] = []
    visited = 0
    folder = Path(GALLERY_DIR) if GALLERY_DIR else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    shots: dict[str, dict[str, Any]] = {}
    for language in ("en", "zh-hans"):
        for role, username in demo.items():
            page = new_page(browser, PHONE, language)
            sign_in(page, live_server, username, DEMO_PASSWORD, language)
            options = page.eval_on_selector_all("#lang-select option", "o => o.map(x => x.text)")
            assert [o.strip() for o in options] == ["English", "简体中文"]
            for path in main_pages(page, live_server.url):
                page.goto(live_server.url + path)
                if "dashboard" in path:
                    page.wait_for_selector("body[data-charts-ready]")
                width, inner = page.evaluate(WIDTH_JS)
                visited += 1
                if width > inner:
                    too_wide.append((language, role, path, width))
                name = gallery_name(path)
                if folder is not None and language not in shots.get(name, {}):
                    shot = shots.setdefault(name, {"path": path, "role": role})
                    if shot["role"] == role:
                        shot[language] = photograph(page, folder, name, language)
            close(page)
    assert visited >= 60
    assert too_wide == [], too_wide
    if folder is not None:
        write_gallery_index(folder, shots)

    member = Membership.objects.get(user__username=demo["coordinator"])
    ts = member.trial_site
    screening = Screening.objects.filter(patient__trial_site=ts).order_by("pk").first()
    for size in (DESKTOP, PHONE):
        page = new_page(browser, size)
        sign_in(page, live_server, demo["coordinator"], DEMO_PASSWORD, "en")
        page.goto(f"{live_server.url}/patients/screenings/{screening.pk}/")
        # every table sits in a card that scrolls it: its last column can be reached
        cut = page.evaluate(CUT_TABLES_JS)
        assert cut == [], cut
        width, inner = page.evaluate(WIDTH_JS)
        assert width <= inner
        # the order of steps is stated (pre-screening before consent, GCP)
        assert page.locator("#screening-phase").count() == 1
        assert page.locator("#screening-result ~ [data-phase]").count() == 1
        if size is DESKTOP:
            expected = Enrollment.objects.filter(patient__trial_site=ts).count()
            page.goto(live_server.url + "/")
            header = page.inner_text("#enrollment thead")
            assert "Enrolled (ever, incl. withdrawn)" in header
            cells = page.locator("#enrollment tbody tr").first.locator("td").all_inner_texts()
            assert cells[5].strip() == str(expected), cells
        close(page)
    page = new_page(browser, DESKTOP)
    sign_in(page, live_server, "lead", DEMO_PASSWORD, "en")
    data = json.loads(
        page.context.request.get(
            f"{live_server.url}/trials/{ts.trial_id}/dashboard/data.json"
        ).text()
    )
    last = data["enrollment"]["months"][-1]
    assert last["by_site"][ts.site.code] == expected
    close(page)


CUT_TABLES_JS = """
() => [...document.querySelectorAll('main table')].filter((t) => {
  let box = t.parentElement;
  while (box && getComputedStyle(box).overflowX === 'visible' && box.tagName !== 'MAIN') {
    box = box.parentElement;
  }
  const scrolls = box && box.tagName !== 'MAIN';
  return t.scrollWidth > t.parentElement.clientWidth + 1 && !scrolls;
}).map((t) => t.className)
"""


# --- 4: charts and the dashboard link ---------------------------------------------------


@pytest.fixture
def seeded(trial: Any, trial_site_a: Any, trial_site_b: Any) -> Any:
    cache.clear()
    yield seed(trial, trial_site_a, trial_site_b, per_site=10)
    cache.clear()


def synthetic(n: int) -> dict[str, dict[str, Any]]:
    """waterfall.json and swimmer.json with ``n`` rows (the charts' worst case)."""
    bors = ["CR", "PR", "SD", "PD", "NE"]
    waterfall = [
        {
            "subject_id": f"CRYO-SX-{i:04d}",
            "best_change_pct": -100 + (i * 160 / n),
            "bor": bors[i % 5],
        }
        for i in range(n)
    ]
    swimmer = [
        {
            "subject_id": f"CRYO-SX-{i:04d}",
            "days_on_study": 800 - i * 700 // n,
            "bor": bors[i % 5],
            "first_response_day": 42 if i % 5 < 2 else None,
            "progression_day": 120 if i % 5 == 3 else None,
            "died": i % 7 == 0,
        }
        for i in range(n)
    ]
    return {
        "waterfall": {"total": n, "shown": n, "binned": False, "rows": waterfall},
        "swimmer": {"total": n, "shown": n, "truncated": False, "rows": swimmer},
    }


CHART_GEOMETRY_JS = """
() => {
  const sw = Chart.getChart(document.getElementById('canvas-swimmer'));
  const y = sw.scales.y;
  const rowPx = (y.bottom - y.top) / Math.max(1, y.ticks.length);
  const wf = Chart.getChart(document.getElementById('canvas-waterfall'));
  const ctx = wf.ctx; ctx.font = '12px system-ui, sans-serif';
  const labelPx = Math.max(...(wf.options.plugins.refLines.lines || []).map(
    (l) => ctx.measureText(l.label).width));
  const en = Chart.getChart(document.getElementById('canvas-enrollment'));
  return {
    swimmerRows: y.ticks.length, swimmerRowPx: rowPx,
    waterfallBars: wf.data.labels.length,
    labelRoom: wf.width - wf.chartArea.right, labelPx: labelPx,
    enrollmentDatasets: en.data.datasets.length,
    multiples: document.querySelectorAll('#enrollment-sites figure').length,
  };
}
"""


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("patients", [20, 2000])
def test_charts_stay_readable_from_20_to_2000_patients(
    browser: Any, live_server: Any, trial: Any, seeded: Any, lead_investigator: Any, size, patients
) -> None:
    page = new_page(browser, size)
    sign_in(page, live_server, "lead", "pw-for-tests-123", "en")
    # The dashboard is in the navigation and on the home page.
    assert page.locator("nav.mainnav a[data-nav='dashboard']").count() == 1
    assert page.locator("#home-dashboard").count() == 1

    def fulfil(body: dict[str, Any]) -> Any:
        return lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(body)
        )

    for chart, body in synthetic(patients).items():
        page.route(f"**/dashboard/{chart}.json*", fulfil(body))
    page.click("nav.mainnav a[data-nav='dashboard']")
    page.wait_for_selector("body[data-charts-ready='1']")
    g = page.evaluate(CHART_GEOMETRY_JS)
    # swimmer: every shown row has room for its label (11 px font)
    assert g["swimmerRows"] == min(patients, 60)
    assert g["swimmerRowPx"] >= 14, g
    # waterfall: every patient is a bar; the reference-line labels sit in the margin
    assert g["waterfallBars"] == patients
    assert g["labelRoom"] >= g["labelPx"] + 4, g
    # enrollment: total against target, plus one small chart per site
    assert g["enrollmentDatasets"] == 2
    assert g["multiples"] == 2
    width, inner = page.evaluate(WIDTH_JS)
    assert width <= inner
    close(page)


def test_dashboard_link_only_for_roles_with_the_permission(
    browser: Any, live_server: Any, trial: Any, coordinator_site_a: Any, investigator_site_a: Any
) -> None:
    for username, expected in (("crc_a", 0), ("pi_a", 1)):
        page = new_page(browser, PHONE)
        sign_in(page, live_server, username, "pw-for-tests-123", "en")
        assert page.locator("nav.mainnav a[data-nav='dashboard']").count() == expected
        assert page.locator("#home-dashboard").count() == expected
        close(page)


# --- 8: smaller items -------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_favicon_docs_link_back_and_superuser_home(
    browser: Any, live_server: Any, trial_site_a: Any, language: str
) -> None:
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert root.is_superuser
    page = new_page(browser, PHONE, language)
    sign_in(page, live_server, "root", "pw-for-tests-123", language)
    # the administrator's home offers no patient registration
    assert page.locator("a[href='/patients/register/']").count() == 0
    icon = page.get_attribute("link[rel=icon][type='image/png']", "href")
    assert page.context.request.get(live_server.url + icon).status == 200
    page.goto(f"{live_server.url}/api/docs/")
    page.click(".docs-back a")
    page.wait_for_url(f"{live_server.url}/")
    close(page)
