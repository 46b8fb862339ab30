"""A governed extract end to end in the browser: the researcher's request (errors in one
round), each center's steward decides, the extract is built, the requester downloads it
and its checksum is the one the page shows; the pages fit a phone in both languages."""

from __future__ import annotations

import datetime
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from registry.models import RegistryPatient
from sites.roles import Role
from tests.factories import MembershipFactory, SiteFactory, UserFactory
from tests.research.conftest import make_patient

from .test_ux import CUT_TABLES_JS, DESKTOP, PHONE, WIDTH_JS, close, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-123"  # noqa: S105 (the test factories' password)
SHOTS = os.environ.get("SCREENSHOT_DIR", "")


def persona(username: str, role: str, site: Any = None) -> Any:
    user = UserFactory(username=username)
    MembershipFactory(user=user, role=role, site=site, trial=None, trial_site=None)
    return user


@pytest.fixture
def network(settings: Any, tmp_path: Any) -> dict:
    settings.MEDIA_ROOT = tmp_path
    a, b = SiteFactory(code="CA", name="Center A"), SiteFactory(code="CB", name="Center B")
    abstractor_a = persona("abs_a", Role.CENTER_ABSTRACTOR, a)
    abstractor_b = persona("abs_b", Role.CENTER_ABSTRACTOR, b)
    for i in range(4):
        make_patient(a, abstractor_a, i, fusion=True, ablation_day=30 + i)
    for i in range(3):
        make_patient(b, abstractor_b, i, fusion=True, ablation_day=20)
    RegistryPatient.objects.update(
        consent_research=True, consent_genomic=True, consent_date=datetime.date(2026, 1, 5)
    )
    from research.cohorts import cohort_create

    researcher = persona("researcher", Role.NETWORK_RESEARCHER)
    cohort = cohort_create(
        name="iCCA FGFR2 ablation",
        criteria={
            "all": [
                {"type": "diagnosis", "category": ["icca"]},
                {"type": "genomic", "alteration": "fusion", "gene": "FGFR2"},
            ]
        },
        is_shared=True,
        acting_user=researcher,
    )
    return {
        "cohort": cohort,
        "sites": (a, b),
        "stewards": (
            persona("stew_a", Role.CENTER_STEWARD, a),
            persona("stew_b", Role.CENTER_STEWARD, b),
        ),
    }


def fits(page: Any) -> None:
    width, inner = page.evaluate(WIDTH_JS)
    assert width <= inner, (page.url, width, inner)
    assert page.evaluate(CUT_TABLES_JS) == [], page.url


def shoot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_request_approve_build_and_download(browser: Any, live_server: Any, network: dict) -> None:
    cohort = network["cohort"]
    a, b = network["sites"]
    page = new_page(browser, DESKTOP)
    sign_in(page, live_server, "researcher", PASSWORD, "en")
    page.goto(f"{live_server.url}/research/cohorts/{cohort.pk}/")
    page.click("text=Request a row-level extract")
    page.fill("#id_title", "FGFR2 and ablation")
    page.fill("#id_purpose", "Recurrence after ablation by FGFR2 status.")
    page.fill("#id_ethics_committee", "Lead hospital IRB")
    page.fill("#id_ethics_approval_date", "2026-06-01")
    page.check(f"input[name=centers][value='{a.pk}']")
    page.check(f"input[name=centers][value='{b.pk}']")
    page.check("input[name=formats][value=cbioportal]")
    page.check("#id_include_genomics")
    page.click("main button.primary")
    # one round: the missing approval number and the missing HGR approval together
    summary = page.inner_text(".error-summary")
    assert "Ethics approval number" in summary or "ethics approval number" in summary.lower()
    assert "human genetic resources" in page.inner_text("main")
    shoot(page, "request-form-errors")
    page.fill("#id_ethics_approval_number", "IRB-2026-031")
    page.fill("#id_hgr_approval_number", "HGR-2026-0042")
    page.click("main button.primary")
    page.wait_for_selector("#center-decisions")
    assert "Awaiting the centers' decisions" in page.inner_text("#request-status")
    request_url = page.url
    close(page)

    for steward, site in zip(("stew_a", "stew_b"), (a, b), strict=True):
        page = new_page(browser, DESKTOP)
        sign_in(page, live_server, steward, PASSWORD, "en")
        page.goto(f"{live_server.url}/research/requests/")
        page.click("#awaiting-decision a")
        page.check(f"#decide-{site.code} input[value=approve]")
        page.click(f"#decide-{site.code} button")
        page.wait_for_selector(f"text=Your decision for {site.code} is recorded.")
        close(page)

    page = new_page(browser, DESKTOP)
    sign_in(page, live_server, "researcher", PASSWORD, "en")
    page.goto(request_url)
    # no broker in the tests: the extract was built when the last steward approved
    assert "Ready" in page.inner_text("#extract [data-role=status]")
    counts = page.inner_text("#extract-counts")
    assert "7 patient records" in counts
    shown = page.inner_text("#extract-sha256").strip()
    shoot(page, "request-ready")
    with page.expect_download() as info:
        page.click("#extract [data-role=download] a")
    path = info.value.path()
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == shown
    page.reload()
    assert "researcher" in page.inner_text("#extract-downloads")
    close(page)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_request_pages_fit_a_phone(
    browser: Any, live_server: Any, network: dict, language: str
) -> None:
    from research import extracts

    a, b = network["sites"]
    researcher = UserFactory(username="researcher")
    request = extracts.request_submit(
        acting_user=researcher,
        cohort=network["cohort"],
        title="FGFR2 fusions and ablation outcome in intrahepatic cholangiocarcinoma",
        purpose="Recurrence after ablation by FGFR2 status. " * 6,
        ethics_committee="Lead hospital ethics committee",
        ethics_approval_number="EC-2026-118",
        ethics_approval_date=datetime.date(2026, 6, 1),
        centers=[a, b],
        formats=["tables", "omop"],
        include_genomics=True,
        hgr_approval_number="HGR-2026-0042",
    )
    for user, pages in (
        (
            "researcher",
            [
                "/research/requests/",
                "/research/requests/new/",
                "/research/cohorts/",
                f"/research/cohorts/{network['cohort'].pk}/",
                "/research/queries/",
            ],
        ),
        ("stew_a", ["/research/requests/", f"/research/requests/{request.pk}/"]),
    ):
        page = new_page(browser, PHONE, language)
        sign_in(page, live_server, user, PASSWORD, language)
        for path in pages:
            page.goto(live_server.url + path)
            fits(page)
            shoot(page, f"{user}-{path.strip('/').replace('/', '-')}-{language}")
        close(page)
