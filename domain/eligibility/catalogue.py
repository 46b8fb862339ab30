"""The screening-field catalogue (what a rule may ask about, with types, units and
plausible ranges) and the derived fields computed from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from .base import _FIELD_NAME, FieldSource, FieldType

# ---------------------------------------------------------------------------
# Field catalogue
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """Description of one raw screening field (drives the generated screening form).

    ``min_value`` / ``max_value`` are *plausibility* limits for data entry (inclusive),
    not eligibility thresholds. ``choices`` is a tuple of ``(value, label)`` pairs and
    is only used with :attr:`FieldType.CHOICE`.
    """

    type: FieldType
    label: str
    unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    min_value: int | Decimal | date | None = None
    max_value: int | Decimal | date | None = None
    help_text: str = ""
    source: FieldSource = FieldSource.FORM

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly representation (dates ISO, decimals as strings)."""

        def plain(v: int | Decimal | date | None) -> int | str | None:
            if isinstance(v, date):
                return v.isoformat()
            if isinstance(v, Decimal):
                return str(v)
            return v

        return {
            "type": str(self.type),
            "label": self.label,
            "unit": self.unit,
            "choices": [list(c) for c in self.choices],
            "min_value": plain(self.min_value),
            "max_value": plain(self.max_value),
            "help_text": self.help_text,
            "source": str(self.source),
        }


def _bool(label: str, help_text: str = "") -> FieldSpec:
    return FieldSpec(FieldType.BOOL, label, help_text=help_text)


def _date(label: str, help_text: str = "", min_value: date = date(1900, 1, 1)) -> FieldSpec:
    return FieldSpec(FieldType.DATE, label, min_value=min_value, help_text=help_text)


def _dec(label: str, unit: str, low: str, high: str, help_text: str = "") -> FieldSpec:
    return FieldSpec(
        FieldType.DECIMAL,
        label,
        unit=unit,
        min_value=Decimal(low),
        max_value=Decimal(high),
        help_text=help_text,
    )


_X10_9_L: Final = "x10^9/L"
_UMOL_L: Final = "µmol/L"
_U_L: Final = "U/L"

