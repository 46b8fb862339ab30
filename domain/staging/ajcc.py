"""AJCC Cancer Staging Manual, 8th edition (Amin MB et al., Springer 2017):
chapter 22 (liver: hepatocellular carcinoma) and chapter 23 (intrahepatic bile ducts).

Liver (HCC), T category:
  T1a solitary tumour <= 2 cm, with or without vascular invasion
  T1b solitary tumour > 2 cm without vascular invasion
  T2  solitary tumour > 2 cm with vascular invasion, or multiple tumours, none > 5 cm
  T3  multiple tumours, at least one > 5 cm
  T4  tumour(s) involving a major branch of the portal or hepatic vein, or directly
      invading adjacent organs other than the gallbladder, or perforating the visceral
      peritoneum
Stage groups: IA T1a N0 M0; IB T1b N0 M0; II T2 N0 M0; IIIA T3 N0 M0; IIIB T4 N0 M0;
IVA any T N1 M0; IVB any T any N M1.

Intrahepatic bile ducts (iCCA), T category:
  Tis carcinoma in situ (intraductal tumour)
  T1a solitary tumour <= 5 cm without vascular invasion
  T1b solitary tumour > 5 cm without vascular invasion
  T2  solitary tumour with intrahepatic vascular invasion, or multiple tumours with or
      without vascular invasion
  T3  tumour perforating the visceral peritoneum
  T4  tumour directly invading local extrahepatic structures
Stage groups: 0 Tis N0 M0; IA T1a N0 M0; IB T1b N0 M0; II T2 N0 M0; IIIA T3 N0 M0;
IIIB T4 N0 M0 or any T N1 M0; IV any T any N M1.

Sizes are taken in millimetres (the pathology and imaging forms record mm); 2 cm = 20 mm.
"""

from __future__ import annotations

from .base import StagingResult, count, flag, number

ENGINE_VERSION = "ajcc8-1.0"

LIVER = "AJCC8_LIVER"
ICC = "AJCC8_ICC"

_LIVER_STAGE = {"T1a": "IA", "T1b": "IB", "T2": "II", "T3": "IIIA", "T4": "IIIB"}
_ICC_STAGE = {"Tis": "0", "T1a": "IA", "T1b": "IB", "T2": "II", "T3": "IIIA", "T4": "IIIB"}


def _nodes_metastasis(
    nodes_positive: bool | None, metastasis: bool | None
) -> tuple[str | None, str | None]:
    n = None if nodes_positive is None else ("N1" if nodes_positive else "N0")
    m = None if metastasis is None else ("M1" if metastasis else "M0")
    return n, m


def _result(
    system: str,
    t: str | None,
    n: str | None,
    m: str | None,
    inputs: dict,
    table: dict,
    *,
    n1_stage: str,
    m1_stage: str,
) -> StagingResult:  # noqa: E501
    components = {k: v for k, v in (("T", t), ("N", n), ("M", m)) if v is not None}
    # M1 decides the stage whatever T and N are; N1 whatever T is.
    if m == "M1":
        return StagingResult(system, m1_stage, inputs, ENGINE_VERSION, (), components, ("M1",))
    missing = tuple(k for k, v in (("T", t), ("N", n), ("M", m)) if v is None)
    if n == "N1" and m == "M0":
        return StagingResult(system, n1_stage, inputs, ENGINE_VERSION, (), components, ("N1 M0",))
    if missing:
        return StagingResult(system, None, inputs, ENGINE_VERSION, missing, components)
    return StagingResult(system, table[t], inputs, ENGINE_VERSION, (), components, (f"{t} N0 M0",))


def liver_t(
    *,
    tumour_count: int | None,
    largest_size_mm: float | None,
    vascular_invasion: bool | None,
    major_vessel_or_organ_invasion: bool | None,
) -> str | None:
    """T category of the liver chapter, or None when an input it needs is missing."""
    if major_vessel_or_organ_invasion:
        return "T4"
    if tumour_count is None or largest_size_mm is None or major_vessel_or_organ_invasion is None:
        return None
    if tumour_count == 1:
        if largest_size_mm <= 20:
            return "T1a"
        if vascular_invasion is None:
            return None
        return "T2" if vascular_invasion else "T1b"
    return "T3" if largest_size_mm > 50 else "T2"


