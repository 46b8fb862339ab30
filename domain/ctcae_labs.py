"""CTCAE v5.0 grading of laboratory values (pure Python, no Django).

Source: Common Terminology Criteria for Adverse Events (CTCAE) Version 5.0, U.S.
Department of Health and Human Services, NIH / NCI, published 27 November 2017, section
"Investigations" (and "Blood and lymphatic system disorders" for anaemia). The grade text
of each analyte is quoted in ``CRITERIA`` and in the tests at every boundary.

Reading the CTCAE ranges
------------------------
CTCAE writes ranges as ``">3.0 - 5.0 x ULN"``: the lower end is exclusive, the upper end
inclusive (3.0 x ULN exactly is grade 1, 3.01 x ULN is grade 2). Decreases are written
``"<75.0 - 50.0 x 10e9 /L"``: below 75, down to and including 50. A grade beyond the last
laboratory threshold (e.g. anaemia grade 4 "life-threatening consequences") is a clinical
judgement: the engine never returns it.

Baseline
--------
For ALT, AST, alkaline phosphatase and bilirubin CTCAE v5.0 grades against the ULN "if
baseline was normal" and against the baseline value "if baseline was abnormal". A
``baseline`` above the ULN switches to the baseline multiples; a missing baseline is taken
as normal and the result says so in ``notes``. Creatinine gives both an ULN and a baseline
criterion at grades 2 and 3: the higher of the two grades is returned.

Every value is in the canonical unit of its analyte (``CANONICAL_UNITS``, UCUM codes);
convert first with :mod:`domain.lab_units`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

ENGINE_VERSION = "ctcae-5.0-labs-1.0"


class Analyte(StrEnum):
    ALT = "alt"
    AST = "ast"
    ALP = "alp"
    GGT = "ggt"
    BILIRUBIN = "bilirubin"
    ALBUMIN = "albumin"
    INR = "inr"
    PLATELETS = "platelets"
    NEUTROPHILS = "neutrophils"
    LYMPHOCYTES = "lymphocytes"
    WBC = "wbc"
    HAEMOGLOBIN = "haemoglobin"
    CREATININE = "creatinine"
    PROTEINURIA_24H = "urine_protein_24h"
    PROTEINURIA_DIPSTICK = "urine_protein_dipstick"
    TSH = "tsh"
    FT4 = "ft4"
    CA19_9 = "ca19_9"
    CEA = "cea"
    AFP = "afp"


#: Canonical (UCUM) unit in which each analyte is graded and stored.
CANONICAL_UNITS: dict[Analyte, str] = {
    Analyte.ALT: "U/L",
    Analyte.AST: "U/L",
    Analyte.ALP: "U/L",
    Analyte.GGT: "U/L",
    Analyte.BILIRUBIN: "umol/L",
    Analyte.ALBUMIN: "g/L",
    Analyte.INR: "{INR}",
    Analyte.PLATELETS: "10*9/L",
    Analyte.NEUTROPHILS: "10*9/L",
    Analyte.LYMPHOCYTES: "10*9/L",
    Analyte.WBC: "10*9/L",
    Analyte.HAEMOGLOBIN: "g/L",
    Analyte.CREATININE: "umol/L",
    Analyte.PROTEINURIA_24H: "g/(24.h)",
    Analyte.PROTEINURIA_DIPSTICK: "{dipstick}",
    Analyte.TSH: "m[IU]/L",
    Analyte.FT4: "pmol/L",
    Analyte.CA19_9: "[U]/mL",
    Analyte.CEA: "ug/L",
    Analyte.AFP: "ug/L",
}

#: CTCAE v5.0 term of the adverse event a graded value proposes.
CTCAE_TERMS: dict[Analyte, str] = {
    Analyte.ALT: "Alanine aminotransferase increased",
    Analyte.AST: "Aspartate aminotransferase increased",
    Analyte.ALP: "Alkaline phosphatase increased",
    Analyte.GGT: "GGT increased",
    Analyte.BILIRUBIN: "Blood bilirubin increased",
    Analyte.ALBUMIN: "Hypoalbuminemia",
    Analyte.INR: "INR increased",
    Analyte.PLATELETS: "Platelet count decreased",
    Analyte.NEUTROPHILS: "Neutrophil count decreased",
    Analyte.LYMPHOCYTES: "Lymphocyte count decreased",
    Analyte.WBC: "White blood cell decreased",
    Analyte.HAEMOGLOBIN: "Anemia",
    Analyte.CREATININE: "Creatinine increased",
    Analyte.PROTEINURIA_24H: "Proteinuria",
    Analyte.PROTEINURIA_DIPSTICK: "Proteinuria",
}

#: The CTCAE v5.0 text per grade, shown beside a computed grade.
CRITERIA: dict[Analyte, dict[int, str]] = {
    Analyte.ALT: {
        1: ">ULN - 3.0 x ULN if baseline was normal; 1.5 - 3.0 x baseline if baseline was abnormal",
        2: ">3.0 - 5.0 x ULN if baseline was normal; >3.0 - 5.0 x baseline if baseline was "
        "abnormal",
        3: ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was "
        "abnormal",
        4: ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
    },
    Analyte.ALP: {
        1: ">ULN - 2.5 x ULN if baseline was normal; 2.0 - 2.5 x baseline if baseline was abnormal",
        2: ">2.5 - 5.0 x ULN if baseline was normal; >2.5 - 5.0 x baseline if baseline was "
        "abnormal",
        3: ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was "
        "abnormal",
        4: ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
    },
    Analyte.BILIRUBIN: {
        1: ">ULN - 1.5 x ULN if baseline was normal; > 1.0 - 1.5 x baseline if baseline was "
        "abnormal",
        2: ">1.5 - 3.0 x ULN if baseline was normal; >1.5 - 3.0 x baseline if baseline was "
        "abnormal",
        3: ">3.0 - 10.0 x ULN if baseline was normal; >3.0 - 10.0 x baseline if baseline was "
        "abnormal",
        4: ">10.0 x ULN if baseline was normal; >10.0 x baseline if baseline was abnormal",
    },
    Analyte.ALBUMIN: {
        1: "<LLN - 3 g/dL; <LLN - 30 g/L",
        2: "<3 - 2 g/dL; <30 - 20 g/L",
        3: "<2 g/dL; <20 g/L",
    },
    Analyte.INR: {
        1: ">1.2 - 1.5; >1 - 1.5 x baseline if on anticoagulation",
        2: ">1.5 - 2.5; >1.5 - 2.5 x baseline if on anticoagulation",
        3: ">2.5; >2.5 x baseline if on anticoagulation",
    },
    Analyte.PLATELETS: {
        1: "<LLN - 75,000/mm3; <LLN - 75.0 x 10e9 /L",
        2: "<75,000 - 50,000/mm3; <75.0 - 50.0 x 10e9 /L",
        3: "<50,000 - 25,000/mm3; <50.0 - 25.0 x 10e9 /L",
        4: "<25,000/mm3; <25.0 x 10e9 /L",
    },
    Analyte.NEUTROPHILS: {
        1: "<LLN - 1500/mm3; <LLN - 1.5 x 10e9 /L",
        2: "<1500 - 1000/mm3; <1.5 - 1.0 x 10e9 /L",
        3: "<1000 - 500/mm3; <1.0 - 0.5 x 10e9 /L",
        4: "<500/mm3; <0.5 x 10e9 /L",
    },
    Analyte.LYMPHOCYTES: {
        1: "<LLN - 800/mm3; <LLN - 0.8 x 10e9/L",
        2: "<800 - 500/mm3; <0.8 - 0.5 x 10e9 /L",
        3: "<500 - 200/mm3; <0.5 - 0.2 x 10e9 /L",
        4: "<200/mm3; <0.2 x 10e9 /L",
    },
    Analyte.WBC: {
        1: "<LLN - 3000/mm3; <LLN - 3.0 x 10e9 /L",
        2: "<3000 - 2000/mm3; <3.0 - 2.0 x 10e9 /L",
        3: "<2000 - 1000/mm3; <2.0 - 1.0 x 10e9 /L",
        4: "<1000/mm3; <1.0 x 10e9 /L",
    },
    Analyte.HAEMOGLOBIN: {
        1: "Hemoglobin (Hgb) <LLN - 10.0 g/dL; <LLN - 6.2 mmol/L; <LLN - 100 g/L",
        2: "Hgb <10.0 - 8.0 g/dL; <6.2 - 4.9 mmol/L; <100 - 80g/L",
        3: "Hgb <8.0 g/dL; <4.9 mmol/L; <80 g/L; transfusion indicated",
    },
    Analyte.CREATININE: {
        1: ">ULN - 1.5 x ULN",
        2: ">1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN",
        3: ">3.0 x baseline; >3.0 - 6.0 x ULN",
        4: ">6.0 x ULN",
    },
    Analyte.PROTEINURIA_24H: {
        1: "1+ proteinuria; urinary protein >=ULN - <1.0 g/24 hrs",
        2: "Adult: 2+ and 3+ proteinuria; urinary protein 1.0 - <3.5 g/24 hrs",
        3: "Adult: Urinary protein >=3.5 g/24 hrs",
    },
}
CRITERIA[Analyte.AST] = CRITERIA[Analyte.ALT]
CRITERIA[Analyte.GGT] = CRITERIA[Analyte.ALP]
CRITERIA[Analyte.PROTEINURIA_DIPSTICK] = CRITERIA[Analyte.PROTEINURIA_24H]

#: Analytes CTCAE v5.0 does not grade from the value (the AE is a clinical diagnosis).
NOT_GRADED_REASONS: dict[Analyte, str] = {
    Analyte.TSH: "CTCAE v5.0 grades hypothyroidism and hyperthyroidism by symptoms and "
    "treatment, not by TSH: flagged against the reference range only.",
    Analyte.FT4: "CTCAE v5.0 grades thyroid disorders clinically, not by free T4.",
    Analyte.CA19_9: "Tumour marker: not an adverse event.",
    Analyte.CEA: "Tumour marker: not an adverse event.",
    Analyte.AFP: "Tumour marker: not an adverse event.",
}

DIPSTICK_VALUES = ("negative", "trace", "1+", "2+", "3+", "4+")

GRADABLE = frozenset(CRITERIA)


@dataclass(frozen=True)
class LabGrade:
    """Grade 0 is "within the criteria of no grade"; ``None`` means not gradable here."""

    analyte: str
    grade: int | None
    term: str | None
    criterion: str | None  # CTCAE text of the grade reached
    basis: str  # "uln", "lln", "baseline", "absolute", "dipstick" or "" when not graded
    notes: tuple[str, ...] = field(default_factory=tuple)
    engine_version: str = ENGINE_VERSION


def _number(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{name}: not a number ({value!r})")
    if value < 0:
        raise ValueError(f"{name}: must not be negative ({value!r})")
    return float(value)


def _increase(ratio: float, g1_from: float, cuts: tuple[float, float, float]) -> int:
    """Grade of an increase: ``g1_from`` is the lower end of grade 1 (exclusive if ULN
    based, see the callers) and ``cuts`` the inclusive upper ends of grades 1, 2, 3."""
    if ratio <= g1_from:
        return 0
    g1_max, g2_max, g3_max = cuts
    if ratio <= g1_max:
        return 1
    if ratio <= g2_max:
        return 2
    if ratio <= g3_max:
        return 3
    return 4


def _decrease(value: float, lln: float | None, cuts: tuple[float, ...]) -> tuple[int | None, str]:
    """Grade of a decrease: ``cuts`` are the inclusive lower ends of grades 1, 2, (3): a
    value below the last cut is the next grade. Grade 1 starts below the LLN, so without
    an LLN a value at or above the grade 1 floor cannot be graded (0 or 1 is unknown)."""
    if lln is not None and value >= lln:
        return 0, ""
    if lln is None and value >= cuts[0]:
        return None, "The LLN is needed to tell grade 0 from grade 1."
    grade = 1
    for cut in cuts:
        if value >= cut:
            return grade, ""
        grade += 1
    return grade, ""


def grade_lab(
    analyte: Analyte | str,
    value: float | str | None,
    *,
    uln: float | None = None,
    lln: float | None = None,
    baseline: float | None = None,
    on_anticoagulation: bool = False,
) -> LabGrade:
    """CTCAE v5.0 grade of one value (canonical unit) of ``analyte``.

    ``uln`` / ``lln`` come from the site laboratory's reference range in effect on the
    collection date. ``baseline`` is the patient's baseline value of the analyte (ALT, AST,
    ALP, GGT, bilirubin: graded against the baseline when it was above the ULN; creatinine:
    the baseline criteria of grades 2 and 3; INR: only with ``on_anticoagulation``).
    """
    analyte = Analyte(analyte)
    if analyte in NOT_GRADED_REASONS:
        return LabGrade(analyte, None, None, None, "", (NOT_GRADED_REASONS[analyte],))
    term = CTCAE_TERMS[analyte]
    if value is None:
        return LabGrade(analyte, None, term, None, "", ("No value.",))
    if analyte is Analyte.PROTEINURIA_DIPSTICK:
        return _grade_dipstick(str(value))
    if isinstance(value, str):
        raise ValueError(f"{analyte}: a number is needed ({value!r})")
    v = _number("value", value)
    uln_v = _number("uln", uln)
    lln_v = _number("lln", lln)
    base = _number("baseline", baseline)
    assert v is not None
    notes: list[str] = []
    grade: int | None
    basis: str

    if analyte in (Analyte.ALT, Analyte.AST, Analyte.ALP, Analyte.GGT, Analyte.BILIRUBIN):
        if not uln_v:
            return LabGrade(analyte, None, term, None, "", ("The ULN is needed to grade.",))
        cuts = {
            Analyte.ALT: (3.0, 5.0, 20.0),
            Analyte.AST: (3.0, 5.0, 20.0),
            Analyte.ALP: (2.5, 5.0, 20.0),
            Analyte.GGT: (2.5, 5.0, 20.0),
            Analyte.BILIRUBIN: (1.5, 3.0, 10.0),
        }[analyte]
        # Lower end of grade 1 when baseline was abnormal: 1.5 (ALT/AST, inclusive),
        # 2.0 (ALP/GGT, inclusive), > 1.0 (bilirubin, exclusive).
        abnormal_from = {
            Analyte.ALT: 1.5,
            Analyte.AST: 1.5,
            Analyte.ALP: 2.0,
            Analyte.GGT: 2.0,
            Analyte.BILIRUBIN: 1.0,
        }[analyte]
        if base is not None and base > uln_v:
            basis = "baseline"
            ratio = v / base
            if analyte is Analyte.BILIRUBIN:
                grade = _increase(ratio, abnormal_from, cuts)
            else:
                grade = 0 if ratio < abnormal_from else max(1, _increase(ratio, 0.0, cuts))
        else:
            basis = "uln"
            if base is None:
                notes.append("No baseline value: graded as if baseline was normal.")
            grade = _increase(v / uln_v, 1.0, cuts)
    elif analyte is Analyte.CREATININE:
        if not uln_v:
            return LabGrade(analyte, None, term, None, "", ("The ULN is needed to grade.",))
        basis = "uln"
        grade = _increase(v / uln_v, 1.0, (1.5, 3.0, 6.0))
        if base:
            ratio = v / base
            by_baseline = 3 if ratio > 3.0 else (2 if ratio > 1.5 else 0)
            if by_baseline > grade:
                grade, basis = by_baseline, "baseline"
        else:
            notes.append("No baseline value: graded against the ULN only.")
    elif analyte is Analyte.INR:
        if on_anticoagulation:
            if not base:
                return LabGrade(
                    analyte, None, term, None, "", ("On anticoagulation: a baseline is needed.",)
                )
            basis, ratio = "baseline", v / base
            grade = 0 if ratio <= 1.0 else (1 if ratio <= 1.5 else (2 if ratio <= 2.5 else 3))
        else:
            basis = "absolute"
            grade = 0 if v <= 1.2 else (1 if v <= 1.5 else (2 if v <= 2.5 else 3))
    elif analyte is Analyte.PROTEINURIA_24H:
        basis = "absolute"
        if v < 1.0 and uln_v is None:
            grade = None
            notes.append("The ULN is needed to tell grade 0 from grade 1.")
        elif v < 1.0:
            assert uln_v is not None  # noqa: S101 (the branch above)
            grade = 0 if v < uln_v else 1
        elif v < 3.5:
            grade = 2
        else:
            grade = 3
    else:
        decrease_cuts: dict[Analyte, tuple[float, ...]] = {
            Analyte.PLATELETS: (75.0, 50.0, 25.0),
            Analyte.NEUTROPHILS: (1.5, 1.0, 0.5),
            Analyte.LYMPHOCYTES: (0.8, 0.5, 0.2),
            Analyte.WBC: (3.0, 2.0, 1.0),
            Analyte.HAEMOGLOBIN: (100.0, 80.0),
            Analyte.ALBUMIN: (30.0, 20.0),
        }
        basis = "lln"
        grade, note = _decrease(v, lln_v, decrease_cuts[analyte])
        if note:
            notes.append(note)
        if analyte is Analyte.HAEMOGLOBIN and grade == 3:
            notes.append("Grade 4 (life-threatening consequences) is a clinical judgement.")
    criterion = CRITERIA[analyte].get(grade) if grade else None
    return LabGrade(analyte, grade, term, criterion, basis, tuple(notes))


def _grade_dipstick(value: str) -> LabGrade:
    analyte = Analyte.PROTEINURIA_DIPSTICK
    term = CTCAE_TERMS[analyte]
    reading = value.strip().lower()
    if reading not in DIPSTICK_VALUES:
        raise ValueError(f"dipstick: one of {', '.join(DIPSTICK_VALUES)} ({value!r})")
    notes: tuple[str, ...] = ()
    if reading in ("negative", "trace"):
        grade = 0
    elif reading == "1+":
        grade = 1
    else:
        grade = 2
        if reading == "4+":
            notes = (
                "CTCAE v5.0 defines grade 3 only by 24-hour urine protein >= 3.5 g: "
                "quantify to grade above 2.",
            )
    criterion = CRITERIA[analyte].get(grade) if grade else None
    return LabGrade(analyte, grade, term, criterion, "dipstick", notes)


def reference_flag(value: float, *, lln: float | None, uln: float | None) -> str:
    """ "L" below the LLN, "H" above the ULN, "N" within, "" without a range."""
    if lln is None and uln is None:
        return ""
    if lln is not None and value < lln:
        return "L"
    if uln is not None and value > uln:
        return "H"
    return "N"
