"""The monitoring path of the issue's "Done when", in Chromium: a monitor raises a query on
a visit's ECOG; the coordinator answers with a correction; the monitor closes it and
verifies the visit; the investigator signs the casebook with the password; the data
manager locks the casebook; an edit is refused; after an unlock with a reason and an
edit, the signature shows as invalidated and SDV as reset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitoring.models import DataQuery, Lock, MonitoringPlan, Signature, SourceVerification
from patients.models import Visit
from patients.services.visits import visit_submit
from tests.patients.helpers_visits import enroll, setup_protocol, submit_data, visit

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def as_user(browser: Any, live_server: Any, username: str) -> Any:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, live_server, username)
    return page


def correct_ecog(page: Any, live_server: Any, visit_pk: int, ecog: str, reason: str) -> None:
    page.goto(f"{live_server.url}/patients/visits/{visit_pk}/submit/")
    page.select_option("#id_ecog", ecog)
    page.fill("#id_reason", reason)
    page.click("form.card button.primary")


def test_query_correction_sdv_signature_lock_unlock(
    browser,
    live_server,
    trial,
    patient_a,
    coordinator_site_a,
    investigator_site_a,
    monitor,
    data_manager,
):
    protocol = setup_protocol(trial)
    enroll(patient_a, coordinator_site_a, protocol["arm"])
    d0 = visit(patient_a, "D0")
    visit_submit(
        visit=d0,
        acting_user=coordinator_site_a,
        actual_date=d0.scheduled_date,
        **submit_data(ecog=1),
    )
    # the trial's SDV plan (admin): this test verifies the visit only
    MonitoringPlan.objects.create(trial=trial, full_sdv_forms=[], sample_percent=0)
    SHOTS.mkdir(parents=True, exist_ok=True)

    # 1. the monitor raises a query on the visit's ECOG
    mon = as_user(browser, live_server, monitor.username)
    mon.goto(f"{live_server.url}/patients/visits/{d0.pk}/")
    mon.click("#monitoring-bar >> text=Monitoring")
    mon.click("text=Raise a query")
    mon.select_option("#id_field_name", "ecog")
    mon.fill("#id_text", "Source notes say ECOG 2.")
    mon.click("form.card button.primary")
    mon.wait_for_selector("text=raised")
    query = DataQuery.objects.get()

    # 2. the coordinator answers from the home page, with a correction
    crc = as_user(browser, live_server, coordinator_site_a.username)
    crc.click(f"#home-open-queries >> text=Q-{query.pk}")
    crc.fill("#id_answer-text", "Transcription error, corrected.")
    crc.check("#id_answer-correct")
    crc.fill("#id_answer-corrected_value", "2")
    crc.click("#answer-form button.primary")
    crc.wait_for_selector("text=Answer recorded.")
    assert Visit.objects.get(pk=d0.pk).ecog == 2

    # 3. the monitor closes it and marks the visit verified
    mon.goto(f"{live_server.url}/monitoring/queries/{query.pk}/")
    mon.select_option("#id_step-step", "close")
    mon.click("#step-form button")
    mon.wait_for_selector("text=Query updated.")
    mon.goto(f"{live_server.url}/monitoring/record/?form=patients.visit&id={d0.pk}")
    mon.click("#verify-form button.primary")
    mon.wait_for_selector("#sdv-status[data-status=verified]")

    # 4. the investigator signs the casebook, re-entering user id and password
    pi = as_user(browser, live_server, investigator_site_a.username)
    pi.goto(f"{live_server.url}/patients/{patient_a.pk}/")
    pi.click("text=Sign casebook")
    pi.fill("#id_username", investigator_site_a.username)
    pi.fill("#id_password", "pw-for-tests-123")
    pi.click("form.card button.primary")
    pi.wait_for_selector(".badge-signed")

    # 5. the data manager locks the casebook
    dm = as_user(browser, live_server, data_manager.username)
    dm.goto(f"{live_server.url}/monitoring/locks/?trial={trial.pk}")
    dm.select_option("#id_level", "casebook")
    dm.select_option("#id_mode", "lock")
    dm.fill("#id_subject_id", patient_a.subject_id)
    dm.fill("#id_reason", "Casebook complete")
    dm.click("#lock-form button.primary")
    dm.wait_for_selector("text=is in force")
    lock = Lock.objects.get()

    # 6. an edit is refused, naming the lock
    correct_ecog(crc, live_server, d0.pk, "3", "Re-check")
    crc.wait_for_selector(f".error-summary >> text=L-{lock.pk}")
    crc.screenshot(path=str(SHOTS / "monitoring_edit_refused.png"), full_page=True)
    assert Visit.objects.get(pk=d0.pk).ecog == 2

    # 7. unlock with a reason, then the edit goes through
    dm.goto(f"{live_server.url}/monitoring/locks/{lock.pk}/release/")
    dm.fill("#id_reason", "Late source document found")
    dm.click("form.card button.primary")
    dm.wait_for_selector("text=Unlocked.")
    correct_ecog(crc, live_server, d0.pk, "3", "Late source document")
    crc.wait_for_url(f"{live_server.url}/patients/visits/{d0.pk}/")
    assert Visit.objects.get(pk=d0.pk).ecog == 3

    # 8. the signature shows as invalidated and SDV as reset
    pi.goto(f"{live_server.url}/patients/{patient_a.pk}/")
    pi.wait_for_selector(".badge-sig-invalid")
    mon.goto(f"{live_server.url}/monitoring/record/?form=patients.visit&id={d0.pk}")
    mon.wait_for_selector("#sdv-status[data-status=reset]")
    mon.screenshot(path=str(SHOTS / "monitoring_after_unlock.png"), full_page=True)
    assert Signature.objects.get().status == "invalidated"
    assert SourceVerification.objects.get().status == "reset"
