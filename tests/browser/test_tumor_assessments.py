"""A coordinator enters a baseline (one refused lesion, then fixed) and a follow-up, and
reads the response on the patient page."""

from __future__ import annotations

import os

import pytest

from patients.models import Lesion, TumorAssessment
from tests.patients.helpers_tumor import BASELINE_DATE, day, enroll

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("TUMOUR_SHOTS")  # a folder: save screenshots there while developing


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_coordinator_enters_baseline_and_follow_up(
    page, live_server, patient_a, coordinator_site_a
):
    enroll(patient_a, coordinator_site_a)
    login(page, live_server, "crc_a")
    page.goto(f"{live_server.url}/patients/{patient_a.pk}/")
    page.click("text=Add baseline assessment")
    page.fill("#id_assessment_date", BASELINE_DATE.isoformat())
    page.fill("#id_lesions-0-organ", "liver")
    page.check("#id_lesions-0-target")
    page.fill("#id_lesions-0-diameter_mm", "48")
    page.fill("#id_lesions-1-organ", "liver")
    page.check("#id_lesions-1-target")
    page.fill("#id_lesions-1-diameter_mm", "9")
    page.fill("#id_lesions-2-organ", "peritoneum")
    page.fill("#id_lesions-2-diameter_mm", "0")
    page.click("main button.primary")
    assert "at least 10 mm" in page.locator("tr.row-error").inner_text()
    shot(page, "baseline_refused")
    assert Lesion.objects.count() == 0
    page.fill("#id_lesions-1-diameter_mm", "22")
    page.click("main button.primary")
    page.wait_for_selector("text=Baseline assessment recorded.")
    shot(page, "baseline_detail")
    assert sorted(Lesion.objects.values_list("code", flat=True)) == ["NT1", "T1", "T2"]

    page.goto(f"{live_server.url}/patients/{patient_a.pk}/assessments/new/")
    page.fill("#id_assessment_date", day(42).isoformat())
    page.fill("#id_measurements-0-diameter_mm", "30")
    page.fill("#id_measurements-1-fragments_mm", "6, 4")
    page.select_option("#id_non_target_status", "NON_CR_NON_PD")
    shot(page, "followup_form")
    page.click("main button.primary")
    page.wait_for_selector("text=Follow-up assessment recorded.")
    shot(page, "followup_detail")
    assert "-42.9 %" in page.locator("main").inner_text()  # 70 mm -> 40 mm
    page.goto(f"{live_server.url}/patients/{patient_a.pk}/")
    section = page.locator("#tumour-response").inner_text()
    shot(page, "patient_page")
    assert "PR" in section and "40" in section
    assert TumorAssessment.objects.count() == 2
