"""The default criteria of the flagship cryoablation iCCA trial."""

from __future__ import annotations

from typing import Any, Final

from .base import _NO_VALUE_OPS, AppliesTo, CriterionKind
from .screening import Criterion

# ---------------------------------------------------------------------------
# Default criteria of the flagship cryoablation iCCA trial
# ---------------------------------------------------------------------------


def _leaf(field_name: str, op: str, value: Any = None) -> dict[str, Any]:
    node: dict[str, Any] = {"field": field_name, "op": op}
    if op not in _NO_VALUE_OPS:
        node["value"] = value
    return node


_INC, _EXC = CriterionKind.INCLUSION, CriterionKind.EXCLUSION
_EXPAT = AppliesTo.EXPATRIATE

#: Defaults after NCT05342194, TOPAZ-1 and KEYNOTE-966 (see shared/DOMAIN.md §2).
#: Thresholds are protocol choices; trials copy and adapt them.
ICCA_DEFAULT_CRITERIA: Final[list[Criterion]] = [
    Criterion(
        "INC-AGE",
        _INC,
        "Age 18 to 75 years (inclusive) at screening.",
        _leaf("age_years", "between", [18, 75]),
    ),
    Criterion(
        "INC-HISTOLOGY",
        _INC,
        "Histologically or cytologically confirmed intrahepatic cholangiocarcinoma (iCCA).",
        {"all": [_leaf("histology", "in", ["icca"]), _leaf("histology_confirmed", "is_true")]},
    ),
    Criterion(
        "INC-UNRESECTABLE",
        _INC,
        "Unresectable or advanced (metastatic) disease.",
        {"any": [_leaf("unresectable", "is_true"), _leaf("metastatic", "is_true")]},
    ),
    Criterion(
        "INC-NO-PRIOR-SYSTEMIC",
        _INC,
        "No prior systemic therapy; prior adjuvant therapy is allowed if the disease "
        "recurred more than 6 months (183 days) after it ended.",
        {
            "any": [
                _leaf("prior_systemic_therapy", "is_false"),
                {
                    "all": [
                        _leaf("prior_systemic_adjuvant_only", "is_true"),
                        _leaf("days_between:adjuvant_therapy_end_date:recurrence_date", ">", 183),
                    ]
                },
            ]
        },
    ),
    Criterion(
        "INC-MEASURABLE",
        _INC,
        "At least one measurable lesion by RECIST 1.1.",
        _leaf("measurable_lesion_count", ">=", 1),
    ),
    Criterion(
        "INC-CHILD-PUGH",
        _INC,
        "Child-Pugh class A liver function.",
        _leaf("child_pugh_class", "==", "A"),
    ),
    Criterion(
        "INC-ECOG",
        _INC,
        "ECOG performance status 0 or 1.",
        _leaf("ecog", "<=", 1),
    ),
    Criterion(
        "INC-LIFE-EXPECTANCY",
        _INC,
        "Life expectancy of at least 12 weeks.",
        _leaf("life_expectancy_weeks", ">=", 12),
    ),
    Criterion(
        "INC-PLATELETS",
        _INC,
        "Platelet count >= 75 x10^9/L.",
        _leaf("platelets", ">=", 75),
    ),
    Criterion(
        "INC-NEUTROPHILS",
        _INC,
        "Absolute neutrophil count >= 1.5 x10^9/L.",
        _leaf("neutrophils", ">=", 1.5),
    ),
    Criterion(
        "INC-HAEMOGLOBIN",
        _INC,
        "Haemoglobin >= 90 g/L.",
        _leaf("haemoglobin", ">=", 90),
    ),
    Criterion(
        "INC-BILIRUBIN",
        _INC,
        "Total bilirubin <= 1.5 x the upper limit of normal (ULN).",
        _leaf("x_uln:bilirubin", "<=", 1.5),
    ),
    Criterion(
        "INC-TRANSAMINASES",
        _INC,
        "ALT and AST <= 5 x ULN (liver involvement).",
        {"all": [_leaf("x_uln:alt", "<=", 5), _leaf("x_uln:ast", "<=", 5)]},
    ),
    Criterion(
        "INC-CREATININE",
        _INC,
        "Serum creatinine <= 1.5 x ULN.",
        _leaf("x_uln:creatinine", "<=", 1.5),
    ),
    Criterion(
        "EXC-HISTOLOGY",
        _EXC,
        "Hepatocellular carcinoma or combined hepatocellular-cholangiocarcinoma histology.",
        _leaf("histology", "in", ["hcc", "mixed_hcc_cca"]),
    ),
    Criterion(
        "EXC-OTHER-CANCER",
        _EXC,
        "Another malignancy diagnosed or treated within the last 5 years (except adequately "
        "treated non-melanoma skin cancer or carcinoma in situ).",
        {
            "all": [
                _leaf("other_malignancy", "is_true"),
                _leaf("years_since:other_malignancy_date", "<", 5),
            ]
        },
    ),
    Criterion(
        "EXC-RADIOTHERAPY",
        _EXC,
        "Radiotherapy within 28 days before screening.",
        {
            "all": [
                _leaf("prior_radiotherapy", "is_true"),
                _leaf("days_since:last_radiotherapy_date", "<", 28),
            ]
        },
    ),
    Criterion(
        "EXC-MAJOR-SURGERY",
        _EXC,
        "Major surgery within 28 days before screening.",
        {
            "all": [
                _leaf("prior_major_surgery", "is_true"),
                _leaf("days_since:last_major_surgery_date", "<", 28),
            ]
        },
    ),
    Criterion(
        "EXC-CNS",
        _EXC,
        "Known central nervous system (CNS) metastases.",
        _leaf("cns_metastases", "is_true"),
    ),
    Criterion(
        "EXC-PRIOR-CHECKPOINT",
        _EXC,
        "Prior anti-PD-1, anti-PD-L1 or anti-CTLA-4 therapy.",
        _leaf("prior_checkpoint_inhibitor", "is_true"),
    ),
    Criterion(
        "EXC-RECENT-LOCAL-THERAPY",
        _EXC,
        "Local therapy (including ablation) finished less than 28 days before the baseline scan.",
        {
            "all": [
                _leaf("prior_local_therapy", "is_true"),
                _leaf("days_between:last_local_therapy_date:baseline_scan_date", "<", 28),
            ]
        },
    ),
    Criterion(
        "EXP-CONSENT-LANGUAGE",
        _INC,
        "Consent in a language the patient understands: an ethics-approved translated "
        "consent version, or a qualified interpreter together with an impartial witness.",
        {
            "any": [
                _leaf("consent_language_available", "is_true"),
                {
                    "all": [
                        _leaf("interpreter_available", "is_true"),
                        _leaf("impartial_witness_available", "is_true"),
                    ]
                },
            ]
        },
        _EXPAT,
    ),
    Criterion(
        "EXP-PERMIT",
        _INC,
        "Residence permit / visa valid through the planned end of follow-up, or remote "
        "follow-up agreed.",
        {
            "any": [
                _leaf("permit_covers_followup", "is_true"),
                _leaf("remote_followup_agreed", "is_true"),
            ]
        },
        _EXPAT,
    ),
    Criterion(
        "EXP-ID-DOCUMENT",
        _INC,
        "Identity document (passport or foreigner's permanent residence card) recorded.",
        _leaf("id_document_recorded", "is_true"),
        _EXPAT,
    ),
    Criterion(
        "EXP-INSURANCE",
        _INC,
        "Insurance and cost coverage recorded.",
        _leaf("insurance_recorded", "is_true"),
        _EXPAT,
    ),
]
