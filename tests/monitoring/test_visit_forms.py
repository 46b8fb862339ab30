"""Monitoring's part of a visit's forms: the visit page shows each required form as
missing / entered / verified / signed, and required forms still missing once the visit's
window has closed raise an automatic query that closes itself when they are entered."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from clinical.selectors import visit_form_states, visit_is_complete
from clinical.services import lab_result_record, vital_signs_record, vital_signs_update
from monitoring.demo import DEMO_CHECKS
from monitoring.models import DataQuery, EditCheck, QueryMessage
from monitoring.services import edit_checks_run_trial, sdv_verify, signature_sign
from monitoring.visit_forms import sweep_missing_forms
from patients.models import Visit
from patients.services.visits import visit_submit

from ..patients.helpers_visits import submit_data, visit

PASSWORD = "sign-Here-2026"


def states(v):
    return {s.form: s.state for s in visit_form_states(v)}


@pytest.fixture
def d0_with_vitals(visit_a, coordinator_site_a):
    visit_a.definition.required_forms = ["vitals", "ae_review"]
    visit_a.definition.save()
    vitals = vital_signs_record(
        patient=visit_a.patient,
        acting_user=coordinator_site_a,
        measured_on=visit_a.actual_date,
        visit=visit_a,
        weight_kg=70,
    )
    return visit_a, vitals


def test_forms_go_from_entered_to_verified_to_signed(
    d0_with_vitals, monitor, signer, coordinator_site_a, client
):
    d0, vitals = d0_with_vitals
    assert states(d0) == {"vitals": "entered", "ae_review": "entered"}

    sdv_verify(record=vitals, acting_user=monitor)
    assert states(d0) == {"vitals": "verified", "ae_review": "entered"}
    sdv_verify(record=d0, acting_user=monitor)  # the AE review is a field of the visit
    assert states(d0) == {"vitals": "verified", "ae_review": "verified"}

    signature_sign(
        record=d0,
        level="record",
        meaning="approved",
        username_entered=signer.username,
        password=PASSWORD,
        acting_user=signer,
    )
    assert states(d0) == {"vitals": "verified", "ae_review": "signed"}
    client.force_login(monitor)
    page = client.get(reverse("patients:visit_detail", args=[d0.pk])).content.decode()
    assert 'data-form="vitals" data-state="verified"' in page
    assert 'data-form="ae_review" data-state="signed"' in page

    signature_sign(
        record=d0.patient,
        level="casebook",
        meaning="approved",
        username_entered=signer.username,
        password=PASSWORD,
        acting_user=signer,
    )
    assert states(d0) == {"vitals": "signed", "ae_review": "signed"}
    assert visit_is_complete(d0)

    # A correction resets SDV and invalidates the casebook signature: back to "entered".
    vital_signs_update(
        vital_signs=vitals, acting_user=coordinator_site_a, reason="Scale error", weight_kg=71
    )
    assert states(d0) == {"vitals": "entered", "ae_review": "signed"}


def missing_forms_check(trial):
    spec = next(c for c in DEMO_CHECKS if c["code"] == "EC-VISIT-FORMS")
    return EditCheck.objects.create(
        trial=trial,
        code=spec["code"],
        target=ContentType.objects.get_for_model(Visit),
        field_name=spec["field_name"],
        rule=spec["rule"],
        message=spec["message"],
        message_zh=spec["message_zh"],
    )


def submit_w3(enrolled_a, coordinator_site_a):
    w3 = visit(enrolled_a, "W3")
    w3.definition.required_forms = ["labs", "ae_review"]
    w3.definition.save()
    visit_submit(
        visit=w3, acting_user=coordinator_site_a, **submit_data(actual_date=w3.scheduled_date)
    )
    w3.refresh_from_db()
    return w3


def on_day(monkeypatch, day):
    monkeypatch.setattr("patients.services.visits.patient_local_today", lambda patient: day)
    return day


def test_a_window_that_closes_with_forms_missing_raises_a_query_once(
    enrolled_a, coordinator_site_a, trial, monkeypatch
):
    w3 = submit_w3(enrolled_a, coordinator_site_a)
    check = missing_forms_check(trial)  # configured after the visit was submitted
    last_day = on_day(monkeypatch, w3.window_end)
    assert sweep_missing_forms(today=last_day) == {"missing": 1}  # inside the window: waits
    assert not DataQuery.objects.filter(edit_check=check).exists()

    day = on_day(monkeypatch, w3.window_end + datetime.timedelta(days=1))
    assert sweep_missing_forms(today=day) == {"raised": 1}
    query = DataQuery.objects.get(edit_check=check)
    assert query.object_id == w3.pk and query.status == DataQuery.Status.OPEN
    assert "Laboratory results" in query.text
    assert sweep_missing_forms(today=day) == {"known": 1}  # never a second query
    assert "monitoring.tasks.missing_forms_sweep" in {
        e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()
    }


def test_the_query_closes_itself_when_the_form_is_entered(enrolled_a, coordinator_site_a, trial):
    check = missing_forms_check(trial)
    w3 = submit_w3(enrolled_a, coordinator_site_a)  # submitted after its window closed
    query = DataQuery.objects.get(edit_check=check, object_id=w3.pk)
    assert query.status == DataQuery.Status.OPEN
    lab_result_record(
        patient=w3.patient,
        acting_user=coordinator_site_a,
        analyte="alt",
        value=30,
        collected_on=w3.actual_date,
        visit=w3,
    )
    query.refresh_from_db()
    assert query.status == DataQuery.Status.CLOSED
    assert query.messages.filter(action=QueryMessage.Action.AUTO_CLOSE).exists()


def test_a_not_done_answer_also_closes_it_and_the_trial_run_raises_it(
    enrolled_a, coordinator_site_a, trial
):
    from clinical.services import visit_form_note

    w3 = submit_w3(enrolled_a, coordinator_site_a)
    check = missing_forms_check(trial)
    assert edit_checks_run_trial(trial=trial).get("raised") == 1
    query = DataQuery.objects.get(edit_check=check, object_id=w3.pk)
    visit_form_note(
        visit=w3,
        form="labs",
        status="not_done",
        reason="No blood drawn",
        acting_user=coordinator_site_a,
    )
    query.refresh_from_db()
    assert query.status == DataQuery.Status.CLOSED


def test_an_automatic_query_reads_in_the_readers_language(
    enrolled_a, coordinator_site_a, trial, monkeypatch, monitor, client
):
    """The sweep runs as a background job in English; a monitor reading in Chinese gets
    the form name, the check's message and the engine's reason in Chinese (issue #18)."""
    from django.utils import translation

    w3 = submit_w3(enrolled_a, coordinator_site_a)
    check = missing_forms_check(trial)
    day = on_day(monkeypatch, w3.window_end + datetime.timedelta(days=1))
    with translation.override("en"):
        sweep_missing_forms(today=day)
    query = DataQuery.objects.get(edit_check=check)
    assert query.text.startswith(f"EC-VISIT-FORMS: {check.message}")  # stored as raised
    assert "Visit" in query.record_label

    client.force_login(monitor)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get(reverse("monitoring:query", args=[query.pk])).content.decode()
    assert check.message_zh in page and check.message not in page
    assert f"{enrolled_a.subject_id} · 访视 #{w3.pk}" in page
    listing = client.get(reverse("monitoring:queries")).content.decode()
    assert check.message_zh[:20] in listing
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(reverse("monitoring:query", args=[query.pk])).content.decode()
    assert check.message in page and query.record_label in page
