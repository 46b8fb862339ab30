"""The pseudonymised research dataset: subject ids, date shifts, the tables, and what
never leaves (identity, source ids, UIDs, unshifted dates)."""

from __future__ import annotations

import datetime

import pyarrow.parquet as pq
import pytest

from registry.models import RegistryPatient
from research.interop import dataset as ds
from research.interop.dataset import Pseudonymiser, collect, write_tables

from .conftest import make_patient
from .interop_data import KEY, build_network, clean_key

D = datetime.date


@pytest.fixture
def network(center_a, abstractor_a, center_b, abstractor_b):
    return build_network(center_a, abstractor_a, center_b, abstractor_b)


def test_subject_ids_are_keyed_stable_and_shared_by_a_persons_records():
    p = Pseudonymiser(KEY)
    assert p.subject_id("NP-1") == Pseudonymiser(KEY).subject_id("NP-1")
    assert p.subject_id("NP-1") != p.subject_id("NP-2")
    assert p.subject_id("NP-1") != Pseudonymiser(b"another-key-0123456789").subject_id("NP-1")
    assert p.subject_id("NP-1").startswith("S") and len(p.subject_id("NP-1")) == 13
    with pytest.raises(ValueError):
        Pseudonymiser(b"short")


def test_date_shift_is_per_person_within_180_days_never_zero_and_keeps_intervals():
    p = Pseudonymiser(KEY)
    shifts = [p.shift_days(f"NP-{n}") for n in range(2000)]
    assert all(-180 <= s <= 180 and s != 0 for s in shifts)
    assert min(shifts) < -150 and max(shifts) > 150  # spread over the whole range
    assert p.shift_days("NP-7") == p.shift_days("NP-7")
    a, b = D(2024, 3, 1), D(2024, 12, 9)
    assert p.date(b, "NP-7") - p.date(a, "NP-7") == b - a
    assert p.date(a, "NP-7") != a
    assert p.date(None, "NP-7") is None


def test_collect_reads_every_domain_in_a_fixed_number_of_queries(
    network, center_a, abstractor_a, django_assert_num_queries
):
    patients = RegistryPatient.objects.all()
    # patients + tumours, stages, pathology, treatments, follow-ups, LI-RADS, imaging (8)
    # + molecular tests, variants, fusions, copy-number changes (4)
    with django_assert_num_queries(12):
        data = collect(patients, pseudonymiser=Pseudonymiser(KEY))
    with django_assert_num_queries(8):
        collect(patients, pseudonymiser=Pseudonymiser(KEY), include_genomics=False)
    assert len(data.tables["patients"].rows) == 3
    for n in range(4):  # more patients, with tumours, tests, fusions, treatments, follow-ups
        make_patient(center_a, abstractor_a, 50 + n, fusion=True, ablation_day=20, dead_day=300)
    with django_assert_num_queries(12):
        data = collect(RegistryPatient.objects.all(), pseudonymiser=Pseudonymiser(KEY))
    assert len(data.tables["patients"].rows) == 7 and len(data.tables["fusions"].rows) == 5


