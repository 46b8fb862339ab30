"""The cBioPortal study: it passes the documented rules (tests/research/cbioportal_rules.py),
the rules can fail, and the study holds the patients, their genomics and no identity."""

from __future__ import annotations

import shutil

import pytest

from registry.models import RegistryPatient
from research.interop.cbioportal import hgvsp_short, variant_classification, write_study
from research.interop.dataset import Pseudonymiser, collect

from .cbioportal_rules import study_problems
from .interop_data import build_network, clean_key
from .test_interop_dataset import assert_no_identity


@pytest.fixture
def network(center_a, abstractor_a, center_b, abstractor_b):
    return build_network(center_a, abstractor_a, center_b, abstractor_b)


@pytest.fixture
def study(network, tmp_path):
    key = clean_key(network)
    data = collect(RegistryPatient.objects.all(), pseudonymiser=Pseudonymiser(key))
    paths = write_study(
        data,
        tmp_path / "study",
        study_id="hb_registry_2026",
        name="Hepato-biliary registry",
        description="Registry extract",
    )
    return tmp_path / "study", paths, Pseudonymiser(key)


def rows(path):
    lines = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if not line[0].startswith("#")]
    return [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]


def test_the_study_passes_the_documented_rules(study):
    directory, paths, _p = study
    assert study_problems(directory) == []
    names = {p.relative_to(directory).as_posix() for p in paths}
    assert {
        "meta_study.txt",
        "meta_clinical_patient.txt",
        "data_clinical_patient.txt",
        "meta_clinical_sample.txt",
        "data_clinical_sample.txt",
        "meta_mutations.txt",
        "data_mutations.txt",
        "meta_sv.txt",
        "data_sv.txt",
        "meta_cna.txt",
        "data_cna.txt",
        "meta_timeline_treatment.txt",
        "data_timeline_treatment.txt",
        "case_lists/cases_all.txt",
        "case_lists/cases_sequenced.txt",
        "case_lists/cases_cna.txt",
    } <= names
    assert all(p.exists() for p in paths)
    meta = (directory / "meta_study.txt").read_text(encoding="utf-8")
    assert "reference_genome: hg38" in meta and "type_of_cancer: mixed" in meta


def test_the_study_holds_each_person_once_with_survival_and_genomics(study, network):
    directory, _paths, p = study
    icca = p.subject_id(network.icca_a.national_pseudonym)
    hcc = p.subject_id(network.hcc_b.national_pseudonym)
    patients = {r["PATIENT_ID"]: r for r in rows(directory / "data_clinical_patient.txt")}
    assert set(patients) == {icca, hcc}  # the person at two centers is one patient
    assert patients[icca]["OS_STATUS"] == "1:DECEASED"
    assert patients[icca]["CENTER_COUNT"] == "2"
    assert float(patients[icca]["OS_MONTHS"]) == pytest.approx(283 / 30.4375, abs=0.01)
    assert patients[hcc]["OS_STATUS"] == "0:LIVING" and patients[hcc]["SEX"] == "Female"
    # recurrence 152 days after the resection (2024-03-15 -> 2024-08-14)
    assert patients[icca]["DFS_STATUS"] == "1:Recurred/Progressed"
    assert float(patients[icca]["DFS_MONTHS"]) == pytest.approx(152 / 30.4375, abs=0.01)
    assert patients[hcc]["DFS_STATUS"] == "0:DiseaseFree"
    samples = {r["SAMPLE_ID"]: r for r in rows(directory / "data_clinical_sample.txt")}
    assert samples[f"{icca}-T1"]["ONCOTREE_CODE"] == "IHCH"
    assert samples[f"{icca}-T1"]["TMB"] == "2.5"
    assert samples[f"{hcc}-D1"]["ONCOTREE_CODE"] == "HCC"  # no test: a diagnosis sample
    (mutation,) = rows(directory / "data_mutations.txt")
    assert mutation["Hugo_Symbol"] == "IDH1" and mutation["HGVSp_Short"] == "p.R132C"
    assert mutation["Variant_Classification"] == "Missense_Mutation"
    assert mutation["Tumor_Sample_Barcode"] == f"{icca}-T1"
    (sv,) = rows(directory / "data_sv.txt")
    assert (sv["Site1_Hugo_Symbol"], sv["Site2_Hugo_Symbol"]) == ("FGFR2", "BICC1")
    assert sv["Site2_Effect_On_Frame"] == "IN_FRAME"
    (cna,) = rows(directory / "data_cna.txt")
    assert cna == {"Hugo_Symbol": "CDKN2A", f"{icca}-T1": "-2"}
    treatments = rows(directory / "data_timeline_treatment.txt")
    lenvatinib = next(t for t in treatments if t["AGENT"] == "lenvatinib")
    assert (lenvatinib["START_DATE"], lenvatinib["STOP_DATE"]) == ("94", "210")
    resection = next(t for t in treatments if t["SUBTYPE"] == "resection")
    assert resection["START_DATE"] == "14" and resection["TREATMENT_TYPE"] == "Surgery"
    sequenced = (directory / "case_lists" / "cases_sequenced.txt").read_text(encoding="utf-8")
    assert f"case_list_ids: {icca}-T1\n" in sequenced


