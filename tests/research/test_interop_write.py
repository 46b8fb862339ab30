"""research.interop.write: every format in its directory, one subject id per person in
all of them, genomics only when asked for, no identity anywhere."""

from __future__ import annotations

import json

import pytest

from registry.models import RegistryPatient
from research.interop import FORMATS, write
from research.interop.dataset import Pseudonymiser, collect

from .cbioportal_rules import study_problems
from .interop_data import build_network, clean_key
from .test_interop_dataset import assert_no_identity


@pytest.fixture
def network(center_a, abstractor_a, center_b, abstractor_b):
    return build_network(center_a, abstractor_a, center_b, abstractor_b)


def subject_ids_per_format(directory) -> dict[str, set[str]]:
    import csv

    import pyarrow.parquet as pq

    tables = set(
        pq.read_table(directory / "tables" / "patients.parquet").column("subject_id").to_pylist()
    )
    lines = (directory / "cbioportal" / "data_clinical_patient.txt").read_text("utf-8").splitlines()
    cbio = {line.split("\t")[0] for line in lines[5:]}
    with (directory / "omop" / "person.csv").open(encoding="utf-8") as stream:
        omop = {row["person_source_value"] for row in csv.DictReader(stream)}
    bundle = json.loads((directory / "fhir" / "bundle.json").read_text("utf-8"))
    fhir = {
        e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    }
    return {"tables": tables, "cbioportal": cbio, "omop": omop, "fhir": fhir}


def test_write_every_format_with_the_same_subjects_and_no_identity(network, tmp_path):
    p = Pseudonymiser(clean_key(network))
    data = collect(RegistryPatient.objects.all(), pseudonymiser=p)
    paths = write(data, tmp_path, FORMATS, study_id="hb_reg_2026", title="HB registry")
    assert all(path.is_file() for path in paths)
    assert {path.relative_to(tmp_path).parts[0] for path in paths} == {
        "tables", "cbioportal", "omop", "fhir",
    }  # fmt: skip
    expected = {
        p.subject_id(network.icca_a.national_pseudonym),
        p.subject_id(network.hcc_b.national_pseudonym),
    }
    assert subject_ids_per_format(tmp_path) == dict.fromkeys(FORMATS, expected)
    assert study_problems(tmp_path / "cbioportal") == []
    bundle = json.loads((tmp_path / "fhir" / "bundle.json").read_text("utf-8"))
    (study,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ResearchStudy"
    ]
    assert study["title"] == "HB registry"
    assert_no_identity(tmp_path, network)


def test_without_genomics_no_format_carries_genomic_data(network, tmp_path):
    data = collect(
        RegistryPatient.objects.all(),
        pseudonymiser=Pseudonymiser(clean_key(network)),
        include_genomics=False,
    )
    write(data, tmp_path, FORMATS, study_id="hb_clinical", title="Clinical only")
    names = {path.name for path in tmp_path.rglob("*")}
    assert not names & {
        "genomic_tests.parquet", "variants.csv", "fusions.parquet", "copy_numbers.csv",
        "data_mutations.txt", "data_sv.txt", "data_cna.txt",
    }  # fmt: skip
    everything = "\n".join(
        path.read_text("utf-8")
        for path in tmp_path.rglob("*")
        if path.suffix in (".csv", ".txt", ".json")
    )
    for marker in ("IDH1", "FGFR2", "CDKN2A", "TMB", "94076-7"):
        assert marker not in everything


def test_only_the_chosen_formats_are_written_and_unknown_ones_refused(network, tmp_path):
    data = collect(RegistryPatient.objects.all(), pseudonymiser=Pseudonymiser(clean_key(network)))
    write(data, tmp_path, ["omop"], study_id="x_1", title="x")
    assert [p.name for p in tmp_path.iterdir()] == ["omop"]
    with pytest.raises(ValueError, match="sas"):
        write(data, tmp_path, ["sas"], study_id="x_1", title="x")


def test_an_empty_cohort_writes_every_format_without_rows(db, tmp_path):
    data = collect(RegistryPatient.objects.none(), pseudonymiser=Pseudonymiser(b"k" * 32))
    assert all(not table.rows for table in data.tables.values())
    paths = write(data, tmp_path, FORMATS, study_id="empty_1", title="Empty")
    assert all(path.is_file() for path in paths)
    bundle = json.loads((tmp_path / "fhir" / "bundle.json").read_text("utf-8"))
    assert [e["resource"]["resourceType"] for e in bundle.get("entry", [])] == ["ResearchStudy"]
