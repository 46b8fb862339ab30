"""Done when (issue 13): the coordinator submits a cycle visit with labs, vitals and a
lenvatinib dose reduction due to grade 3 hypertension; the grade 3 platelet count
proposes an adverse event that is recorded with a CTCAE term; the visit shows complete."""

from __future__ import annotations

import datetime
import os
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from clinical.models import Exposure, LabReferenceRange, LabResult, PlannedRegimen
from patients.models import AdverseEvent
from tests.patients.helpers_visits import enroll, setup_protocol, visit

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CLINICAL_SHOTS")


@pytest.fixture
def ctcae_terms(transactional_db):
    """The shipped CTCAE terms. A data migration loads them, but a transactional test that
    ran before this one in the same process (live server, PostgreSQL) truncated the table."""
    import importlib

    from django.apps import apps

    importlib.import_module("patients.migrations.0006_load_ctcae_v5_terms").load(apps, None)


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def record_ae(page, live_server, term_label, grade, onset, action, interventions):
    page.fill("#id_ctcae_term", term_label)
    page.select_option("#id_grade", str(grade))
    page.fill("#id_onset_date", onset.isoformat())
    page.select_option("#id_outcome", "not_recovered")
    page.select_option("#id_action_taken", action)
    for iv in interventions:
        page.select_option(f"#id_causality_{iv.pk}", "possible")
    page.click("main button.primary")
    page.wait_for_selector("text=Adverse event")


def test_cycle_visit_with_labs_vitals_dose_reduction_and_proposed_ae(
    ctcae_terms, page, live_server, trial, patient_a, coordinator_site_a, trial_site_a
):
    protocol = setup_protocol(trial)
    enroll(patient_a, coordinator_site_a, protocol["arm"])
    lenvatinib = protocol["interventions"]["Lenvatinib"]
    PlannedRegimen.objects.create(
        intervention=lenvatinib,
        route="oral",
        dose_mg=Decimal(12),
        weight_threshold_kg=Decimal(60),
        dose_below_threshold_mg=Decimal(8),
    )
    for analyte, lower, upper in (("platelets", 125, 350), ("bilirubin", 3.4, 20.5)):
        LabReferenceRange.objects.create(
            site=trial_site_a.site,
            analyte=analyte,
            lower=lower,
            upper=upper,
            effective_from=datetime.date(2020, 1, 1),
        )
    w3 = visit(patient_a, "W3")
    w3.definition.required_forms = ["labs", "vitals", "dosing", "ae_review"]
    w3.definition.save()
    day = w3.scheduled_date
    arm = list(protocol["arm"].interventions.order_by("name"))
    base = live_server.url
    login(page, live_server, "crc_a")

    # 1. submit the cycle visit
    page.goto(f"{base}/patients/visits/{w3.pk}/")
    assert page.locator('#visit-forms tr[data-form="labs"]').get_attribute("data-state") == (
        "missing"
    )
    page.click("text=Submit")
    page.fill("#id_actual_date", day.isoformat())
    page.select_option("#id_vital_status", "alive")
    page.select_option("#id_ecog", "1")
    page.check("#id_ae_review_done")
    page.click("main button.primary")
    page.wait_for_selector("#visit-incomplete")

    # 2. labs: the platelet count is grade 3
    page.click('#visit-forms tr[data-form="labs"] >> text=Enter')
    page.fill("#id_platelets", "42")
    page.fill("#id_bilirubin", "0.9")
    page.select_option("#id_bilirubin__unit", "mg/dL")
    page.click("main button.primary")
    page.wait_for_selector("text=record the proposed adverse event")
    assert LabResult.objects.get(analyte="platelets").ctcae_grade == 3

    # 3. vitals: blood pressure 168/104, 66 kg
    page.click('#visit-forms tr[data-form="vitals"] >> text=Enter')
    page.fill("#id_systolic_bp", "168")
    page.fill("#id_diastolic_bp", "104")
    page.fill("#id_weight_kg", "66")
    page.click("main button.primary")
    page.wait_for_selector("text=Vital signs recorded.")

    # 4. grade 3 hypertension, coded, searched in Chinese
    page.goto(f"{base}/patients/{patient_a.pk}/adverse-events/new/?visit={w3.pk}")
    page.fill("#id_ctcae_term", "高血压")
    shot(page, "ae_term_search")
    page.fill("#id_ctcae_term", "Hypertension · 高血压 (10020772)")
    page.dispatch_event("#id_ctcae_term", "change")
    # the grade text follows the chosen term (retried: the page's script updates it)
    expect(page.locator('#grade-definitions dd[data-grade="3"]')).to_contain_text(
        "Systolic BP >=160"
    )
    record_ae(page, live_server, "Hypertension · 高血压 (10020772)", 3, day, "reduced", arm)
    hypertension = AdverseEvent.objects.get(ctcae_term__meddra_code="10020772")

    # 5. lenvatinib reduced 12 -> 8 mg for the hypertension
    page.goto(f"{base}/clinical/visits/{w3.pk}/dosing/")
    page.select_option("#id_intervention", str(lenvatinib.pk))
    page.fill("#id_dose_mg", "8")
    page.select_option("#id_dose_change", "reduced")
    page.select_option("#id_reason", "adverse_event")
    page.select_option("#id_adverse_event", str(hypertension.pk))
    page.click("main button.primary")
    page.wait_for_selector("text=Exposure recorded.")
    reduced = Exposure.objects.get()
    assert (reduced.dose_change, reduced.adverse_event, reduced.dose_mismatch) == (
        "reduced",
        hypertension,
        False,
    )

    # 6. the proposed AE of the platelet count, pre-filled with its CTCAE term
    page.click("text=Record proposed adverse event")
    assert "10035528" in page.input_value("#id_ctcae_term")
    assert page.input_value("#id_grade") == "3"
    for iv in arm:
        page.select_option(f"#id_causality_{iv.pk}", "possible")
    page.select_option("#id_outcome", "not_recovered")
    page.select_option("#id_action_taken", "interrupted")
    shot(page, "proposed_ae")
    page.click("main button.primary")
    page.wait_for_selector("text=Adverse event recorded and linked to the result.")
    platelets = LabResult.objects.get(analyte="platelets")
    assert platelets.adverse_event.ctcae_term.term == "Platelet count decreased"

    # 7. the visit is complete
    page.goto(f"{base}/patients/visits/{w3.pk}/")
    shot(page, "visit_complete")
    assert page.locator("#visit-complete").is_visible()
    assert "Child-Pugh" in page.locator("#liver-function").inner_text()
