from __future__ import annotations

from patients.models import Visit
from tests.patients.helpers_visits import enroll, setup_protocol


def test_coordinator_home_lists_visits_worklist_and_enrollment(
    client, coordinator_site_a, trial, patient_a, register
):
    protocol = setup_protocol(trial)
    enroll(patient_a, coordinator_site_a, protocol["arm"])
    waiting = register(
        patient_a.trial_site,
        coordinator_site_a,
        id_document_type="passport",
        id_document_number="W1234567",
    )
    client.force_login(coordinator_site_a)
    html = client.get("/").content.decode()
    overdue = Visit.objects.filter(
        patient=patient_a,
        status="planned",
        window_end__lt=patient_a.enrollment.enrolled_on.__class__.today(),
    )
    assert overdue.exists()
    assert 'id="visits-overdue"' in html and patient_a.subject_id in html
    assert f"/patients/{waiting.pk}/screen/" in html  # next step for a registered patient
    assert "Enrollment against target" in html


def test_other_sites_visits_are_not_listed(
    client, coordinator_site_b, trial, patient_a, coordinator_site_a
):
    protocol = setup_protocol(trial)
    enroll(patient_a, coordinator_site_a, protocol["arm"])
    client.force_login(coordinator_site_b)
    assert patient_a.subject_id not in client.get("/").content.decode()


def test_monitor_home_has_no_data_entry_worklist(client, monitor, patient_a):
    client.force_login(monitor)
    html = client.get("/").content.decode()
    assert 'id="worklist"' not in html and 'id="enrollment"' in html
