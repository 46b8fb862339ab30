"""The clinical records (labs, vitals, exposure, procedures, conmeds) in the CSV bundle,
in ODM (inside the visit's event) and in the data cut."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from analysis.datacut import datacut_build
from clinical.models import LabReferenceRange
from clinical.services import (
    conmed_record,
    exposure_record,
    lab_result_record,
    procedure_record,
    vital_signs_record,
)
from patients.models import Lesion

from .helpers_exports import ODM_NS, odm_schema, read_bundle, read_odm


@pytest.fixture
def with_clinical(clinical, patient_a, coordinator_site_a, trial_site_a):
    d0 = clinical["visit"]
    day = d0.actual_date or d0.scheduled_date
    LabReferenceRange.objects.create(
        site=trial_site_a.site, analyte="platelets", lower=125, upper=350, effective_from=day
    )
    crc = coordinator_site_a
    lab_result_record(
        patient=patient_a,
        acting_user=crc,
        analyte="platelets",
        value=42,
        unit="10*9/L",
        collected_on=day,
        visit=d0,
    )
    vital_signs_record(
        patient=patient_a, acting_user=crc, measured_on=day, visit=d0, weight_kg=Decimal(66)
    )
    exposure_record(
        patient=patient_a,
        acting_user=crc,
        intervention=clinical["protocol"]["interventions"]["Lenvatinib"],
        kind="administration",
        start_date=day,
        dose_mg=Decimal(12),
        visit=d0,
    )
    procedure_record(
        patient=patient_a,
        acting_user=crc,
        kind="cryoablation",
        procedure_date=day,
        approach="percutaneous_us",
        lesions=list(Lesion.objects.filter(patient=patient_a)),
    )
    conmed_record(
        patient=patient_a,
        acting_user=crc,
        generic_name="amlodipine",
        indication="hypertension",
        start_date=day,
        ongoing=True,
    )
    return clinical


def test_csv_bundle_carries_the_clinical_records(
    with_clinical, trial, lead_investigator, export_now, patient_a
):
    files = read_bundle(export_now(trial, lead_investigator, "csv"))
    (lab,) = files["lab_results.csv"]
    assert (lab["subject_id"], lab["analyte"], lab["ctcae_grade"], lab["flag"]) == (
        patient_a.subject_id,
        "platelets",
        "3",
        "L",
    )
    assert files["vital_signs.csv"][0]["weight_kg"] == "66.0"
    assert files["exposures.csv"][0]["intervention"] == "Lenvatinib"  # open-label trial
    assert files["procedure_lesions.csv"][0]["lesion"] == "T1"
    assert files["concomitant_medications.csv"][0]["generic_name"] == "amlodipine"


def test_odm_places_clinical_forms_in_the_visit_event_and_validates(
    with_clinical, trial, data_manager, export_now, patient_a
):
    doc = etree.fromstring(read_odm(export_now(trial, data_manager, "odm")))
    schema = odm_schema()
    assert schema.validate(doc), schema.error_log
    (subject,) = doc.xpath(
        f'//odm:SubjectData[@SubjectKey="{patient_a.subject_id}"]', namespaces=ODM_NS
    )
    d0 = subject.xpath('.//odm:StudyEventData[@StudyEventOID="SE.V.D0"]', namespaces=ODM_NS)[0]
    forms = [f.get("FormOID") for f in d0.findall("odm:FormData", ODM_NS)]
    assert {"F.LB", "F.VS", "F.EX"} <= set(forms)
    grade = subject.xpath('.//odm:ItemData[@ItemOID="IT.LB.CTCAE_GRADE"]', namespaces=ODM_NS)
    assert grade[0].get("Value") == "3"


def test_data_cut_carries_the_clinical_records(with_clinical, trial, patient_a):
    cut = datacut_build(trial)
    clinical = cut["clinical"]
    assert clinical["lab_results"][0]["ctcae_grade"] == 3
    assert clinical["exposures"][0]["dose_mg"] == 12.0
    assert clinical["procedures"][0]["lesions"] == ["T1"]
    assert clinical["vital_signs"][0]["weight_kg"] == 66.0
    assert clinical["concomitant_medications"][0]["generic_name"] == "amlodipine"
