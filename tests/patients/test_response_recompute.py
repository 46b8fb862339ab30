"""The stored outcome follows every change that moves survival or day 0."""

from __future__ import annotations

import datetime

from patients.models import ResponseSummary
from patients.services import patient_record_death
from patients.services.status import patient_update_last_known_alive
from tests.patients.helpers_visits import enroll, setup_protocol


def test_death_and_contact_dates_update_the_stored_outcome(trial, patient_a, coordinator_site_a):
    protocol = setup_protocol(trial)
    enrollment = enroll(patient_a, coordinator_site_a, protocol["arm"])
    from patients.services.response import response_recompute

    response_recompute(patient=patient_a)
    assert ResponseSummary.objects.get(patient=patient_a).outcome["os_event"] is False
    alive = enrollment.enrolled_on + datetime.timedelta(days=30)
    patient_update_last_known_alive(
        patient=patient_a, acting_user=coordinator_site_a, on_date=alive, reason="Phone call"
    )
    assert ResponseSummary.objects.get(patient=patient_a).outcome["os_days"] == 30
    death = enrollment.enrolled_on + datetime.timedelta(days=40)
    patient_record_death(
        patient=patient_a,
        acting_user=coordinator_site_a,
        death_date=death,
        reason="Death from disease progression",
    )
    outcome = ResponseSummary.objects.get(patient=patient_a).outcome
    assert outcome["os_event"] is True and outcome["os_days"] == 40
    assert outcome["pfs_event"] is True  # death without progression is a PFS event