def test_the_tables_hold_the_registry_rows_pseudonymised(network):
    p = Pseudonymiser(KEY)
    data = collect(RegistryPatient.objects.all(), pseudonymiser=p)
    subject = p.subject_id(network.icca_a.national_pseudonym)
    patients = {(r["subject_id"], r["center"]): r for r in data.records("patients")}
    assert set(patients) == {
        (subject, "CA"),
        (subject, "CB"),  # the same person at center B: one subject id
        (p.subject_id(network.hcc_b.national_pseudonym), "CB"),
    }
    a = patients[(subject, "CA")]
    shift = datetime.timedelta(days=p.shift_days(network.icca_a.national_pseudonym))
    assert a["year_of_birth"] == 1958 and a["age_at_diagnosis"] == 65
    assert a["vital_status"] == "dead" and a["death_date"] == D(2024, 12, 9) + shift
    assert a["hbv"] is True and a["hcv"] is False and a["psc"] is None
    tumour = next(t for t in data.records("tumours") if t["center"] == "CA")
    assert tumour["diagnosis_date"] == D(2024, 3, 1) + shift
    assert (tumour["morphology"], tumour["topography"]) == ("8160/3", "C22.1")
    stage = next(s for s in data.records("staging") if s["system"] == "AJCC8_ICC")
    assert stage["value"] == "IA" and stage["tumour_id"] == tumour["tumour_id"]
    (variant,) = data.records("variants")
    assert (variant["gene"], variant["hgvs_p"], variant["vaf"]) == ("IDH1", "p.Arg132Cys", 0.31)
    (fusion,) = data.records("fusions")
    assert (fusion["gene_5"], fusion["gene_3"]) == ("FGFR2", "BICC1")
    (test,) = data.records("genomic_tests")
    assert test["sample_id"] == f"{subject}-T1" and test["tmb"] == 2.5
    (imaging,) = data.records("imaging")
    assert imaging["lirads_categories"] == "LR-M"
    assert set(data.tables["imaging"].names) == {
        "subject_id", "center", "imaging_id", "study_date", "modality", "body_part",
        "contrast_phases", "lirads_categories",
    }  # fmt: skip
    kinds = [t["kind"] for t in data.records("treatments")]
    assert sorted(kinds) == ["resection", "rfa", "systemic", "tace"]


def test_genomics_tables_are_absent_without_genomics(network):
    data = collect(
        RegistryPatient.objects.all(), pseudonymiser=Pseudonymiser(KEY), include_genomics=False
    )
    assert not set(ds.GENOMIC_TABLES) & set(data.tables)
    assert not data.has_genomics


def test_write_tables_writes_typed_parquet_and_safe_csv_without_identity(network, tmp_path):
    key = clean_key(network)
    data = collect(RegistryPatient.objects.all(), pseudonymiser=Pseudonymiser(key))
    paths = write_tables(data, tmp_path)
    assert {p.name for p in paths} == {
        f"{name}.{ext}" for name in data.tables for ext in ("parquet", "csv")
    }
    patients = pq.read_table(tmp_path / "patients.parquet")
    assert str(patients.schema.field("death_date").type) == "date32[day]"
    assert str(patients.schema.field("year_of_birth").type) == "int64"
    assert str(patients.schema.field("hbv").type) == "bool"
    assert patients.num_rows == 3
    assert pq.read_table(tmp_path / "variants.parquet").column("vaf").to_pylist() == [0.31]
    header = (tmp_path / "tumours.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("subject_id,center,tumour_id,category")
    assert_no_identity(tmp_path, network)


def test_a_formula_in_a_text_field_is_neutralised_in_the_csv(network, tmp_path):
    treatment = network.hcc_b.treatments.get()
    treatment.regimen = "=HYPERLINK(1)"
    treatment.save()
    data = collect(RegistryPatient.objects.all(), pseudonymiser=Pseudonymiser(KEY))
    write_tables(data, tmp_path)
    assert "'=HYPERLINK(1)" in (tmp_path / "treatments.csv").read_text(encoding="utf-8")


def written_text(directory) -> dict[str, str]:
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            if path.suffix == ".parquet":
                out[str(path)] = str(pq.read_table(path).to_pylist())
            else:
                out[str(path)] = path.read_text(encoding="utf-8")
    return out


def assert_no_identity(directory, network) -> None:
    """No name, document, record number, source id, lab, pseudonym, birth date, UID or
    unshifted date of the network in any written file (Parquet read back as values)."""
    texts = written_text(directory)
    assert texts
    forbidden = [*network.identity, *network.uids]
    forbidden += [d.isoformat() for d in network.true_dates]
    forbidden += [d.strftime("%Y%m%d") for d in network.true_dates]
    forbidden += [repr(d) for d in network.true_dates]  # datetime.date(…) in Parquet values
    for path, text in texts.items():
        for value in forbidden:
            assert value not in text, f"{value!r} found in {path}"
