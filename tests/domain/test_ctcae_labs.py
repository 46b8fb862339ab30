"""CTCAE v5.0 laboratory grading at every boundary, with the CTCAE text it implements.

Ranges in CTCAE read ">3.0 - 5.0 x ULN": lower end exclusive, upper end inclusive; and
"<75.0 - 50.0 x 10e9 /L": below 75, down to and including 50.
"""

from __future__ import annotations

import pytest

from domain.ctcae_labs import CRITERIA, Analyte, grade_lab, reference_flag
from domain.lab_units import from_canonical, to_canonical, units_for

ULN_ALT = 40.0


# Alanine aminotransferase increased (and AST, same text):
# G1 ">ULN - 3.0 x ULN if baseline was normal; 1.5 - 3.0 x baseline if baseline was abnormal"
# G2 ">3.0 - 5.0 x ULN if baseline was normal; >3.0 - 5.0 x baseline if baseline was abnormal"
# G3 ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if ... abnormal"
# G4 ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal"
@pytest.mark.parametrize("analyte", [Analyte.ALT, Analyte.AST])
@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (40.0, 0),  # = ULN is not ">ULN"
        (40.1, 1),
        (120.0, 1),  # 3.0 x ULN: top of "ULN - 3.0 x ULN"
        (120.1, 2),  # ">3.0"
        (200.0, 2),  # 5.0 x ULN
        (200.1, 3),
        (800.0, 3),  # 20.0 x ULN
        (800.1, 4),  # ">20.0 x ULN"
    ],
)
def test_transaminases_normal_baseline(analyte, value, grade):
    result = grade_lab(analyte, value, uln=ULN_ALT, baseline=30.0)
    assert result.grade == grade
    assert result.basis == "uln"


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (89.9, 0),  # 60 baseline: below "1.5 x baseline" is no grade
        (90.0, 1),  # "1.5 - 3.0 x baseline": 1.5 included
        (180.0, 1),
        (180.1, 2),  # ">3.0 - 5.0 x baseline"
        (300.0, 2),
        (300.1, 3),  # ">5.0 - 20.0 x baseline"
        (1200.0, 3),
        (1200.1, 4),  # ">20.0 x baseline"
    ],
)
def test_alt_abnormal_baseline_uses_baseline_multiples(value, grade):
    result = grade_lab(Analyte.ALT, value, uln=ULN_ALT, baseline=60.0)
    assert (result.grade, result.basis) == (grade, "baseline")


def test_alt_without_baseline_is_graded_as_normal_baseline_and_says_so():
    result = grade_lab("alt", 130.0, uln=ULN_ALT)
    assert result.grade == 2
    assert "baseline" in result.notes[0]
    assert result.criterion == CRITERIA[Analyte.ALT][2]


# Alkaline phosphatase increased:
# G1 ">ULN - 2.5 x ULN if baseline was normal; 2.0 - 2.5 x baseline if baseline was abnormal"
# G2 ">2.5 - 5.0 x ULN ..."; G3 ">5.0 - 20.0 x ULN ..."; G4 ">20.0 x ULN ..."
@pytest.mark.parametrize(
    ("value", "baseline", "grade"),
    [
        (100.0, 50.0, 0),
        (100.1, 50.0, 1),
        (250.0, 50.0, 1),  # 2.5 x ULN
        (250.1, 50.0, 2),
        (500.0, 50.0, 2),
        (500.1, 50.0, 3),
        (2000.0, 50.0, 3),
        (2000.1, 50.0, 4),
        (299.9, 150.0, 0),  # abnormal baseline 150: "2.0 - 2.5 x baseline"
        (300.0, 150.0, 1),
        (375.1, 150.0, 2),
    ],
)
def test_alkaline_phosphatase(value, baseline, grade):
    assert grade_lab(Analyte.ALP, value, uln=100.0, baseline=baseline).grade == grade


# Blood bilirubin increased:
# G1 ">ULN - 1.5 x ULN if baseline was normal; > 1.0 - 1.5 x baseline if baseline was abnormal"
# G2 ">1.5 - 3.0 x ULN ..."; G3 ">3.0 - 10.0 x ULN ..."; G4 ">10.0 x ULN ..."
@pytest.mark.parametrize(
    ("value", "baseline", "grade"),
    [
        (21.0, 10.0, 0),
        (21.1, 10.0, 1),
        (31.5, 10.0, 1),  # 1.5 x ULN
        (31.6, 10.0, 2),
        (63.0, 10.0, 2),  # 3.0 x ULN
        (63.1, 10.0, 3),
        (210.0, 10.0, 3),  # 10.0 x ULN
        (210.1, 10.0, 4),
        (30.0, 30.0, 0),  # abnormal baseline 30: "> 1.0" x baseline, 1.0 excluded
        (30.1, 30.0, 1),
        (45.1, 30.0, 2),
        (90.1, 30.0, 3),
        (300.1, 30.0, 4),
    ],
)
def test_bilirubin(value, baseline, grade):
    assert grade_lab(Analyte.BILIRUBIN, value, uln=21.0, baseline=baseline).grade == grade


