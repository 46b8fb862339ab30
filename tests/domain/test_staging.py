"""Staging engines against worked examples from their published definitions (no database)."""

from __future__ import annotations

import pytest

from domain.staging import ajcc_icc, ajcc_liver, bclc, cnlc, ecog

LIVER_DEFAULTS = dict(
    vascular_invasion=False,
    major_vessel_or_organ_invasion=False,
    nodes_positive=False,
    metastasis=False,
)


@pytest.mark.parametrize(
    ("count", "size_mm", "overrides", "t", "stage"),
    [
        (1, 18, {"vascular_invasion": True}, "T1a", "IA"),  # <= 2 cm, with or without VI
        (1, 20, {}, "T1a", "IA"),  # exactly 2 cm is still T1a
        (1, 21, {}, "T1b", "IB"),
        (1, 45, {"vascular_invasion": True}, "T2", "II"),
        (3, 50, {}, "T2", "II"),  # multiple, none > 5 cm
        (2, 62, {}, "T3", "IIIA"),
        (1, 30, {"major_vessel_or_organ_invasion": True}, "T4", "IIIB"),
        (1, 30, {"nodes_positive": True}, "T1b", "IVA"),
        (2, 80, {"nodes_positive": True, "metastasis": True}, "T3", "IVB"),
    ],
)
def test_ajcc_liver_worked_examples(count, size_mm, overrides, t, stage):
    result = ajcc_liver(
        tumour_count=count, largest_size_mm=size_mm, **{**LIVER_DEFAULTS, **overrides}
    )
    assert (result.components["T"], result.value) == (t, stage)
    assert result.engine_version == "ajcc8-1.0"
    assert result.inputs["largest_size_mm"] == float(size_mm)


def test_ajcc_liver_never_guesses():
    result = ajcc_liver(
        tumour_count=1,
        largest_size_mm=35,
        vascular_invasion=None,
        major_vessel_or_organ_invasion=False,
        nodes_positive=False,
        metastasis=False,
    )
    assert result.value is None and "T" in result.missing
    # but M1 is stage IVB whatever is missing
    result = ajcc_liver(
        tumour_count=None,
        largest_size_mm=None,
        vascular_invasion=None,
        major_vessel_or_organ_invasion=None,
        nodes_positive=None,
        metastasis=True,
    )
    assert result.value == "IVB"


ICC_DEFAULTS = dict(
    vascular_invasion=False,
    peritoneum_perforated=False,
    extrahepatic_invasion=False,
    nodes_positive=False,
    metastasis=False,
)


@pytest.mark.parametrize(
    ("count", "size_mm", "overrides", "t", "stage"),
    [
        (1, 10, {"in_situ": True}, "Tis", "0"),
        (1, 50, {}, "T1a", "IA"),  # <= 5 cm without vascular invasion
        (1, 51, {}, "T1b", "IB"),
        (1, 30, {"vascular_invasion": True}, "T2", "II"),
        (3, 20, {}, "T2", "II"),  # multiple, with or without VI
        (1, 40, {"peritoneum_perforated": True}, "T3", "IIIA"),
        (1, 40, {"extrahepatic_invasion": True}, "T4", "IIIB"),
        (1, 40, {"nodes_positive": True}, "T1a", "IIIB"),  # any T N1 M0
        (2, 70, {"metastasis": True}, "T2", "IV"),
    ],
)
def test_ajcc_icc_worked_examples(count, size_mm, overrides, t, stage):
    result = ajcc_icc(tumour_count=count, largest_size_mm=size_mm, **{**ICC_DEFAULTS, **overrides})
    assert (result.components["T"], result.value) == (t, stage)


BCLC_DEFAULTS = dict(
    macrovascular_invasion=False, extrahepatic_spread=False, child_pugh_class="A", ecog=0
)


@pytest.mark.parametrize(
    ("count", "size_mm", "overrides", "stage"),
    [
        (1, 18, {}, "0"),  # very early
        (1, 80, {}, "A"),  # single, any size
        (3, 30, {}, "A"),  # <= 3 nodules each <= 3 cm
        (3, 31, {}, "B"),
        (5, 20, {}, "B"),
        (2, 40, {"macrovascular_invasion": True}, "C"),
        (1, 30, {"extrahepatic_spread": True, "ecog": 1}, "C"),
        (1, 18, {"ecog": 2}, "C"),  # symptomatic: ECOG 1-2
        (1, 18, {"ecog": 3}, "D"),
        (1, 18, {"child_pugh_class": "C"}, "D"),
    ],
)
def test_bclc_2022_worked_examples(count, size_mm, overrides, stage):
    result = bclc(tumour_count=count, largest_size_mm=size_mm, **{**BCLC_DEFAULTS, **overrides})
    assert result.value == stage, result.reasons
    assert result.engine_version == "bclc2022-1.0"


def test_bclc_missing_liver_function_gives_no_stage():
    result = bclc(
        tumour_count=1,
        largest_size_mm=15,
        macrovascular_invasion=False,
        extrahepatic_spread=False,
        child_pugh_class=None,
        ecog=0,
    )
    assert result.value is None and result.missing == ("child_pugh_class",)


CNLC_DEFAULTS = dict(
    vascular_invasion=False, extrahepatic_metastasis=False, child_pugh_class="A", ecog=0
)


@pytest.mark.parametrize(
    ("count", "size_mm", "overrides", "stage"),
    [
        (1, 50, {}, "Ia"),
        (1, 51, {"child_pugh_class": "B"}, "Ib"),
        (3, 30, {}, "Ib"),  # 2-3 tumours <= 3 cm
        (2, 35, {"ecog": 2}, "IIa"),
        (4, 10, {}, "IIb"),
        (2, 35, {"vascular_invasion": True}, "IIIa"),
        (1, 20, {"vascular_invasion": True, "extrahepatic_metastasis": True}, "IIIb"),
        (1, 20, {"ecog": 3}, "IV"),
        (6, 90, {"child_pugh_class": "C"}, "IV"),
    ],
)
def test_cnlc_2022_worked_examples(count, size_mm, overrides, stage):
    result = cnlc(tumour_count=count, largest_size_mm=size_mm, **{**CNLC_DEFAULTS, **overrides})
    assert result.value == stage, result.reasons


def test_cnlc_needs_performance_status_before_staging_metastatic_disease():
    result = cnlc(
        tumour_count=1,
        largest_size_mm=20,
        vascular_invasion=False,
        extrahepatic_metastasis=True,
        child_pugh_class="A",
        ecog=None,
    )
    assert result.value is None and "ecog" in result.missing


def test_ecog_recorded_or_from_karnofsky():
    assert ecog(grade=1).value == "1"
    assert [ecog(karnofsky=k).value for k in (100, 90, 80, 70, 60, 50, 40, 30, 20, 10, 0)] == [
        "0",
        "0",
        "1",
        "1",
        "2",
        "2",
        "3",
        "3",
        "4",
        "4",
        "5",
    ]
    assert ecog().value is None
    with pytest.raises(ValueError, match="karnofsky"):
        ecog(karnofsky=85)
    with pytest.raises(ValueError, match="grade"):
        ecog(grade=6)


def test_bad_inputs_name_the_input():
    with pytest.raises(ValueError, match="largest_size_mm"):
        ajcc_liver(tumour_count=1, largest_size_mm=-3, **LIVER_DEFAULTS)
    with pytest.raises(ValueError, match="child_pugh_class"):
        bclc(tumour_count=1, largest_size_mm=10, **{**BCLC_DEFAULTS, "child_pugh_class": "D"})
