from __future__ import annotations

import datetime

import pytest

from patients.models import Patient

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_registers_an_expatriate_patient(
    page, live_server, coordinator_site_a, trial_site_a
):
    login(page, live_server, "crc_a")
    page.click("text=Register a patient")
    page.fill("#id_full_name", "Ivan Petrov")
    page.select_option("#id_sex", "M")
    page.fill("#id_birth_date", "1966-05-04")
    page.select_option("#id_nationality", "RU")
    page.check("#id_is_expatriate")
    page.select_option("#id_id_document_type", "passport")
    page.fill("#id_id_document_number", "RU7654321")
    page.select_option("#id_preferred_language", "ru")
    page.check("#id_interpreter_needed")
    # No permit expiry yet: the form comes back naming the field.
    page.click("main button.primary")
    assert page.locator(".error-summary").is_visible()
    assert "Record the residence permit expiry" in page.locator(".has-error").inner_text()
    assert Patient.objects.count() == 0
    expiry = (datetime.date.today() + datetime.timedelta(days=800)).isoformat()
    page.fill("#id_residence_permit_expiry", expiry)
    page.click("main button.primary")
    page.wait_for_selector("text=Patient registered as CRYO-SA-0001")
    assert "Expatriate" in page.locator("h1").inner_text()
    assert Patient.objects.get().is_expatriate
