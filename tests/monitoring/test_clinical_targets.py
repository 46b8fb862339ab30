"""The clinical data of the flagship protocol (labs, vitals, dosing, procedures, conmeds) are
monitored like every other clinical record: queries, SDV, locks."""

from __future__ import annotations

import pytest
from django.utils import timezone

from clinical.services.labs import lab_result_record, lab_result_update
from monitoring.guard import LockedError
from monitoring.models import Lock, SourceVerification
from monitoring.services import query_raise, sdv_verify
from monitoring.targets import target_for


@pytest.mark.parametrize(
    "label",
    [
        "clinical.labresult",
        "clinical.vitalsigns",
        "clinical.exposure",
        "clinical.procedure",
        "clinical.concomitantmedication",
    ],
)
def test_every_clinical_model_is_a_monitoring_target(label):
    assert target_for(label) is not None


@pytest.fixture
def platelets(visit_a, coordinator_site_a):
    return lab_result_record(
        patient=visit_a.patient,
        acting_user=coordinator_site_a,
        analyte="platelets",
        collected_on=visit_a.actual_date,
        value=120,
        unit="10*9/L",
        visit=visit_a,
    )


def test_query_and_sdv_on_a_lab_result(platelets, monitor, coordinator_site_a):
    query = query_raise(
        record=platelets, field_name="value", text="Source says 112", acting_user=monitor
    )
    assert query.trial_site_id == platelets.patient.trial_site_id
    sdv_verify(record=platelets, fields=["value"], acting_user=monitor)
    lab_result_update(
        lab_result=platelets, acting_user=coordinator_site_a, reason="Transcription", value=112
    )
    sdv = SourceVerification.objects.get(object_id=platelets.pk, content_type__model="labresult")
    assert sdv.status == "reset" and "value" in sdv.reset_fields


def test_a_locked_casebook_refuses_a_lab_correction(platelets, coordinator_site_a, data_manager):
    Lock.objects.create(
        trial=platelets.patient.trial_site.trial,
        level="casebook",
        patient=platelets.patient,
        mode="lock",
        reason="Interim analysis",
        locked_by_username=data_manager.username,
        locked_at=timezone.now(),
    )
    with pytest.raises(LockedError):
        lab_result_update(
            lab_result=platelets, acting_user=coordinator_site_a, reason="late", value=99
        )
    platelets.refresh_from_db()
    assert platelets.value == 120
