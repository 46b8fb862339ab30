"""Barcelona Clinic Liver Cancer staging, 2022 update (Reig M et al., J Hepatol
2022;76:681-93), for hepatocellular carcinoma.

  0  very early: single tumour <= 2 cm, preserved liver function, ECOG 0
  A  early: single tumour (any size) or <= 3 nodules each <= 3 cm, preserved liver
     function, ECOG 0
  B  intermediate: multinodular, preserved liver function, ECOG 0
  C  advanced: portal invasion and/or extrahepatic spread, preserved liver function,
     ECOG 1-2
  D  terminal: end-stage liver function or ECOG > 2, any tumour burden

"Preserved liver function" is read as Child-Pugh A or B without decompensation needing a
transplant decision; end-stage liver function as Child-Pugh C (the 2022 paper dropped the
strict Child-Pugh class from the figure; the registry records Child-Pugh, so this engine
states the reading it applies). Performance status 1-2 puts a patient in C whatever the
tumour burden (the paper: "cancer-related symptoms, ECOG 1-2").
"""

from __future__ import annotations

from .base import StagingResult, choice, count, flag, number

ENGINE_VERSION = "bclc2022-1.0"
SYSTEM = "BCLC"


def bclc(
    *,
    tumour_count: int | None,
    largest_size_mm: float | None,
    macrovascular_invasion: bool | None,
    extrahepatic_spread: bool | None,
    child_pugh_class: str | None,
    ecog: int | None,
) -> StagingResult:
    count_ = count("tumour_count", tumour_count)
    size = number("largest_size_mm", largest_size_mm)
    cp = choice("child_pugh_class", child_pugh_class, ("A", "B", "C"))
    if ecog is not None and (
        isinstance(ecog, bool) or not isinstance(ecog, int) or not 0 <= ecog <= 4
    ):
        raise ValueError(f"ecog: a whole number from 0 to 4 ({ecog!r})")
    inputs: dict[str, object] = {
        "tumour_count": count_,
        "largest_size_mm": size,
        "macrovascular_invasion": flag("macrovascular_invasion", macrovascular_invasion),
        "extrahepatic_spread": flag("extrahepatic_spread", extrahepatic_spread),
        "child_pugh_class": cp,
        "ecog": ecog,
    }

    def done(value: str, reason: str) -> StagingResult:
        return StagingResult(SYSTEM, value, inputs, ENGINE_VERSION, reasons=(reason,))

    if cp == "C":
        return done("D", "end-stage liver function (Child-Pugh C)")
    if ecog is not None and ecog > 2:
        return done("D", "ECOG 3-4")
    missing = tuple(k for k, v in inputs.items() if v is None)
    if missing:
        return StagingResult(SYSTEM, None, inputs, ENGINE_VERSION, missing)
    assert count_ is not None and size is not None  # noqa: S101 (narrowed by ``missing``)
    if macrovascular_invasion or extrahepatic_spread:
        return done("C", "portal invasion and/or extrahepatic spread")
    if ecog in (1, 2):
        return done("C", "ECOG 1-2")
    if count_ == 1 and size <= 20:
        return done("0", "single tumour <= 2 cm")
    if count_ == 1 or (count_ <= 3 and size <= 30):
        return done("A", "single tumour, or <= 3 nodules each <= 3 cm")
    return done("B", "multinodular")