def ajcc_liver(
    *,
    tumour_count: int | None,
    largest_size_mm: float | None,
    vascular_invasion: bool | None,
    major_vessel_or_organ_invasion: bool | None,
    nodes_positive: bool | None,
    metastasis: bool | None,
) -> StagingResult:
    """AJCC 8th edition TNM and stage group for hepatocellular carcinoma."""
    count_ = count("tumour_count", tumour_count)
    size = number("largest_size_mm", largest_size_mm)
    inputs = {
        "tumour_count": count_,
        "largest_size_mm": size,
        "vascular_invasion": flag("vascular_invasion", vascular_invasion),
        "major_vessel_or_organ_invasion": flag(
            "major_vessel_or_organ_invasion", major_vessel_or_organ_invasion
        ),
        "nodes_positive": flag("nodes_positive", nodes_positive),
        "metastasis": flag("metastasis", metastasis),
    }
    t = liver_t(
        tumour_count=count_,
        largest_size_mm=size,
        vascular_invasion=vascular_invasion,
        major_vessel_or_organ_invasion=major_vessel_or_organ_invasion,
    )
    n, m = _nodes_metastasis(nodes_positive, metastasis)
    return _result(LIVER, t, n, m, inputs, _LIVER_STAGE, n1_stage="IVA", m1_stage="IVB")


def icc_t(
    *,
    in_situ: bool,
    tumour_count: int | None,
    largest_size_mm: float | None,
    vascular_invasion: bool | None,
    peritoneum_perforated: bool | None,
    extrahepatic_invasion: bool | None,
) -> str | None:
    if extrahepatic_invasion:
        return "T4"
    if peritoneum_perforated:
        return "T3"
    if in_situ:
        return "Tis"
    if tumour_count is None or extrahepatic_invasion is None or peritoneum_perforated is None:
        return None
    if tumour_count > 1:
        return "T2"
    if vascular_invasion is None:
        return None
    if vascular_invasion:
        return "T2"
    if largest_size_mm is None:
        return None
    return "T1a" if largest_size_mm <= 50 else "T1b"


def ajcc_icc(
    *,
    tumour_count: int | None,
    largest_size_mm: float | None,
    vascular_invasion: bool | None,
    peritoneum_perforated: bool | None,
    extrahepatic_invasion: bool | None,
    nodes_positive: bool | None,
    metastasis: bool | None,
    in_situ: bool = False,
) -> StagingResult:
    """AJCC 8th edition TNM and stage group for intrahepatic cholangiocarcinoma."""
    count_ = count("tumour_count", tumour_count)
    size = number("largest_size_mm", largest_size_mm)
    inputs = {
        "in_situ": bool(flag("in_situ", in_situ)),
        "tumour_count": count_,
        "largest_size_mm": size,
        "vascular_invasion": flag("vascular_invasion", vascular_invasion),
        "peritoneum_perforated": flag("peritoneum_perforated", peritoneum_perforated),
        "extrahepatic_invasion": flag("extrahepatic_invasion", extrahepatic_invasion),
        "nodes_positive": flag("nodes_positive", nodes_positive),
        "metastasis": flag("metastasis", metastasis),
    }
    t = icc_t(
        in_situ=bool(in_situ),
        tumour_count=count_,
        largest_size_mm=size,
        vascular_invasion=vascular_invasion,
        peritoneum_perforated=peritoneum_perforated,
        extrahepatic_invasion=extrahepatic_invasion,
    )
    n, m = _nodes_metastasis(nodes_positive, metastasis)
    return _result(ICC, t, n, m, inputs, _ICC_STAGE, n1_stage="IIIB", m1_stage="IV")