#: Every raw field read by :data:`ICCA_DEFAULT_CRITERIA` (and so by the screening
#: form). Keys are the field names used in rules and in the screening data.
FIELD_CATALOGUE: Final[dict[str, FieldSpec]] = {
    # --- reference dates -------------------------------------------------------
    "screening_date": _date(
        "Screening date",
        "Date the eligibility assessment refers to; all derived ages and intervals "
        "are computed relative to it.",
        min_value=date(2000, 1, 1),
    ),
    "birth_date": _date("Date of birth"),
    # --- diagnosis and disease extent ---------------------------------------
    "histology": FieldSpec(
        FieldType.CHOICE,
        "Histology",
        choices=(
            ("icca", "intrahepatic cholangiocarcinoma"),
            ("phcca", "perihilar cholangiocarcinoma"),
            ("dcca", "distal cholangiocarcinoma"),
            ("gbc", "gallbladder carcinoma"),
            ("hcc", "hepatocellular carcinoma"),
            ("mixed_hcc_cca", "combined hepatocellular-cholangiocarcinoma"),
            ("other", "other"),
        ),
    ),
    "histology_confirmed": _bool(
        "Diagnosis confirmed histologically or cytologically",
        "Yes only if a pathology (biopsy or cytology) report confirms the histology.",
    ),
    "unresectable": _bool(
        "Disease judged unresectable",
        "As documented by the multidisciplinary team or a hepatobiliary surgeon.",
    ),
    "metastatic": _bool("Distant metastatic disease"),
    "measurable_lesion_count": FieldSpec(
        FieldType.INT,
        "Number of measurable lesions (RECIST 1.1)",
        min_value=0,
        max_value=50,
        help_text="Previously ablated or irradiated lesions are not measurable.",
    ),
    # --- prior treatment -----------------------------------------------------------
    "prior_systemic_therapy": _bool(
        "Any prior systemic anticancer therapy",
        "Including adjuvant or neoadjuvant therapy.",
    ),
    "prior_systemic_adjuvant_only": _bool(
        "Prior systemic therapy was adjuvant or neoadjuvant only",
        "No systemic therapy was given for unresectable or advanced disease.",
    ),
    "adjuvant_therapy_end_date": _date("End date of adjuvant therapy"),
    "recurrence_date": _date("Date of recurrence after adjuvant therapy"),
    "prior_checkpoint_inhibitor": _bool(
        "Prior anti-PD-1, anti-PD-L1 or anti-CTLA-4 therapy",
    ),
    "prior_radiotherapy": _bool("Any prior radiotherapy"),
    "last_radiotherapy_date": _date("End date of the most recent radiotherapy"),
    "prior_major_surgery": _bool("Any prior major surgery"),
    "last_major_surgery_date": _date("Date of the most recent major surgery"),
    "prior_local_therapy": _bool(
        "Any prior liver-directed local therapy",
        "Ablation (including cryoablation), TACE, HAIC, radioembolisation and similar.",
    ),
    "last_local_therapy_date": _date("End date of the most recent local therapy"),
    "baseline_scan_date": _date("Date of the baseline scan"),
    # --- history / comorbidity -----------------------------------------------------
    "other_malignancy": _bool(
        "History of another malignancy",
        "Not counting adequately treated non-melanoma skin cancer or carcinoma in situ.",
    ),
    "other_malignancy_date": _date(
        "Date of the most recent diagnosis or treatment of the other malignancy"
    ),
    "cns_metastases": _bool("CNS metastases"),
    # --- performance and liver function --------------------------------------------
    "child_pugh_class": FieldSpec(
        FieldType.CHOICE,
        "Child-Pugh class",
        choices=(("A", "A (5-6 points)"), ("B", "B (7-9 points)"), ("C", "C (10-15 points)")),
    ),
    "ecog": FieldSpec(
        FieldType.INT, "ECOG performance status", min_value=0, max_value=5, help_text="0-5."
    ),
    "life_expectancy_weeks": FieldSpec(
        FieldType.INT,
        "Life expectancy",
        unit="weeks",
        min_value=0,
        max_value=520,
        help_text="Investigator's estimate.",
    ),
    # --- laboratory values -------------------------------------------------------------
    "platelets": _dec("Platelet count", _X10_9_L, "0", "2000"),
    "neutrophils": _dec("Absolute neutrophil count", _X10_9_L, "0", "100"),
    "haemoglobin": _dec("Haemoglobin", "g/L", "20", "250"),
    "bilirubin": _dec("Total bilirubin", _UMOL_L, "0", "1000"),
    "bilirubin_uln": _dec(
        "Total bilirubin upper limit of normal", _UMOL_L, "5", "100", "From the site laboratory."
    ),
    "alt": _dec("ALT", _U_L, "0", "10000"),
    "alt_uln": _dec("ALT upper limit of normal", _U_L, "5", "200", "From the site laboratory."),
    "ast": _dec("AST", _U_L, "0", "10000"),
    "ast_uln": _dec("AST upper limit of normal", _U_L, "5", "200", "From the site laboratory."),
    "creatinine": _dec("Serum creatinine", _UMOL_L, "0", "3000"),
    "creatinine_uln": _dec(
        "Serum creatinine upper limit of normal", _UMOL_L, "20", "300", "From the site laboratory."
    ),
    # --- expatriate patients ----------------------------------------------------------
    "consent_language_available": _bool(
        "Ethics-approved consent version in a language the patient understands",
    ),
    "interpreter_available": _bool("Qualified interpreter available for the consent process"),
    "impartial_witness_available": _bool("Impartial witness available for the consent process"),
    "residence_permit_expiry_date": _date(
        "Residence permit / visa expiry date", min_value=date(2000, 1, 1)
    ),
    "planned_followup_days": FieldSpec(
        FieldType.INT,
        "Planned follow-up duration",
        unit="days",
        min_value=1,
        max_value=3650,
        help_text="From the trial protocol (screening to planned end of follow-up).",
        source=FieldSource.TRIAL,
    ),
    "remote_followup_agreed": _bool(
        "Remote follow-up agreed",
        "Follow-up after leaving China (e.g. by telephone / local imaging) agreed in writing.",
    ),
    "id_document_recorded": _bool(
        "Identity document recorded",
        "Passport or foreigner's permanent residence card.",
    ),
    "insurance_recorded": _bool(
        "Insurance and cost coverage recorded",
        "Trial-injury insurance and who covers treatment costs; the patient's own insurer "
        "may exclude experimental treatment.",
    ),
}