# Platelet count decreased:
# G1 "<LLN - 75,000/mm3; <LLN - 75.0 x 10e9 /L"; G2 "<75,000 - 50,000/mm3; <75.0 - 50.0 x 10e9 /L"
# G3 "<50,000 - 25,000/mm3; <50.0 - 25.0 x 10e9 /L"; G4 "<25,000/mm3; <25.0 x 10e9 /L"
@pytest.mark.parametrize(
    ("value", "grade"),
    [(125.0, 0), (124.9, 1), (75.0, 1), (74.9, 2), (50.0, 2), (49.9, 3), (25.0, 3), (24.9, 4)],
)
def test_platelets(value, grade):
    assert grade_lab(Analyte.PLATELETS, value, lln=125.0).grade == grade


def test_platelets_without_lln_cannot_tell_grade_0_from_1():
    assert grade_lab(Analyte.PLATELETS, 100.0).grade is None
    assert grade_lab(Analyte.PLATELETS, 40.0).grade == 3


# Neutrophil count decreased:
# G1 "<LLN - 1500/mm3; <LLN - 1.5 x 10e9 /L"; G2 "<1500 - 1000/mm3; <1.5 - 1.0 x 10e9 /L"
# G3 "<1000 - 500/mm3; <1.0 - 0.5 x 10e9 /L"; G4 "<500/mm3; <0.5 x 10e9 /L"
@pytest.mark.parametrize(
    ("value", "grade"),
    [(1.8, 0), (1.79, 1), (1.5, 1), (1.49, 2), (1.0, 2), (0.99, 3), (0.5, 3), (0.49, 4)],
)
def test_neutrophils(value, grade):
    assert grade_lab(Analyte.NEUTROPHILS, value, lln=1.8).grade == grade


# Anemia: G1 "Hemoglobin (Hgb) <LLN - 10.0 g/dL; <LLN - 6.2 mmol/L; <LLN - 100 g/L"
# G2 "Hgb <10.0 - 8.0 g/dL; <6.2 - 4.9 mmol/L; <100 - 80g/L"
# G3 "Hgb <8.0 g/dL; <4.9 mmol/L; <80 g/L; transfusion indicated"
# G4 "Life-threatening consequences; urgent intervention indicated": never from a value.
@pytest.mark.parametrize(
    ("value", "grade"), [(130.0, 0), (129.0, 1), (100.0, 1), (99.0, 2), (80.0, 2), (79.0, 3)]
)
def test_anaemia(value, grade):
    assert grade_lab(Analyte.HAEMOGLOBIN, value, lln=130.0).grade == grade


def test_anaemia_never_grade_4_from_a_value():
    result = grade_lab(Analyte.HAEMOGLOBIN, 30.0, lln=130.0)
    assert result.grade == 3 and "clinical" in result.notes[0]


# Creatinine increased: G1 ">ULN - 1.5 x ULN"; G2 ">1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN"
# G3 ">3.0 x baseline; >3.0 - 6.0 x ULN"; G4 ">6.0 x ULN"
@pytest.mark.parametrize(
    ("value", "baseline", "grade", "basis"),
    [
        (100.0, 80.0, 0, "uln"),
        (101.0, 80.0, 1, "uln"),
        (150.0, 100.0, 1, "uln"),  # 1.5 x ULN, 1.5 x baseline: both "up to 1.5"
        (151.0, 100.0, 2, "uln"),
        (91.0, 60.0, 2, "baseline"),  # below the ULN but >1.5 x baseline
        (181.0, 60.0, 3, "baseline"),  # ">3.0 x baseline" though only 1.8 x ULN
        (300.0, 100.0, 2, "uln"),
        (301.0, 120.0, 3, "uln"),
        (600.0, 250.0, 3, "uln"),
        (601.0, 250.0, 4, "uln"),
    ],
)
def test_creatinine_takes_the_higher_of_uln_and_baseline(value, baseline, grade, basis):
    result = grade_lab(Analyte.CREATININE, value, uln=100.0, baseline=baseline)
    assert (result.grade, result.basis) == (grade, basis)


