"""The criteria engine: validation reports every problem with its path; compiled criteria
select the right registry patients over every domain."""

from __future__ import annotations

import pytest

from research.cohorts import matching_patients
from research.criteria import fingerprint, validate

ICCA_FGFR2_ABLATION = {
    "all": [
        {"type": "diagnosis", "category": ["icca"]},
        {"type": "genomic", "alteration": "fusion", "gene": "FGFR2"},
        {"type": "treatment", "kind": ["rfa", "mwa", "cryoablation"]},
    ]
}


def test_every_problem_is_reported_with_its_path():
    errors = validate(
        {
            "all": [
                {"type": "diagnosis", "category": ["lung"]},
                {"type": "genomic", "alteration": "fusion"},
                {"any": []},
                {"type": "treatment", "within_days_of_diagnosis": -3},
                {"type": "sql", "where": "1=1"},
            ]
        }
    )
    assert "Unknown value(s): lung" in errors["all.0.category"][0]
    assert errors["all.1.gene"] == ["This field is required."]
    assert "all.2.any" in errors
    assert "all.3.within_days_of_diagnosis" in errors
    assert "all.4.type" in errors


def test_a_valid_tree_has_no_errors():
    assert validate(ICCA_FGFR2_ABLATION) == {}


def test_fingerprint_ignores_numbers_and_dates_only():
    a = {"type": "biomarker", "marker": "tmb", "op": ">=", "value": 10}
    b = {"type": "biomarker", "marker": "tmb", "op": ">=", "value": 11}
    c = {"type": "biomarker", "marker": "pdl1_tps", "op": ">=", "value": 10}
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)


def n(tree) -> int:
    return matching_patients(tree).count()


@pytest.mark.django_db
def test_icca_fgfr2_ablation(network):
    assert n(ICCA_FGFR2_ABLATION) == 10
    assert n({"not": ICCA_FGFR2_ABLATION}) == 10  # 4 iCCA without fusion + 6 HCC
    assert n({"any": [{"type": "center", "codes": ["CC"]}, ICCA_FGFR2_ABLATION]}) == 16


@pytest.mark.django_db
def test_temporal_relations(network):
    within_90 = {"type": "treatment", "kind": ["mwa"], "within_days_of_diagnosis": 90}
    assert n(within_90) == 10  # the late ablations (day 200) are out
    assert n({"type": "treatment", "kind": ["mwa"], "within_days_of_diagnosis": 200}) == 14
    before = {"type": "treatment", "kind": ["mwa"], "before_first_systemic": True}
    assert n(before) == 10  # the 4 late ablations came after systemic therapy (day 60)


@pytest.mark.django_db
def test_vital_status_biomarker_patient_and_genes(network):
    assert n({"type": "vital_status", "status": "dead"}) == 3
    assert n({"type": "vital_status", "status": "alive"}) == 17
    assert n({"type": "patient", "sex": "F"}) == 6
    assert n({"type": "genomic", "alteration": "fusion", "gene": "fgfr2", "partner": "BICC1"}) == 10
    assert n({"type": "genomic", "alteration": "fusion", "gene": "FGFR2", "partner": "AHCYL1"}) == 0
    tmb = {"type": "biomarker", "marker": "tmb", "op": ">=", "value": 8}
    assert n(tmb) == 3  # TMB 8 and 9 at A, 8 at C
