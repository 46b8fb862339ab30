"""The coordinator's main path in Chromium, as the workflows issue describes it."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from patients.models import Enrollment, Patient, Screening, Visit
from tests.factories import ArmFactory
from trials.models import ConsentVersion, ProtocolVersion, VisitDefinition
from trials.services import criteria_load_defaults

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWERS_NUM = {
    "measurable_lesion_count": "2",
    "life_expectancy_weeks": "24",
    "platelets": "150",
    "neutrophils": "3.2",
    "haemoglobin": "125",
    "bilirubin": "12",
    "bilirubin_uln": "21",
    "alt": "40",
    "alt_uln": "40",
    "ast": "35",
    "ast_uln": "40",
    "creatinine": "70",
    "creatinine_uln": "104",
}
ANSWERS_YES = [
    "histology_confirmed",
    "unresectable",
    "interpreter_available",
    "impartial_witness_available",
]
ANSWERS_NO = [
    "metastatic",
    "prior_systemic_therapy",
    "prior_checkpoint_inhibitor",
    "prior_radiotherapy",
    "prior_major_surgery",
    "prior_local_therapy",
    "other_malignancy",
    "cns_metastases",
    "remote_followup_agreed",
]


@pytest.fixture
def protocol(trial):
    version = ProtocolVersion.objects.create(
        trial=trial, version="1.0", effective_date=datetime.date(2025, 1, 1)
    )
    criteria_load_defaults(protocol_version=version, acting_user=None)
    ConsentVersion.objects.create(
        trial=trial,
        version="1.0",
        language="en",
        ethics_approval_ref="EC-ICF-EN",
        approved_on=datetime.date(2025, 1, 1),
        effective_from=datetime.date(2025, 1, 1),
    )
    ArmFactory(trial=trial, code="A", name="Cryoablation + lenvatinib + PD-1")
    ArmFactory(trial=trial, code="B", name="Lenvatinib + PD-1")
    for order, (code, day) in enumerate((("D0", 0), ("W3", 21), ("W6", 42))):
        VisitDefinition.objects.create(
            trial=trial,
            code=code,
            name=f"Visit {code}",
            day_offset=day,
            window_before=3,
            window_after=3,
            order=order,
            tumor_assessment=code == "W6",
        )


def fill_screening(page):
    page.select_option("#id_histology", "icca")
    page.select_option("#id_child_pugh_class", "A")
    page.fill("#id_ecog", "1")
    for name, value in ANSWERS_NUM.items():
        page.fill(f"#id_{name}", value)
    for name in ANSWERS_YES:
        page.check(f"input[name={name}][value=yes]")
    for name in ANSWERS_NO:
        page.check(f"input[name={name}][value=no]")


def test_register_screen_consent_enroll_and_submit_first_visit(
    page, live_server, protocol, coordinator_site_a, trial_site_a
):
    url = live_server.url
    login(page, live_server, "crc_a")
    # 1. Register an expatriate patient whose residence permit ends in 200 days.
    page.click("text=Register a patient")
    page.fill("#id_full_name", "Kim Min-jun")
    page.select_option("#id_sex", "M")
    page.fill("#id_birth_date", "1968-07-09")
    page.select_option("#id_nationality", "KR")
    page.check("#id_is_expatriate")
    page.select_option("#id_id_document_type", "passport")
    page.fill("#id_id_document_number", "M12345678")
    page.select_option("#id_preferred_language", "ko")
    page.check("#id_interpreter_needed")
    page.fill(
        "#id_residence_permit_expiry",
        (timezone.localdate() + datetime.timedelta(days=200)).isoformat(),
    )
    page.fill("#id_insurance_provider", "Samsung Fire")
    page.select_option("#id_insurance_covers_trial", "no")
    page.click("main button.primary")
    page.wait_for_selector("text=Patient registered as CRYO-SA-0001")
    patient = Patient.objects.get()

    # 2. Screen: fails on the residence permit, with the reason shown.
    page.goto(f"{url}/patients/{patient.pk}/screen/")
    fill_screening(page)
    page.click("main button.primary")
    page.wait_for_selector("text=Not eligible")
    body = page.locator("main").inner_text()
    assert "EXP-PERMIT" in body and "permit" in body.lower()
    assert Screening.objects.get().result == "not_eligible"

    # 3. Correct the permit (with a reason) and screen again: eligible.
    page.goto(f"{url}/patients/{patient.pk}/edit/")
    page.fill(
        "#id_residence_permit_expiry",
        (timezone.localdate() + datetime.timedelta(days=1200)).isoformat(),
    )
    page.fill("#id_reason", "Renewed residence permit seen at the visit")
    page.click("main button.primary")
    page.wait_for_selector("text=Changes saved.")
    page.goto(f"{url}/patients/{patient.pk}/screen/")
    fill_screening(page)
    page.click("main button.primary")
    page.wait_for_selector("text=Eligible")
    assert Screening.objects.count() == 2
    patient.refresh_from_db()
    assert patient.status == "eligible"

    # 4. Consent on the English version with an interpreter and an impartial witness.
    page.goto(f"{url}/patients/{patient.pk}/consent/")
    page.select_option("#id_consent_version", label="v1.0 · English · 2025-01-01 · EC-ICF-EN")
    page.select_option("#id_language", "en")
    page.fill("#id_consented_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.check("#id_interpreter_used")
    page.fill("#id_interpreter_name", "Lee Ji-eun (certified medical interpreter)")
    page.fill("#id_witness_name", "Wang Fang (social worker)")
    page.check("#id_personal_information_consent")
    page.click("main button.primary")
    if page.locator(".error-summary").count():
        raise AssertionError(page.locator("main").inner_text())
    page.wait_for_url(f"{url}/patients/{patient.pk}/")
    consent = patient.consents.get()
    assert consent.interpreter_used and consent.witness_name.startswith("Wang")

    # 5. Enroll: an arm and a randomization number are assigned.
    page.goto(f"{url}/patients/{patient.pk}/enroll/")
    page.fill("#id_enrolled_on", timezone.localdate().isoformat())
    page.check("#id_confirm")
    page.click("main button.primary")
    page.wait_for_url(f"{url}/patients/{patient.pk}/")
    enrollment = Enrollment.objects.get()
    main = page.locator("main").inner_text()
    assert enrollment.randomization_number in main and enrollment.arm.name in main

    # 6. The visit schedule sits on the site's clinic days (Monday and Wednesday).
    visits = list(Visit.objects.filter(patient=patient).order_by("scheduled_date"))
    assert len(visits) == 3
    for v in visits:
        assert v.window_start <= v.scheduled_date <= v.window_end
        assert v.scheduled_date.weekday() in (0, 2) or not any(
            (v.window_start + datetime.timedelta(days=d)).weekday() in (0, 2)
            for d in range((v.window_end - v.window_start).days + 1)
        )
        assert v.scheduled_date.strftime("%Y-%m-%d") in main

    # 7. Three weeks later, submit the first follow-up visit.
    w3 = next(v for v in visits if v.definition.code == "W3")
    later = timezone.now() + datetime.timedelta(
        days=(w3.scheduled_date - timezone.localdate()).days + 1
    )
    with mock.patch("django.utils.timezone.now", return_value=later):
        login(page, live_server, "crc_a")  # a new working day, a new session
        page.goto(f"{url}/patients/visits/{w3.pk}/submit/")
        page.fill("#id_actual_date", w3.scheduled_date.isoformat())
        page.select_option("#id_vital_status", "alive")
        page.select_option("#id_ecog", "1")
        page.check("#id_ae_review_done")
        page.fill("#id_notes", "Tolerating treatment; mild fatigue.")
        page.click("main button.primary")
        page.wait_for_load_state()
    w3.refresh_from_db()
    assert w3.status == "completed" and w3.actual_date == w3.scheduled_date
    assert not w3.is_deviation
