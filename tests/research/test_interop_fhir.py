"""The FHIR R4 (mCODE-style) bundle: valid R4B, the resources a reader expects, no
identity, and it reads back through the registry's own FHIR import where they overlap."""

from __future__ import annotations

import dataclasses
import datetime
import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from registry.fhir import bundle_rows
from registry.models import RegistryPatient
from research.interop.dataset import Pseudonymiser, ResearchDataset, Table, collect
from research.interop.fhir_export import MCODE, bundle

from .interop_data import build_network, clean_key
from .test_interop_dataset import assert_no_identity


@pytest.fixture
def network(center_a, abstractor_a, center_b, abstractor_b):
    return build_network(center_a, abstractor_a, center_b, abstractor_b)


@pytest.fixture
def exported(network):
    p = Pseudonymiser(clean_key(network))
    data = collect(RegistryPatient.objects.all(), pseudonymiser=p)
    study = {"id": "HB-REG-2026-01", "title": "FGFR2 in iCCA", "status": "active"}
    return bundle(data, study=study), p


def resources(result, kind):
    return [e["resource"] for e in result["entry"] if e["resource"]["resourceType"] == kind]


def test_the_bundle_is_a_valid_r4_collection(exported):
    result, _p = exported
    parsed = Bundle.model_validate(result)
    assert parsed.type == "collection"
    ids = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in result["entry"]]
    assert len(ids) == len(set(ids))
    assert all(
        e["fullUrl"].endswith(f"{t}/{i}") for e, (t, i) in zip(result["entry"], ids, strict=True)
    )


def test_patients_are_subjects_without_identity(exported, network):
    result, p = exported
    patients = {r["id"]: r for r in resources(result, "Patient")}
    icca = p.subject_id(network.icca_a.national_pseudonym)
    assert set(patients) == {icca, p.subject_id(network.hcc_b.national_pseudonym)}
    assert patients[icca]["birthDate"] == "1958" and patients[icca]["gender"] == "male"
    assert patients[icca]["identifier"] == [
        {"system": "urn:hbtrials:research-subject-id", "value": icca}
    ]
    assert "name" not in patients[icca] and "address" not in patients[icca]
    shift = p.shift_days(network.icca_a.national_pseudonym)
    assert patients[icca]["deceasedDateTime"] != "2024-12-09"
    assert (
        patients[icca]["deceasedDateTime"]
        == (datetime.date(2024, 12, 9) + datetime.timedelta(days=shift)).isoformat()
    )


def test_conditions_stages_markers_genomics_and_treatments(exported, network):
    result, p = exported
    icca = p.subject_id(network.icca_a.national_pseudonym)
    conditions = resources(result, "Condition")
    assert len(conditions) == 3
    cond = next(c for c in conditions if c["subject"]["reference"] == f"Patient/{icca}")
    assert cond["meta"]["profile"] == [MCODE + "mcode-primary-cancer-condition"]
    assert cond["code"]["coding"][0]["code"] == "8160/3"
    assert cond["bodySite"][0]["coding"][0]["code"] == "C22.1"
    observations = resources(result, "Observation")
    stage = next(
        o for o in observations if o["code"].get("coding", [{}])[0].get("code") == "21908-9"
    )
    assert stage["valueCodeableConcept"]["text"] == "IA"
    assert stage["meta"]["profile"] == [MCODE + "mcode-tnm-clinical-stage-group"]
    tmb = next(o for o in observations if o["code"].get("coding", [{}])[0].get("code") == "94076-7")
    assert tmb["valueQuantity"]["value"] == 2.5
    variants = [
        o for o in observations if o["code"].get("coding", [{}])[0].get("code") == "69548-6"
    ]
    labels = sorted(v["valueCodeableConcept"]["text"] for v in variants)
    assert labels == ["CDKN2A deep deletion", "FGFR2::BICC1 fusion", "IDH1 p.Arg132Cys"]
    idh1 = next(v for v in variants if "IDH1" in v["valueCodeableConcept"]["text"])
    codes = {c["code"]["coding"][0]["code"]: c for c in idh1["component"]}
    assert codes["48018-6"]["valueCodeableConcept"]["text"] == "IDH1"
    assert codes["48005-3"]["valueCodeableConcept"]["coding"][0]["code"] == "p.Arg132Cys"
    assert codes["48004-6"]["valueCodeableConcept"]["coding"][0]["code"] == "c.394C>T"
    (report,) = resources(result, "DiagnosticReport")
    assert {r["reference"] for r in report["result"]} >= {
        f"Observation/{v['id']}" for v in variants
    }
    procedures = sorted(r["code"]["text"] for r in resources(result, "Procedure"))
    assert procedures == [
        "Radiofrequency ablation", "Resection", "TACE (transarterial chemoembolization)",
    ]  # fmt: skip
    (drug,) = resources(result, "MedicationAdministration")
    assert drug["medicationCodeableConcept"]["text"] == "lenvatinib"
    (study,) = resources(result, "ResearchStudy")
    assert study["title"] == "FGFR2 in iCCA" and study["status"] == "active"
    subjects = resources(result, "ResearchSubject")
    assert sorted(s["individual"]["reference"] for s in subjects) == sorted(
        f"Patient/{r['id']}" for r in resources(result, "Patient")
    )


