"""Liver function scores: Child-Pugh (Child-Turcotte-Pugh) and ALBI (pure Python, no Django).

Both are used by the trials (eligibility "Child-Pugh A", visit-by-visit liver function on
lenvatinib) and by the national registry (staging inputs for BCLC and CNLC), so they live
here once and every caller stores the returned inputs, value and engine version.

Sources
-------
Child-Pugh: Pugh RN et al., Br J Surg 1973;60:646-9, with the INR form in common use
(EASL Clinical Practice Guidelines: management of hepatocellular carcinoma, J Hepatol
2018;69:182-236). Points per component:

=====================  ==========  ==================  ===================
component              1 point     2 points            3 points
=====================  ==========  ==================  ===================
total bilirubin        < 2 mg/dL   2-3 mg/dL           > 3 mg/dL
  (cholestatic: PBC /  < 4 mg/dL   4-10 mg/dL          > 10 mg/dL)
  PSC modification)
albumin                > 3.5 g/dL  2.8-3.5 g/dL        < 2.8 g/dL
INR                    < 1.7       1.7-2.3             > 2.3
ascites                none        mild                moderate to severe
hepatic encephalopathy none        grade 1-2           grade 3-4
=====================  ==========  ==================  ===================

Class A = 5-6 points, B = 7-9, C = 10-15. The middle ranges include both ends
(bilirubin exactly 2 or 3 mg/dL scores 2). Bilirubin 1 mg/dL = 17.1 µmol/L; albumin
1 g/dL = 10 g/L.

ALBI: Johnson PJ et al., J Clin Oncol 2015;33:550-8.
linear predictor = 0.66 x log10(bilirubin µmol/L) - 0.085 x albumin g/L;
grade 1 <= -2.60 < grade 2 <= -1.39 < grade 3.
Modified ALBI (Hiraoka A et al., Liver Cancer 2017;6:325-36) splits grade 2 at -2.27:
2a <= -2.27 < 2b.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

ENGINE_VERSION = "liver-function-1.0"

BILIRUBIN_UMOL_PER_MG_DL = 17.1
ALBUMIN_G_L_PER_G_DL = 10.0


class Ascites(StrEnum):
    NONE = "none"
    MILD = "mild"  # slight, or controlled with diuretics
    MODERATE_SEVERE = "moderate_severe"  # tense, or despite diuretics


class Encephalopathy(StrEnum):
    NONE = "none"
    GRADE_1_2 = "grade_1_2"  # or suppressed with medication
    GRADE_3_4 = "grade_3_4"  # or refractory


_ASCITES_POINTS = {Ascites.NONE: 1, Ascites.MILD: 2, Ascites.MODERATE_SEVERE: 3}
_ENCEPHALOPATHY_POINTS = {
    Encephalopathy.NONE: 1,
    Encephalopathy.GRADE_1_2: 2,
    Encephalopathy.GRADE_3_4: 3,
}


def bilirubin_mg_dl(umol_l: float) -> float:
    """Total bilirubin from µmol/L to mg/dL."""
    return umol_l / BILIRUBIN_UMOL_PER_MG_DL


def bilirubin_umol_l(mg_dl: float) -> float:
    """Total bilirubin from mg/dL to µmol/L."""
    return mg_dl * BILIRUBIN_UMOL_PER_MG_DL


def _check(name: str, value: float | None, *, positive: bool = True) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{name}: not a number ({value!r})")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name}: must be greater than zero ({value!r})")
    return float(value)


@dataclass(frozen=True)
class ChildPughResult:
    """Points per component, total and class; ``missing`` names absent inputs.

    With any input missing ``score`` and ``grade`` are None: a class is never guessed.
    """

    score: int | None
    grade: str | None  # "A", "B" or "C"
    points: dict[str, int]
    inputs: dict[str, object]
    missing: tuple[str, ...]
    cholestatic: bool
    engine_version: str = ENGINE_VERSION

    @property
    def label(self) -> str | None:
        """``"A6"`` style label used in protocols and staging (class + score)."""
        return f"{self.grade}{self.score}" if self.grade else None


def child_pugh(
    *,
    bilirubin_umol_l: float | None,
    albumin_g_l: float | None,
    inr: float | None,
    ascites: Ascites | str | None,
    encephalopathy: Encephalopathy | str | None,
    cholestatic: bool = False,
) -> ChildPughResult:
    """Child-Pugh score from SI-unit labs and the two clinical grades.

    ``cholestatic`` applies the bilirubin thresholds for primary biliary / primary sclerosing
    cholangitis (1-4-10 mg/dL), which a protocol may choose for cholangiocarcinoma with
    biliary obstruction; the default is the standard table.
    """
    bili = _check("bilirubin_umol_l", bilirubin_umol_l)
    alb = _check("albumin_g_l", albumin_g_l)
    inr_v = _check("inr", inr)
    asc = Ascites(ascites) if ascites is not None else None
    enc = Encephalopathy(encephalopathy) if encephalopathy is not None else None

    points: dict[str, int] = {}
    if bili is not None:
        mg = bilirubin_mg_dl(bili)
        low, high = (4.0, 10.0) if cholestatic else (2.0, 3.0)
        points["bilirubin"] = 1 if mg < low else (2 if mg <= high else 3)
    if alb is not None:
        g_dl = alb / ALBUMIN_G_L_PER_G_DL
        points["albumin"] = 1 if g_dl > 3.5 else (2 if g_dl >= 2.8 else 3)
    if inr_v is not None:
        points["inr"] = 1 if inr_v < 1.7 else (2 if inr_v <= 2.3 else 3)
    if asc is not None:
        points["ascites"] = _ASCITES_POINTS[asc]
    if enc is not None:
        points["encephalopathy"] = _ENCEPHALOPATHY_POINTS[enc]

    inputs: dict[str, object] = {
        "bilirubin_umol_l": bili,
        "albumin_g_l": alb,
        "inr": inr_v,
        "ascites": asc.value if asc else None,
        "encephalopathy": enc.value if enc else None,
    }
    missing = tuple(k for k, v in inputs.items() if v is None)
    if missing:
        return ChildPughResult(None, None, points, inputs, missing, cholestatic)
    score = sum(points.values())
    grade = "A" if score <= 6 else ("B" if score <= 9 else "C")
    return ChildPughResult(score, grade, points, inputs, (), cholestatic)


@dataclass(frozen=True)
class AlbiResult:
    score: float | None
    grade: int | None  # 1, 2 or 3
    modified_grade: str | None  # "1", "2a", "2b" or "3"
    inputs: dict[str, float | None] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    engine_version: str = ENGINE_VERSION


ALBI_GRADE_1_MAX = -2.60
ALBI_GRADE_2_MAX = -1.39
MALBI_2A_MAX = -2.27


def albi(*, bilirubin_umol_l: float | None, albumin_g_l: float | None) -> AlbiResult:
    """ALBI linear predictor (rounded to 2 decimals, as published) and grades.

    The grade is decided on the rounded score, as clinicians read it off a calculator.
    """
    bili = _check("bilirubin_umol_l", bilirubin_umol_l)
    alb = _check("albumin_g_l", albumin_g_l)
    inputs = {"bilirubin_umol_l": bili, "albumin_g_l": alb}
    missing = tuple(k for k, v in inputs.items() if v is None)
    if missing:
        return AlbiResult(None, None, None, inputs, missing)
    assert bili is not None and alb is not None  # noqa: S101 (narrowed by ``missing``)
    score = round(0.66 * math.log10(bili) - 0.085 * alb, 2)
    if score <= ALBI_GRADE_1_MAX:
        grade, modified = 1, "1"
    elif score <= ALBI_GRADE_2_MAX:
        grade, modified = 2, ("2a" if score <= MALBI_2A_MAX else "2b")
    else:
        grade, modified = 3, "3"
    return AlbiResult(score, grade, modified, inputs, ())
