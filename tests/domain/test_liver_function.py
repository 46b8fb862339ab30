"""Child-Pugh and ALBI against their published tables (see ``domain/liver_function.py``).

Each boundary is tested on both sides, in the units the laboratories report (µmol/L, g/L).
"""

from __future__ import annotations

import pytest

from domain.liver_function import (
    ENGINE_VERSION,
    Ascites,
    Encephalopathy,
    albi,
    bilirubin_mg_dl,
    bilirubin_umol_l,
    child_pugh,
)

NORMAL = dict(
    bilirubin_umol_l=12.0,
    albumin_g_l=42.0,
    inr=1.0,
    ascites=Ascites.NONE,
    encephalopathy=Encephalopathy.NONE,
)


def cp(**changes):
    return child_pugh(**{**NORMAL, **changes})


def test_normal_liver_is_a5():
    result = cp()
    assert (result.score, result.grade, result.label) == (5, "A", "A5")
    assert result.points == {
        "bilirubin": 1,
        "albumin": 1,
        "inr": 1,
        "ascites": 1,
        "encephalopathy": 1,
    }
    assert result.engine_version == ENGINE_VERSION
    assert result.inputs["bilirubin_umol_l"] == 12.0


@pytest.mark.parametrize(
    ("umol", "points"),
    [
        (34.1, 1),  # < 2 mg/dL
        (34.2, 2),  # exactly 2 mg/dL: "2-3 mg/dL" includes 2
        (51.3, 2),  # exactly 3 mg/dL
        (51.4, 3),  # > 3 mg/dL
    ],
)
def test_bilirubin_boundaries(umol, points):
    assert cp(bilirubin_umol_l=umol).points["bilirubin"] == points


@pytest.mark.parametrize(
    ("umol", "points"),
    [(68.3, 1), (68.4, 2), (171.0, 2), (171.1, 3)],  # 4 and 10 mg/dL
)
def test_cholestatic_bilirubin_boundaries(umol, points):
    assert cp(bilirubin_umol_l=umol, cholestatic=True).points["bilirubin"] == points


@pytest.mark.parametrize(
    ("g_l", "points"),
    [(35.1, 1), (35.0, 2), (28.0, 2), (27.9, 3)],  # > 3.5, 2.8-3.5, < 2.8 g/dL
)
def test_albumin_boundaries(g_l, points):
    assert cp(albumin_g_l=g_l).points["albumin"] == points


@pytest.mark.parametrize(("inr", "points"), [(1.69, 1), (1.7, 2), (2.3, 2), (2.31, 3)])
def test_inr_boundaries(inr, points):
    assert cp(inr=inr).points["inr"] == points


def test_class_b_and_c():
    b = cp(bilirubin_umol_l=40, albumin_g_l=30, inr=1.5, ascites="mild")
    assert (b.score, b.grade) == (8, "B")
    c = child_pugh(
        bilirubin_umol_l=60,
        albumin_g_l=25,
        inr=2.5,
        ascites=Ascites.MODERATE_SEVERE,
        encephalopathy=Encephalopathy.GRADE_3_4,
    )
    assert (c.score, c.grade, c.label) == (15, "C", "C15")


@pytest.mark.parametrize(("score_points", "grade"), [(6, "A"), (7, "B"), (9, "B"), (10, "C")])
def test_class_cut_points(score_points, grade):
    # raise the score from 5 by moving components to 2 or 3 points
    extra = score_points - 5
    changes = {}
    order = [
        ("ascites", "mild", "moderate_severe"),
        ("encephalopathy", "grade_1_2", "grade_3_4"),
        ("inr", 2.0, 2.5),
    ]
    for name, two, three in order:
        if extra >= 2:
            changes[name], extra = three, extra - 2
        elif extra == 1:
            changes[name], extra = two, 0
    result = cp(**changes)
    assert result.score == score_points
    assert result.grade == grade


def test_missing_input_gives_no_class():
    result = cp(inr=None)
    assert result.score is None and result.grade is None and result.label is None
    assert result.missing == ("inr",)
    assert result.points["bilirubin"] == 1  # what could be scored is still shown


@pytest.mark.parametrize("bad", [-1, 0, float("nan"), "12", True])
def test_invalid_lab_names_the_field(bad):
    with pytest.raises(ValueError, match="albumin_g_l"):
        cp(albumin_g_l=bad)


def test_unknown_clinical_grade_is_refused():
    with pytest.raises(ValueError):
        cp(ascites="a lot")


def test_unit_conversion_round_trips():
    assert bilirubin_mg_dl(17.1) == pytest.approx(1.0)
    assert bilirubin_umol_l(bilirubin_mg_dl(40.0)) == pytest.approx(40.0)


def test_albi_worked_examples():
    # 0.66 x log10(10) - 0.085 x 40 = 0.66 - 3.40 = -2.74
    good = albi(bilirubin_umol_l=10, albumin_g_l=40)
    assert (good.score, good.grade, good.modified_grade) == (-2.74, 1, "1")
    # 0.66 x log10(20) - 0.085 x 30 = 0.8587 - 2.55 = -1.69
    mid = albi(bilirubin_umol_l=20, albumin_g_l=30)
    assert (mid.score, mid.grade, mid.modified_grade) == (-1.69, 2, "2b")
    # 0.66 x log10(60) - 0.085 x 25 = 1.1736 - 2.125 = -0.95
    poor = albi(bilirubin_umol_l=60, albumin_g_l=25)
    assert (poor.score, poor.grade) == (-0.95, 3)


@pytest.mark.parametrize(
    ("albumin", "score", "grade", "modified"),
    [
        (38.35, -2.60, 1, "1"),  # exactly -2.60: grade 1
        (38.20, -2.59, 2, "2a"),
        (34.47, -2.27, 2, "2a"),  # exactly -2.27: 2a
        (34.30, -2.26, 2, "2b"),
        (24.12, -1.39, 2, "2b"),  # exactly -1.39: grade 2
        (24.00, -1.38, 3, "3"),
    ],
)
def test_albi_grade_boundaries(albumin, score, grade, modified):
    result = albi(bilirubin_umol_l=10, albumin_g_l=albumin)
    assert (result.score, result.grade, result.modified_grade) == (score, grade, modified)


def test_albi_missing_and_invalid():
    assert albi(bilirubin_umol_l=None, albumin_g_l=40).missing == ("bilirubin_umol_l",)
    with pytest.raises(ValueError, match="bilirubin_umol_l"):
        albi(bilirubin_umol_l=0, albumin_g_l=40)
