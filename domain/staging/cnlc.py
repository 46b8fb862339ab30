"""China liver cancer staging (CNLC), from the Guidelines for the Diagnosis and Treatment
of Primary Liver Cancer (2022 edition), National Health Commission of the PRC
(English: Zhou J et al., Liver Cancer 2023;12:405-44), for hepatocellular carcinoma.

  Ia    PS 0-2, Child-Pugh A/B, single tumour <= 5 cm, no vascular invasion or
        extrahepatic metastasis
  Ib    PS 0-2, Child-Pugh A/B, single tumour > 5 cm, or 2-3 tumours each <= 3 cm,
        no vascular invasion or extrahepatic metastasis
  IIa   PS 0-2, Child-Pugh A/B, 2-3 tumours, largest > 3 cm, no vascular invasion or
        extrahepatic metastasis
  IIb   PS 0-2, Child-Pugh A/B, >= 4 tumours whatever the size, no vascular invasion or
        extrahepatic metastasis
  IIIa  PS 0-2, Child-Pugh A/B, vascular invasion (tumour thrombus), no extrahepatic
        metastasis
  IIIb  PS 0-2, Child-Pugh A/B, extrahepatic metastasis with or without vascular invasion
  IV    PS 3-4, or Child-Pugh C, any tumour
"""

from __future__ import annotations

from .base import StagingResult, choice, count, flag, number

ENGINE_VERSION = "cnlc2022-1.0"
SYSTEM = "CNLC"


def cnlc(
    *,
    tumour_count: int | None,
    largest_size_mm: float | None,
    vascular_invasion: bool | None,
    extrahepatic_metastasis: bool | None,
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
        "vascular_invasion": flag("vascular_invasion", vascular_invasion),
        "extrahepatic_metastasis": flag("extrahepatic_metastasis", extrahepatic_metastasis),
        "child_pugh_class": cp,
        "ecog": ecog,
    }

    def done(value: str, reason: str) -> StagingResult:
        return StagingResult(SYSTEM, value, inputs, ENGINE_VERSION, reasons=(reason,))

    if cp == "C" or (ecog is not None and ecog > 2):
        return done("IV", "PS 3-4 or Child-Pugh C")
    host_missing = tuple(k for k in ("child_pugh_class", "ecog") if inputs[k] is None)
    if host_missing:  # PS 3-4 or Child-Pugh C would make any tumour stage IV
        missing = tuple(k for k, v in inputs.items() if v is None)
        return StagingResult(SYSTEM, None, inputs, ENGINE_VERSION, missing)
    if extrahepatic_metastasis:
        return done("IIIb", "extrahepatic metastasis")
    missing = tuple(k for k, v in inputs.items() if v is None and k != "extrahepatic_metastasis")
    if extrahepatic_metastasis is None:
        missing = (*missing, "extrahepatic_metastasis")
    if missing:
        return StagingResult(SYSTEM, None, inputs, ENGINE_VERSION, missing)
    assert count_ is not None and size is not None  # noqa: S101 (narrowed by ``missing``)
    if vascular_invasion:
        return done("IIIa", "vascular invasion, no extrahepatic metastasis")
    if count_ == 1:
        return (
            done("Ia", "single tumour <= 5 cm")
            if size <= 50
            else done("Ib", "single tumour > 5 cm")
        )
    if count_ <= 3:
        if size <= 30:
            return done("Ib", "2-3 tumours, each <= 3 cm")
        return done("IIa", "2-3 tumours, largest > 3 cm")
    return done("IIb", ">= 4 tumours")
