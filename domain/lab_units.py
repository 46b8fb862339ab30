"""Unit conversion of laboratory values to each analyte's canonical UCUM unit.

An explicit table, not a general units library: the conversions that matter here
(bilirubin mg/dL <-> µmol/L, creatinine mg/dL <-> µmol/L, haemoglobin mmol/L <-> g/L)
go between mass and amount of substance and depend on each analyte's molar mass, which a
dimensional library such as ``pint`` cannot know; the count units (``10*9/L``,
``/mm3``) and the UCUM arbitrary units (``{INR}``, ``[U]/mL``) are not in its registry
either. Each factor below is the one published with the analyte:

- bilirubin: 1 mg/dL = 17.1 µmol/L (molar mass 584.7 g/mol; the same factor as
  ``domain.liver_function``);
- creatinine: 1 mg/dL = 88.4 µmol/L (113.1 g/mol);
- haemoglobin: 1 g/dL = 10 g/L; 1 mmol/L (monomer, 16.1 kg/mol) = 16.11 g/L, the
  factor behind CTCAE's "<LLN - 10.0 g/dL; <LLN - 6.2 mmol/L";
- albumin: 1 g/dL = 10 g/L;
- cell counts: 1 10*3/uL = 1 10*9/L; /mm3 = /uL, so 1 /mm3 = 0.001 10*9/L;
- enzymes: U/L = IU/L; 1 µkat/L = 60 U/L;
- urine protein: mg/(24.h) / 1000 = g/(24.h);
- TSH: 1 u[IU]/mL = 1 m[IU]/L; free T4: 1 ng/dL = 12.87 pmol/L;
- CEA and AFP: 1 ng/mL = 1 ug/L; AFP 1 [IU]/mL = 1.21 ng/mL (WHO 72/225 standard).
"""

from __future__ import annotations

import math

from .ctcae_labs import CANONICAL_UNITS, Analyte

#: (analyte, unit) -> factor to multiply by to get the canonical unit.
_FACTORS: dict[tuple[Analyte, str], float] = {
    (Analyte.BILIRUBIN, "mg/dL"): 17.1,
    (Analyte.CREATININE, "mg/dL"): 88.4,
    (Analyte.HAEMOGLOBIN, "g/dL"): 10.0,
    (Analyte.HAEMOGLOBIN, "mmol/L"): 16.11,
    (Analyte.ALBUMIN, "g/dL"): 10.0,
    (Analyte.PROTEINURIA_24H, "mg/(24.h)"): 0.001,
    (Analyte.TSH, "u[IU]/mL"): 1.0,
    (Analyte.FT4, "ng/dL"): 12.87,
    (Analyte.CEA, "ng/mL"): 1.0,
    (Analyte.AFP, "ng/mL"): 1.0,
    (Analyte.AFP, "[IU]/mL"): 1.21,
    (Analyte.CA19_9, "U/mL"): 1.0,
}
for _count in (Analyte.PLATELETS, Analyte.NEUTROPHILS, Analyte.LYMPHOCYTES, Analyte.WBC):
    _FACTORS[(_count, "10*3/uL")] = 1.0
    _FACTORS[(_count, "/mm3")] = 0.001
    _FACTORS[(_count, "/uL")] = 0.001
for _enzyme in (Analyte.ALT, Analyte.AST, Analyte.ALP, Analyte.GGT):
    _FACTORS[(_enzyme, "[IU]/L")] = 1.0
    _FACTORS[(_enzyme, "ukat/L")] = 60.0


def units_for(analyte: Analyte | str) -> list[str]:
    """Units accepted for ``analyte``: the canonical one first."""
    analyte = Analyte(analyte)
    return [CANONICAL_UNITS[analyte], *(u for (a, u) in _FACTORS if a is analyte)]


def to_canonical(analyte: Analyte | str, value: float, unit: str) -> float:
    """``value`` in ``unit`` expressed in the canonical unit of ``analyte``.

    Raises ``ValueError`` for a unit the table does not know for this analyte, never
    guesses.
    """
    analyte = Analyte(analyte)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"not a number ({value!r})")
    if unit == CANONICAL_UNITS[analyte]:
        return float(value)
    factor = _FACTORS.get((analyte, unit))
    if factor is None:
        raise ValueError(f"{unit!r} is not a unit of {analyte.value}")
    return float(value) * factor


def from_canonical(analyte: Analyte | str, value: float, unit: str) -> float:
    """Inverse of :func:`to_canonical`."""
    analyte = Analyte(analyte)
    if unit == CANONICAL_UNITS[analyte]:
        return float(value)
    factor = _FACTORS.get((analyte, unit))
    if factor is None:
        raise ValueError(f"{unit!r} is not a unit of {analyte.value}")
    return float(value) / factor