def test_without_a_study_there_is_no_research_study(network):
    data = collect(RegistryPatient.objects.all(), pseudonymiser=Pseudonymiser(clean_key(network)))
    result = bundle(data)
    assert not resources(result, "ResearchStudy") and not resources(result, "ResearchSubject")


def test_without_genomics_there_is_no_genomics_report(network):
    data = collect(
        RegistryPatient.objects.all(),
        pseudonymiser=Pseudonymiser(clean_key(network)),
        include_genomics=False,
    )
    result = bundle(data)
    assert not resources(result, "DiagnosticReport")
    assert "69548-6" not in json.dumps(result)


def test_the_bundle_carries_no_identity(exported, network, tmp_path):
    result, _p = exported
    (tmp_path / "bundle.json").write_text(json.dumps(result, ensure_ascii=False), "utf-8")
    assert_no_identity(tmp_path, network)


def test_the_bundle_reads_back_through_the_registrys_fhir_import(exported, network):
    """Patient, Condition and Procedure are what registry/fhir.py imports: the export's
    values come back (pseudonymised: no name or document, the year of birth, shifted
    dates), and the other resource types are listed as skipped."""
    result, p = exported
    rows, skipped = bundle_rows(json.dumps(result).encode("utf-8"))
    by_domain: dict[str, list[dict]] = {}
    for domain, row in rows:
        by_domain.setdefault(domain, []).append(row)
    icca = p.subject_id(network.icca_a.national_pseudonym)
    patient = next(r for r in by_domain["patients"] if r["source_id"] == icca)
    assert patient["sex"] == "M" and patient["birth_date"] == "1958"
    assert patient["full_name"] == "" and patient["id_document_number"] == ""
    tumours = [r for r in by_domain["tumours"] if r["patient_source_id"] == icca]
    assert {(t["category"], t["topography"], t["morphology"]) for t in tumours} == {
        ("icca", "C22.1", "8160/3")
    }
    exported_dx = sorted(
        c["onsetDateTime"]
        for c in resources(result, "Condition")
        if c["subject"]["reference"] == f"Patient/{icca}"
    )
    assert sorted(t["diagnosis_date"] for t in tumours) == exported_dx
    kinds = sorted(r["kind"] for r in by_domain["treatments"])
    assert kinds == ["resection", "rfa", "tace"]
    resection = next(r for r in by_domain["treatments"] if r["kind"] == "resection")
    assert resection["patient_source_id"] == icca and resection["intent"] == "curative"
    assert any(s.startswith("MedicationAdministration/") for s in skipped)
    assert any(s.startswith("ResearchSubject/") for s in skipped)


def test_bundle_refuses_to_return_an_invalid_bundle(network):
    data = collect(RegistryPatient.objects.all(), pseudonymiser=Pseudonymiser(clean_key(network)))
    table = data.tables["patients"]
    year = table.names.index("year_of_birth")
    broken_rows = [(*row[:year], 19580, *row[year + 1 :]) for row in table.rows]
    broken = ResearchDataset({**data.tables, "patients": Table(table.columns, broken_rows)})
    with pytest.raises(ValidationError):
        bundle(broken)
    assert dataclasses.is_dataclass(broken)