# Proteinuria: G1 "1+ proteinuria; urinary protein >=ULN - <1.0 g/24 hrs"
# G2 "Adult: 2+ and 3+ proteinuria; urinary protein 1.0 - <3.5 g/24 hrs"
# G3 "Adult: Urinary protein >=3.5 g/24 hrs"
@pytest.mark.parametrize(
    ("value", "grade"), [(0.14, 0), (0.15, 1), (0.99, 1), (1.0, 2), (3.49, 2), (3.5, 3)]
)
def test_proteinuria_24h(value, grade):
    assert grade_lab(Analyte.PROTEINURIA_24H, value, uln=0.15).grade == grade


@pytest.mark.parametrize(
    ("reading", "grade"),
    [("negative", 0), ("trace", 0), ("1+", 1), ("2+", 2), ("3+", 2), ("4+", 2)],
)
def test_proteinuria_dipstick(reading, grade):
    result = grade_lab(Analyte.PROTEINURIA_DIPSTICK, reading)
    assert result.grade == grade
    if reading == "4+":
        assert "24-hour" in result.notes[0]


# Hypoalbuminemia: G1 "<LLN - 3 g/dL; <LLN - 30 g/L"; G2 "<3 - 2 g/dL; <30 - 20 g/L";
# G3 "<2 g/dL; <20 g/L"
@pytest.mark.parametrize(
    ("value", "grade"), [(35.0, 0), (34.9, 1), (30.0, 1), (29.9, 2), (19.9, 3)]
)
def test_albumin(value, grade):
    assert grade_lab(Analyte.ALBUMIN, value, lln=35.0).grade == grade


# INR increased: G1 ">1.2 - 1.5; >1 - 1.5 x baseline if on anticoagulation";
# G2 ">1.5 - 2.5; ..."; G3 ">2.5; >2.5 x baseline if on anticoagulation"
@pytest.mark.parametrize(
    ("value", "grade"), [(1.2, 0), (1.21, 1), (1.5, 1), (1.51, 2), (2.5, 2), (2.51, 3)]
)
def test_inr(value, grade):
    assert grade_lab(Analyte.INR, value).grade == grade


def test_inr_on_anticoagulation_uses_baseline():
    assert grade_lab(Analyte.INR, 2.6, baseline=2.0, on_anticoagulation=True).grade == 1
    assert grade_lab(Analyte.INR, 5.1, baseline=2.0, on_anticoagulation=True).grade == 3


def test_tsh_and_tumour_markers_are_not_graded():
    for analyte in (Analyte.TSH, Analyte.CA19_9, Analyte.CEA, Analyte.AFP):
        result = grade_lab(analyte, 99.0, uln=4.0)
        assert result.grade is None and result.notes


def test_missing_uln_is_not_graded_and_bad_input_is_refused():
    assert grade_lab(Analyte.ALT, 300.0).grade is None
    with pytest.raises(ValueError):
        grade_lab(Analyte.ALT, -1.0, uln=40.0)
    with pytest.raises(ValueError):
        grade_lab(Analyte.PROTEINURIA_DIPSTICK, "5+")


def test_reference_flag():
    assert reference_flag(3.0, lln=3.5, uln=9.5) == "L"
    assert reference_flag(9.6, lln=3.5, uln=9.5) == "H"
    assert reference_flag(9.5, lln=3.5, uln=9.5) == "N"
    assert reference_flag(9.5, lln=None, uln=None) == ""


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "canonical"),
    [
        ("bilirubin", 1.0, "mg/dL", 17.1),
        ("creatinine", 1.0, "mg/dL", 88.4),
        ("haemoglobin", 10.0, "g/dL", 100.0),
        ("haemoglobin", 6.2, "mmol/L", 99.882),  # CTCAE pairs 10.0 g/dL with 6.2 mmol/L
        ("platelets", 75000, "/mm3", 75.0),
        ("platelets", 75, "10*3/uL", 75.0),
        ("alt", 1.0, "ukat/L", 60.0),
        ("albumin", 3.5, "g/dL", 35.0),
        ("urine_protein_24h", 1500, "mg/(24.h)", 1.5),
    ],
)
def test_unit_conversion(analyte, value, unit, canonical):
    assert to_canonical(analyte, value, unit) == pytest.approx(canonical)
    assert from_canonical(analyte, canonical, unit) == pytest.approx(value)


def test_unknown_unit_is_refused_not_guessed():
    with pytest.raises(ValueError):
        to_canonical("bilirubin", 1.0, "g/L")
    assert units_for("bilirubin") == ["umol/L", "mg/dL"]