def test_the_study_carries_no_identity(study, network):
    directory, _paths, _p = study
    assert_no_identity(directory, network)


def test_without_genomics_the_study_has_clinical_files_only_and_still_passes(network, tmp_path):
    data = collect(
        RegistryPatient.objects.all(),
        pseudonymiser=Pseudonymiser(clean_key(network)),
        include_genomics=False,
    )
    write_study(data, tmp_path, study_id="hb_clinical", name="Clinical", description="No genomics")
    assert study_problems(tmp_path) == []
    names = {p.name for p in tmp_path.rglob("*")}
    assert not names & {"data_mutations.txt", "data_sv.txt", "data_cna.txt", "meta_mutations.txt"}
    assert "reference_genome" not in (tmp_path / "meta_study.txt").read_text(encoding="utf-8")


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_rules_reject_a_broken_study(study, tmp_path):
    directory, _paths, p = study
    broken = tmp_path / "broken"
    shutil.copytree(directory, broken)
    samples = broken / "data_clinical_sample.txt"
    lines = samples.read_text(encoding="utf-8").splitlines()
    row = lines[5].split("\t")
    row[0], row[1] = "S_NOBODY", "S_NOBODY-T9"  # a sample of a patient who does not exist
    samples.write_text("\n".join([*lines, "\t".join(row)]) + "\n", encoding="utf-8")
    patients = broken / "data_clinical_patient.txt"
    _edit(patients, "\t1:DECEASED\t", "\tDECEASED\t")  # survival status without 0: / 1:
    lines = patients.read_text(encoding="utf-8").splitlines()
    cells = lines[5].split("\t")
    cells[2] = "sixty-five"  # AGE is a NUMBER
    patients.write_text("\n".join([*lines[:5], "\t".join(cells), *lines[6:]]) + "\n", "utf-8")
    _edit(broken / "data_mutations.txt", "Missense_Mutation", "missense_mutation")
    _edit(broken / "data_cna.txt", "\t-2", "\t-3")
    _edit(broken / "meta_sv.txt", "stable_id: structural_variants\n", "")
    _edit(broken / "meta_cna.txt", "data_filename: data_cna.txt", "data_filename: data_gone.txt")
    all_cases = broken / "case_lists" / "cases_all.txt"
    _edit(all_cases, "case_list_ids: ", "case_list_ids: S_GHOST-T1\t")
    problems = "\n".join(study_problems(broken))
    for expected in (
        "sample S_NOBODY-T9 of unknown patient S_NOBODY",
        "OS_STATUS 'DECEASED' does not start 0: or 1:",
        "AGE 'sixty-five' is not a NUMBER",
        "Variant_Classification 'missense_mutation' not allowed",
        "meta_sv.txt: stable_id is missing or empty",
        "meta_cna.txt: data_filename data_gone.txt does not exist",
        "cases_all.txt: S_GHOST-T1 is not a sample of the study",
    ):
        assert expected in problems
    (broken / "data_cna.txt").unlink()
    shutil.copy(directory / "data_cna.txt", broken / "data_gone.txt")
    _edit(broken / "data_gone.txt", "\t-2", "\t-3")
    assert "CNA value '-3' not in -2..2" in "\n".join(study_problems(broken))


@pytest.mark.parametrize(
    ("hgvs_p", "hgvs_c", "expected"),
    [
        ("p.Arg132Cys", "c.394C>T", "Missense_Mutation"),
        ("p.R132H", "", "Missense_Mutation"),
        ("p.Gln61*", "", "Nonsense_Mutation"),
        ("p.Arg213Ter", "", "Nonsense_Mutation"),
        ("p.Lys45fs", "c.133delA", "Frame_Shift_Del"),
        ("p.Lys45fs", "c.133dupA", "Frame_Shift_Ins"),
        ("p.Glu746_Ala750del", "", "In_Frame_Del"),
        ("p.Ala767_Val769dup", "", "In_Frame_Ins"),
        ("p.Val600=", "", "Silent"),
        ("p.Met1?", "", "Translation_Start_Site"),
        ("p.*110Glnext*17", "", "Nonstop_Mutation"),
        ("", "c.1234+1G>A", "Splice_Site"),
        ("", "c.1234+45G>A", "Intron"),
        ("", "", "Unknown"),
    ],
)
def test_variant_classification_from_hgvs(hgvs_p, hgvs_c, expected):
    assert variant_classification(hgvs_p, hgvs_c) == expected


def test_hgvsp_short_uses_one_letter_amino_acids():
    assert hgvsp_short("p.(Arg132Cys)") == "p.R132C"
    assert hgvsp_short("p.Val600Glu") == "p.V600E"
    assert hgvsp_short("p.R132C") == "p.R132C"
