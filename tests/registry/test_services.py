"""Registry writes: validation in one round, history, the national pseudonym, staging."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry.identity import pseudonym_from_hash
from registry.models import RegistryPatient, StagingRecord
from registry.selectors import other_centers_count, patient_checks, registry_patient_page
from registry.services import (
    followup_record,
    pathology_report_record,
    registry_patient_register,
    registry_patient_update,
    staging_compute,
    treatment_record,
    tumour_record,
)

from .conftest import HCC, REGISTRY_PATIENT

D = datetime.date


def test_same_passport_at_two_centers_links_to_one_pseudonym(
    center_a, center_b, abstractor_a, abstractor_b, rpatient_b
):
    passport = dict(
        full_name="J. Smith",
        id_document_type="passport",
        id_document_number="p 987-6543",  # same document, typed differently
        sex="M",
        birth_date=D(1958, 2, 3),
        nationality="GB",
        is_expatriate=True,
    )
    at_a = registry_patient_register(site=center_a, acting_user=abstractor_a, **passport)
    assert at_a.national_pseudonym == rpatient_b.national_pseudonym
    assert at_a.national_pseudonym.startswith("NP-") and "P9876543" not in at_a.national_pseudonym
    assert other_centers_count(at_a) == 1
    # center A's abstractor still cannot see center B's record
    assert list(RegistryPatient.objects.visible_to(abstractor_a)) == [at_a]


def test_same_person_twice_at_one_center_is_refused(center_a, abstractor_a, rpatient_a):
    with pytest.raises(ValidationError) as exc:
        registry_patient_register(site=center_a, acting_user=abstractor_a, **REGISTRY_PATIENT)
    assert "id_document_number" in exc.value.message_dict


def test_registration_names_every_bad_field_at_once(center_a, abstractor_a):
    bad = {**REGISTRY_PATIENT, "birth_date": D(2999, 1, 1), "id_document_number": "123"}
    with pytest.raises(ValidationError) as exc:
        registry_patient_register(site=center_a, acting_user=abstractor_a, **{**bad, "sex": "X"})
    assert {"birth_date", "id_document_number", "sex"} <= set(exc.value.message_dict)
    assert not RegistryPatient.objects.exists()


def test_other_center_abstractor_may_not_write(center_a, abstractor_b, rpatient_a):
    with pytest.raises(PermissionDenied):
        registry_patient_register(site=center_a, acting_user=abstractor_b, **REGISTRY_PATIENT)
    with pytest.raises(PermissionDenied):
        tumour_record(patient=rpatient_a, acting_user=abstractor_b, **HCC)


def test_editing_needs_a_reason_and_lands_in_history(rpatient_a, abstractor_a):
    with pytest.raises(ValidationError) as exc:
        registry_patient_update(patient=rpatient_a, acting_user=abstractor_a, reason="", hcv=True)
    assert "reason" in exc.value.message_dict
    registry_patient_update(
        patient=rpatient_a, acting_user=abstractor_a, reason="Serology result", hcv=True
    )
    last = rpatient_a.history.first()
    assert last.history_change_reason == "Serology result" and last.history_user == abstractor_a
    assert rpatient_a.full_name == "李娜"  # decrypted; stored encrypted


def test_histology_must_match_topography(rpatient_a, abstractor_a):
    with pytest.raises(ValidationError) as exc:
        tumour_record(
            patient=rpatient_a, acting_user=abstractor_a, **{**HCC, "topography": "C23.9"}
        )
    assert {"morphology", "topography"} <= set(exc.value.message_dict)


def test_staging_stores_inputs_value_version_and_override(tumour_a, abstractor_a):
    record = staging_compute(
        tumour=tumour_a,
        system="AJCC8_LIVER",
        staged_on=D(2025, 3, 5),
        inputs={},
        acting_user=abstractor_a,
    )
    assert record.computed_value == "IB"  # solitary 45 mm without vascular invasion: T1b
    assert record.inputs["largest_size_mm"] == 45 and record.engine_version == "ajcc8-1.0"
    bclc = staging_compute(
        tumour=tumour_a,
        system="BCLC",
        staged_on=D(2025, 3, 5),
        inputs={"child_pugh_class": "A", "ecog": 0},
        acting_user=abstractor_a,
    )
    assert bclc.computed_value == "A"
    cp = staging_compute(
        tumour=tumour_a,
        system="CHILD_PUGH",
        staged_on=D(2025, 3, 5),
        inputs={
            "bilirubin_umol_l": 20,
            "albumin_g_l": 38,
            "inr": 1.1,
            "ascites": "none",
            "encephalopathy": "none",
        },
        acting_user=abstractor_a,
    )
    assert cp.computed_value == "A5" and cp.engine_version == "liver-function-1.0"
    with pytest.raises(ValidationError) as exc:
        staging_compute(
            tumour=tumour_a,
            system="CNLC",
            staged_on=D(2025, 3, 5),
            inputs={"child_pugh_class": "A", "ecog": 0},
            override_value="Ib",
            acting_user=abstractor_a,
        )
    assert "override_reason" in exc.value.message_dict
    over = staging_compute(
        tumour=tumour_a,
        system="CNLC",
        staged_on=D(2025, 3, 5),
        inputs={"child_pugh_class": "A", "ecog": 0},
        override_value="Ib",
        override_reason="MDT: satellite nodule on MRI",
        acting_user=abstractor_a,
    )
    assert (over.computed_value, over.value) == ("Ia", "Ib")
    with pytest.raises(ValidationError) as exc:
        staging_compute(
            tumour=tumour_a,
            system="ECOG",
            staged_on=D(2025, 3, 5),
            inputs={"grade": 9},
            acting_user=abstractor_a,
        )
    assert "inputs" in exc.value.message_dict


def test_pathology_protocol_requires_its_elements(tumour_a, abstractor_a):
    base = dict(
        protocol="CAP_HCC",
        protocol_version="4.2.0.0",
        report_date=D(2025, 3, 10),
        specimen="resection",
        histologic_type="8170/3",
        grade="G2",
        vascular_invasion="no",
    )
    with pytest.raises(ValidationError) as exc:
        pathology_report_record(tumour=tumour_a, acting_user=abstractor_a, **base)
    assert {"margin", "pt", "pn"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        pathology_report_record(
            tumour=tumour_a, acting_user=abstractor_a, **{**base, "protocol_version": "9.9"}
        )
    assert "protocol_version" in exc.value.message_dict
    report = pathology_report_record(
        tumour=tumour_a,
        acting_user=abstractor_a,
        **base,
        margin="negative",
        margin_distance_mm=5,
        pt="pT1b",
        pn="pN0",
        ihc={"Glypican-3": "positive"},
    )
    assert report.pk and report.history.count() == 1


def test_checks_report_missing_and_inconsistent_data(rpatient_a, tumour_a, abstractor_a):
    staging_compute(
        tumour=tumour_a,
        system="AJCC8_LIVER",
        staged_on=D(2025, 3, 5),
        inputs={},
        acting_user=abstractor_a,
    )
    tumour_record(
        patient=rpatient_a,
        acting_user=abstractor_a,
        tumour=tumour_a,
        reason="Re-measured on MRI",
        largest_size_mm=18,
    )
    treatment_record(
        patient=rpatient_a,
        acting_user=abstractor_a,
        tumour=tumour_a,
        kind="resection",
        start_date=D(2025, 3, 20),
        intent="curative",
    )
    followup_record(
        patient=rpatient_a,
        acting_user=abstractor_a,
        contact_date=D(2025, 9, 1),
        vital_status="alive",
        status_source="visit",
    )
    page = registry_patient_page(abstractor_a, rpatient_a.pk)
    problems = [c.problem for c in patient_checks(page)]
    assert any("does not match the tumour's TNM (IA)" in p for p in problems), problems
    assert any("without a pathology report" in p for p in problems)
    assert any("BCLC" in p for p in problems)
    assert not any("No follow-up" in p for p in problems)


def test_followup_rules_name_each_field(rpatient_a, abstractor_a):
    with pytest.raises(ValidationError) as exc:
        followup_record(
            patient=rpatient_a,
            acting_user=abstractor_a,
            contact_date=D(2025, 1, 1),
            vital_status="dead",
            status_source="record",
            event="recurrence",
        )
    assert {"death_date", "cause_of_death", "event_date", "event_method"} <= set(
        exc.value.message_dict
    )


def test_pseudonym_of_a_trial_subject_matches(rpatient_a, patient_a):
    # the trial fixture's patient has the same resident id as REGISTRY_PATIENT
    assert pseudonym_from_hash(patient_a.id_document_hash) == rpatient_a.national_pseudonym
    assert StagingRecord.objects.count() == 0


def test_research_consent_tiers_are_checked_together(center_a, abstractor_a):
    from .conftest import REGISTRY_PATIENT

    base = {**REGISTRY_PATIENT}
    with pytest.raises(ValidationError) as exc:
        registry_patient_register(
            site=center_a,
            acting_user=abstractor_a,
            **base,
            consent_research=False,
            consent_genomic=True,
            consent_date=datetime.date.today() + datetime.timedelta(days=1),
        )
    errors = exc.value.message_dict
    assert set(errors) >= {"consent_research", "consent_date"}
    assert "future" in errors["consent_date"][0]
    with pytest.raises(ValidationError) as exc:
        registry_patient_register(
            site=center_a, acting_user=abstractor_a, **base, consent_research=True
        )
    assert "date" in exc.value.message_dict["consent_date"][0]
    patient = registry_patient_register(
        site=center_a,
        acting_user=abstractor_a,
        **base,
        consent_research=True,
        consent_genomic=True,
        consent_date=datetime.date(2026, 1, 5),
    )
    assert (patient.consent_research, patient.consent_genomic) == (True, True)