# ---------------------------------------------------------------------------
# Derived fields
# ---------------------------------------------------------------------------

#: Derived fields the evaluator computes; the keys show the syntax.
DERIVED_FIELDS: Final[Mapping[str, str]] = {
    "age_years": (
        "Completed years of age on screening_date, from birth_date. The age increases "
        "on the birthday itself; someone born on 29 February becomes a year older on "
        "1 March in non-leap years."
    ),
    "years_since:<date field>": (
        "Completed years from the date to screening_date (same rule as age_years); "
        "negative if the date is after screening_date."
    ),
    "days_since:<date field>": (
        "screening_date minus the date, in days (0 on the same day, negative for a future date)."
    ),
    "days_until:<date field>": "The date minus screening_date, in days.",
    "days_between:<start date field>:<end date field>": (
        "End date minus start date, in days, independent of screening_date (e.g. from "
        "the end of local therapy to the baseline scan)."
    ),
    "x_uln:<lab>": (
        "Multiple of the upper limit of normal: <lab> / <lab>_uln, computed exactly in "
        "decimal arithmetic (both in the same unit). A ULN <= 0 is unusable data."
    ),
    "permit_covers_followup": (
        "True when residence_permit_expiry_date >= screening_date + "
        "planned_followup_days, i.e. the permit is valid through the planned end of "
        "follow-up."
    ),
}

_PERMIT_INPUTS: Final = ("residence_permit_expiry_date", "screening_date", "planned_followup_days")


@dataclass(frozen=True)
class DerivedField:
    """A parsed derived-field name such as ``days_since:last_radiotherapy_date``."""

    name: str
    kind: str
    args: tuple[str, ...] = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        """The raw fields this derived field is computed from."""
        match self.kind:
            case "age_years":
                return ("birth_date", "screening_date")
            case "years_since" | "days_since" | "days_until":
                return (self.args[0], "screening_date")
            case "days_between":
                return self.args
            case "x_uln":
                return (self.args[0], f"{self.args[0]}_uln")
            case _:
                return _PERMIT_INPUTS

    @property
    def value_type(self) -> FieldType:
        match self.kind:
            case "x_uln":
                return FieldType.DECIMAL
            case "permit_covers_followup":
                return FieldType.BOOL
            case _:
                return FieldType.INT

    def input_types(self) -> dict[str, tuple[FieldType, ...]]:
        """Types each input must have (used by :func:`validate_rule`)."""
        numeric = (FieldType.INT, FieldType.DECIMAL)
        if self.kind == "x_uln":
            return dict.fromkeys(self.inputs, numeric)
        if self.kind == "permit_covers_followup":
            return {
                "residence_permit_expiry_date": (FieldType.DATE,),
                "screening_date": (FieldType.DATE,),
                "planned_followup_days": (FieldType.INT,),
            }
        return dict.fromkeys(self.inputs, (FieldType.DATE,))


_DERIVED_ARITY: Final[Mapping[str, int]] = {
    "years_since": 1,
    "days_since": 1,
    "days_until": 1,
    "days_between": 2,
    "x_uln": 1,
}


def parse_derived_field(name: str) -> DerivedField | None:
    """Parse a derived-field name; ``None`` for a plain raw field name.

    Raises ``ValueError`` for a malformed derived name (unknown prefix, wrong number
    of arguments, invalid field name).
    """
    if name in ("age_years", "permit_covers_followup"):
        return DerivedField(name, name)
    if ":" not in name:
        return None
    kind, *args = name.split(":")
    if kind not in _DERIVED_ARITY:
        known = ", ".join(DERIVED_FIELDS)
        raise ValueError(f"unknown derived field {name!r}; derived fields are: {known}")
    arity = _DERIVED_ARITY[kind]
    if len(args) != arity:
        shape = next(k for k in DERIVED_FIELDS if k.startswith(kind + ":"))
        raise ValueError(f"derived field {name!r} must have the form {shape!r}")
    for arg in args:
        if not _FIELD_NAME.match(arg):
            raise ValueError(f"derived field {name!r}: {arg!r} is not a valid field name")
    return DerivedField(name, kind, tuple(args))


def raw_fields(field_name: str) -> tuple[str, ...]:
    """The raw fields a (possibly derived) field name reads."""
    derived = parse_derived_field(field_name)
    return (field_name,) if derived is None else derived.inputs
