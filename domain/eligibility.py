"""Eligibility criteria as data, evaluated safely.

A criterion's logic is a JSON-serialisable *rule* that a data manager can configure
in the admin; it is interpreted here by a small tree walker. Nothing is ever passed
to ``eval``/``exec`` and no attribute of any object is looked up by name: the
evaluator only reads keys of the screening-data mapping.

Rule format
-----------
Comparison (a *leaf*)::

    {"field": "ecog", "op": "<=", "value": 1}

Operators: ``== != < <= > >= in not_in between is_true is_false present``.

* ``in`` / ``not_in`` take a non-empty list, ``between`` a two-element list
  ``[low, high]`` (both inclusive).
* ``is_true`` / ``is_false`` / ``present`` take no ``value``. ``present`` is MET when
  the field (or every raw field behind a derived field) is recorded; it is the only
  operator that never yields MISSING.
* Dates in rules are ISO strings (``"2025-01-31"``).

Combinators: ``{"all": [rule, ...]}``, ``{"any": [rule, ...]}``, ``{"not": rule}``.

Three-valued logic
------------------
Every rule evaluates to MET, NOT_MET or MISSING (data not recorded, or unusable).

* ``all``: NOT_MET if any child is NOT_MET, else MISSING if any child is MISSING,
  else MET.
* ``any``: MET if any child is MET, else MISSING if any child is MISSING, else
  NOT_MET.
* ``not``: swaps MET and NOT_MET, keeps MISSING.

This is Kleene's logic, for which De Morgan's laws hold, so ``not`` is implemented by
pushing the negation down to the leaves (``not all`` = ``any not``, ``not <=`` =
``>``). The result is the same as swapping the outcome, but the reason can then be
phrased positively ("CNS metastases is yes; must be no") instead of as a double
negation.

Derived fields
--------------
See :data:`DERIVED_FIELDS`. They are computed from raw screening data relative to
``screening_date``, so a screening can be re-evaluated later with the same result.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final

__all__ = [
    "DERIVED_FIELDS",
    "FIELD_CATALOGUE",
    "ICCA_DEFAULT_CRITERIA",
    "OPERATORS",
    "AppliesTo",
    "Criterion",
    "CriterionKind",
    "CriterionResult",
    "DerivedField",
    "FieldSource",
    "FieldSpec",
    "FieldType",
    "Outcome",
    "RuleError",
    "ScreeningDecision",
    "Status",
    "Verdict",
    "evaluate",
    "fields_needed",
    "parse_derived_field",
    "raw_fields",
    "rule_fields",
    "screen",
    "validate_criteria",
    "validate_rule",
]


# ---------------------------------------------------------------------------
# Enumerations
# ---------------------------------------------------------------------------


class Status(StrEnum):
    """Outcome of evaluating a rule."""

    MET = "met"
    NOT_MET = "not_met"
    MISSING = "missing"


class FieldType(StrEnum):
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"
    DATE = "date"
    CHOICE = "choice"


class FieldSource(StrEnum):
    """Who supplies a raw field.

    ``FORM`` fields are entered by the coordinator on the screening form; ``TRIAL``
    fields come from the trial's configuration (e.g. the planned follow-up length)
    and should be filled in by the caller, not asked of the coordinator.
    """

    FORM = "form"
    TRIAL = "trial"


class CriterionKind(StrEnum):
    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"


class AppliesTo(StrEnum):
    ALL = "all"
    EXPATRIATE = "expatriate"


class Verdict(StrEnum):
    """Overall screening result."""

    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    INCOMPLETE = "incomplete"


OPERATORS: Final[tuple[str, ...]] = (
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not_in",
    "between",
    "is_true",
    "is_false",
    "present",
)
_ORDER_OPS: Final = frozenset({"<", "<=", ">", ">="})
_LIST_OPS: Final = frozenset({"in", "not_in"})
_NO_VALUE_OPS: Final = frozenset({"is_true", "is_false", "present"})
_LEAF_KEYS: Final = frozenset({"field", "op", "value"})
_NODE_KINDS: Final = ("field", "all", "any", "not")
#: Rules are configured by people; anything deeper than this is a mistake, and the
#: limit keeps the recursive walker far from Python's recursion limit.
MAX_RULE_DEPTH: Final = 32

# Operator as seen through a ``not``: used only to phrase the requirement.
_NEGATED_OP: Final[Mapping[str, str]] = {
    "==": "!=",
    "!=": "==",
    "<": ">=",
    "<=": ">",
    ">": "<=",
    ">=": "<",
    "in": "not_in",
    "not_in": "in",
    "between": "not_between",
    "is_true": "is_false",
    "is_false": "is_true",
    "present": "absent",
}

_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RuleError(ValueError):
    """A rule is malformed; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


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


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


class _Incomparable(Exception):
    """Raised when a data value cannot be compared with a rule value."""


def _normalise(value: Any) -> Any:
    """Bring data and rule values to a small set of comparable types.

    Numbers become ``Decimal`` (floats via ``repr`` so 0.1 stays 0.1, avoiding binary
    rounding at thresholds), datetimes become dates, ISO date strings become dates,
    numeric strings become ``Decimal`` (screening snapshots stored as JSON by
    Django's encoder hold decimals as strings), blank strings become ``None``.
    Booleans stay booleans: ``True`` must never compare equal to 1.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date | Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _ISO_DATE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                return text
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        return number if number.is_finite() else text
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _ordered(a: Any, b: Any) -> None:
    both_numbers = _is_number(a) and _is_number(b)
    both_dates = isinstance(a, date) and isinstance(b, date)
    if not (both_numbers or both_dates):
        raise _Incomparable


def _apply(op: str, actual: Any, raw_threshold: Any) -> bool:
    """Apply a (non-``present``) operator. Raises :class:`_Incomparable`."""
    if op in ("is_true", "is_false"):
        if not isinstance(actual, bool):
            raise _Incomparable
        return actual if op == "is_true" else not actual
    if op in _LIST_OPS:
        options = [_normalise(v) for v in raw_threshold]
        found = any(_equal(actual, o) for o in options)
        return found if op == "in" else not found
    if op == "between":
        low, high = (_normalise(v) for v in raw_threshold)
        _ordered(actual, low)
        _ordered(actual, high)
        return bool(low <= actual <= high)
    threshold = _normalise(raw_threshold)
    if op == "==":
        return _equal(actual, threshold)
    if op == "!=":
        return not _equal(actual, threshold)
    _ordered(actual, threshold)
    match op:
        case "<":
            return bool(actual < threshold)
        case "<=":
            return bool(actual <= threshold)
        case ">":
            return bool(actual > threshold)
        case _:
            return bool(actual >= threshold)


def _completed_years(start: date, end: date) -> int:
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


# ---------------------------------------------------------------------------
# Labels and formatting
# ---------------------------------------------------------------------------


def _lower_first(text: str) -> str:
    # Keep acronyms ("ALT", "CNS") intact.
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


class _Labeller:
    """Human labels and units for raw and derived fields."""

    def __init__(self, catalogue: Mapping[str, FieldSpec]) -> None:
        self.catalogue = catalogue

    def spec(self, name: str) -> FieldSpec | None:
        return self.catalogue.get(name)

    def raw_label(self, name: str) -> str:
        spec = self.catalogue.get(name)
        return spec.label if spec else name.replace("_", " ").capitalize()

    def label(self, name: str) -> str:
        derived = parse_derived_field(name)
        if derived is None:
            return self.raw_label(name)
        args = [_lower_first(self.raw_label(a)) for a in derived.args]
        match derived.kind:
            case "age_years":
                return "Age"
            case "years_since":
                return f"Years since {args[0]}"
            case "days_since":
                return f"Days since {args[0]}"
            case "days_until":
                return f"Days until {args[0]}"
            case "days_between":
                return f"Days from {args[0]} to {args[1]}"
            case "x_uln":
                return f"{self.raw_label(derived.args[0])} (x ULN)"
            case _:
                return "Residence permit valid through the planned end of follow-up"

    def unit(self, name: str) -> str:
        derived = parse_derived_field(name)
        if derived is None:
            spec = self.catalogue.get(name)
            return spec.unit if spec else ""
        if derived.kind in ("age_years", "years_since"):
            return "years"
        if derived.kind.startswith("days_"):
            return "days"
        return ""


def _fmt_number(number: Decimal) -> str:
    """Plain notation without trailing zeros; more than 4 decimals shown as "about"."""
    if number == number.to_integral_value():
        return format(number.normalize(), "f")
    try:
        rounded = number.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # too many digits for the context: leave it as it is
        return format(number, "f")
    text = format(rounded.normalize(), "f")
    return text if rounded == number else f"about {text}"


def _fmt(value: Any, unit: str = "", spec: FieldSpec | None = None) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        text = _fmt_number(value)
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, str) and spec is not None and spec.choices:
        return spec.choice_label(value)
    else:
        text = str(value)
    return f"{text} {unit}" if unit else text


def _requirement(op: str, raw_value: Any, unit: str, spec: FieldSpec | None) -> str:
    """Phrase the condition a field has to satisfy, e.g. ``must be <= 1``."""

    def show(v: Any, with_unit: bool = True) -> str:
        return _fmt(_normalise(v), unit if with_unit else "", spec)

    match op:
        case "==":
            return f"must be {show(raw_value)}"
        case "!=":
            return f"must not be {show(raw_value)}"
        case "in" | "not_in":
            items = ", ".join(show(v) for v in raw_value)
            if op == "in":
                return f"must be {items}" if len(raw_value) == 1 else f"must be one of: {items}"
            return f"must not be {items}" if len(raw_value) == 1 else f"must be none of: {items}"
        case "between":
            return f"must be between {show(raw_value[0], False)} and {show(raw_value[1])}"
        case "not_between":
            return f"must be below {show(raw_value[0], False)} or above {show(raw_value[1])}"
        case "is_true":
            return "must be yes"
        case "is_false":
            return "must be no"
        case "present":
            return "must be recorded"
        case "absent":
            return "must not be recorded"
        case _:
            return f"must be {op} {show(raw_value)}"


def _names(labels: Iterable[str]) -> str:
    items = list(labels)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------
# Outcome and evaluation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Result of evaluating a rule.

    ``missing_fields`` names the raw fields that would have to be recorded (or
    corrected, when a value is unusable) to decide the rule; it is empty unless the
    status is MISSING.
    """

    status: Status
    reason: str
    missing_fields: tuple[str, ...] = ()
    # Whether ``reason`` joins several parts: parents then wrap it in parentheses.
    compound: bool = field(default=False, repr=False, compare=False)

    @property
    def met(self) -> bool:
        return self.status is Status.MET


@dataclass(frozen=True)
class _Resolved:
    value: Any = None
    missing: tuple[str, ...] = ()
    problem: str = ""
    problem_fields: tuple[str, ...] = ()
    detail: str = ""


def _fetch(
    data: Mapping[str, Any], wanted: Mapping[str, str], lab: _Labeller
) -> tuple[dict[str, Any], _Resolved | None]:
    """Read raw inputs, each expected to be a ``"date"``, ``"number"`` or ``"int"``."""
    values: dict[str, Any] = {}
    missing: list[str] = []
    bad: list[str] = []
    for name, kind in wanted.items():
        value = _normalise(data.get(name))
        if value is None:
            missing.append(name)
            continue
        if kind == "date":
            ok = isinstance(value, date)
        else:
            ok = _is_number(value) and (kind == "number" or value == value.to_integral_value())
        if ok:
            values[name] = value
        else:
            bad.append(name)
    if missing:
        return values, _Resolved(missing=tuple(missing))
    if bad:
        described = ", ".join(f"{lab.raw_label(n)} is {data.get(n)!r}" for n in bad)
        return values, _Resolved(problem=f"unusable value ({described})", problem_fields=tuple(bad))
    return values, None


def _resolve(name: str, data: Mapping[str, Any], lab: _Labeller) -> _Resolved:
    derived = parse_derived_field(name)
    if derived is None:
        value = _normalise(data.get(name))
        return _Resolved(missing=(name,)) if value is None else _Resolved(value=value)
    return _DERIVED_RESOLVERS[derived.kind](derived, data, lab)


def _resolve_years(derived: DerivedField, data: Mapping[str, Any], lab: _Labeller) -> _Resolved:
    start_name, end_name = derived.inputs
    values, failure = _fetch(data, {start_name: "date", end_name: "date"}, lab)
    if failure:
        return failure
    start, end = values[start_name], values[end_name]
    if derived.kind == "age_years" and start > end:
        return _Resolved(
            problem="date of birth is after the screening date",
            problem_fields=derived.inputs,
        )
    years = _completed_years(start, end) if start <= end else -_completed_years(end, start)
    detail = f"{_lower_first(lab.raw_label(start_name))} {start}, screening date {end}"
    return _Resolved(value=Decimal(years), detail=detail)


def _resolve_days(derived: DerivedField, data: Mapping[str, Any], lab: _Labeller) -> _Resolved:
    if derived.kind == "days_between":
        start_name, end_name = derived.args
    elif derived.kind == "days_since":
        start_name, end_name = derived.args[0], "screening_date"
    else:  # days_until
        start_name, end_name = "screening_date", derived.args[0]
    values, failure = _fetch(data, {start_name: "date", end_name: "date"}, lab)
    if failure:
        return failure
    days = (values[end_name] - values[start_name]).days
    detail = ", ".join(
        f"{_lower_first(lab.raw_label(n))} {values[n]}" for n in (start_name, end_name)
    )
    return _Resolved(value=Decimal(days), detail=detail)


def _resolve_x_uln(derived: DerivedField, data: Mapping[str, Any], lab: _Labeller) -> _Resolved:
    lab_name, uln_name = derived.inputs
    values, failure = _fetch(data, {lab_name: "number", uln_name: "number"}, lab)
    if failure:
        return failure
    value, uln = values[lab_name], values[uln_name]
    if uln <= 0:
        return _Resolved(
            problem=f"{_lower_first(lab.raw_label(uln_name))} must be positive",
            problem_fields=(uln_name,),
        )
    unit = lab.unit(lab_name)
    detail = f"{_fmt(value, unit)} with ULN {_fmt(uln, unit)}"
    return _Resolved(value=value / uln, detail=detail)


def _resolve_permit(derived: DerivedField, data: Mapping[str, Any], lab: _Labeller) -> _Resolved:
    expiry_name, screening_name, days_name = _PERMIT_INPUTS
    values, failure = _fetch(
        data, {expiry_name: "date", screening_name: "date", days_name: "int"}, lab
    )
    if failure:
        return failure
    try:
        end = values[screening_name] + timedelta(days=int(values[days_name]))
    except OverflowError:
        return _Resolved(problem="planned follow-up is out of range", problem_fields=(days_name,))
    expiry = values[expiry_name]
    detail = f"permit expires {expiry}, planned follow-up ends {end}"
    return _Resolved(value=expiry >= end, detail=detail)


_DERIVED_RESOLVERS: Final[
    Mapping[str, Callable[[DerivedField, Mapping[str, Any], _Labeller], _Resolved]]
] = {
    "age_years": _resolve_years,
    "years_since": _resolve_years,
    "days_since": _resolve_days,
    "days_until": _resolve_days,
    "days_between": _resolve_days,
    "x_uln": _resolve_x_uln,
    "permit_covers_followup": _resolve_permit,
}


def _eval_leaf(
    node: Mapping[str, Any], data: Mapping[str, Any], negate: bool, lab: _Labeller
) -> Outcome:
    name: str = node["field"]
    op: str = node["op"]
    label, unit, spec = lab.label(name), lab.unit(name), lab.spec(name)
    requirement = _requirement(_NEGATED_OP[op] if negate else op, node.get("value"), unit, spec)
    resolved = _resolve(name, data, lab)
    detail = f" ({resolved.detail})" if resolved.detail else ""

    if op == "present":
        present = not resolved.missing and not resolved.problem
        status = Status.MET if present != negate else Status.NOT_MET
        state = "recorded" if present else "not recorded"
        return Outcome(status, f"{label} is {state}; {requirement}")

    if resolved.missing:
        if resolved.missing == (name,):
            reason = f"{label} is missing"
        else:
            missing_labels = [_lower_first(lab.raw_label(m)) for m in resolved.missing]
            verb = "is" if len(missing_labels) == 1 else "are"
            reason = f"{label} cannot be determined: {_names(missing_labels)} {verb} missing"
        return Outcome(Status.MISSING, reason, resolved.missing)
    if resolved.problem:
        reason = f"{label} cannot be determined: {resolved.problem}"
        return Outcome(Status.MISSING, reason, resolved.problem_fields)

    actual = _fmt(resolved.value, unit, spec)
    try:
        holds = _apply(op, resolved.value, node.get("value"))
    except (_Incomparable, ArithmeticError, TypeError):
        reason = f"{label} has the unusable value {actual!r}{detail}; {requirement}"
        return Outcome(Status.MISSING, reason, raw_fields(name))
    status = Status.MET if holds != negate else Status.NOT_MET
    return Outcome(status, f"{label} is {actual}{detail}; {requirement}")


def _join(outcomes: Sequence[Outcome], word: str) -> str:
    return f" {word} ".join(f"({o.reason})" if o.compound else o.reason for o in outcomes)


def _union_missing(outcomes: Iterable[Outcome]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f for o in outcomes for f in o.missing_fields))


def _conjoin(children: Sequence[Outcome]) -> Outcome:
    if len(children) == 1:
        return children[0]
    for status in (Status.NOT_MET, Status.MISSING):
        picked = [c for c in children if c.status is status]
        if picked:
            missing = _union_missing(picked) if status is Status.MISSING else ()
            compound = len(picked) > 1 or picked[0].compound
            return Outcome(status, _join(picked, "and"), missing, compound)
    return Outcome(Status.MET, _join(children, "and"), (), True)


def _disjoin(children: Sequence[Outcome]) -> Outcome:
    if len(children) == 1:
        return children[0]
    for child in children:
        if child.status is Status.MET:
            return child
    missing = [c for c in children if c.status is Status.MISSING]
    status = Status.MISSING if missing else Status.NOT_MET
    return Outcome(status, _join(children, "or"), _union_missing(missing), True)


def _eval(
    node: Mapping[str, Any], data: Mapping[str, Any], negate: bool, lab: _Labeller
) -> Outcome:
    if "field" in node:
        return _eval_leaf(node, data, negate, lab)
    if "not" in node:
        return _eval(node["not"], data, not negate, lab)
    key = "all" if "all" in node else "any"
    children = [_eval(child, data, negate, lab) for child in node[key]]
    # De Morgan: a negated "all" is an "any" of negated children, and vice versa.
    return _conjoin(children) if (key == "all") != negate else _disjoin(children)


def evaluate(
    rule: Mapping[str, Any],
    data: Mapping[str, Any],
    *,
    catalogue: Mapping[str, FieldSpec] | None = None,
) -> Outcome:
    """Evaluate ``rule`` against screening ``data`` (a mapping of raw field values).

    ``catalogue`` only supplies labels, units and choice labels for the reason text
    (default :data:`FIELD_CATALOGUE`). Raises :class:`RuleError` if the rule is
    structurally malformed; a field absent from ``data`` (or ``None``/blank) is
    MISSING, and so is a value that cannot be compared (e.g. text where a number is
    expected), with a reason saying so.
    """
    problems = _problems(rule, None)
    if problems:
        raise RuleError(problems)
    return _eval(rule, data, False, _Labeller(FIELD_CATALOGUE if catalogue is None else catalogue))


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

_TYPE_WORDS: Final[Mapping[FieldType, str]] = {
    FieldType.INT: "a whole-number field",
    FieldType.DECIMAL: "a numeric field",
    FieldType.BOOL: "a yes/no field",
    FieldType.DATE: "a date field",
    FieldType.CHOICE: "a choice field",
}


class _Validator:
    """Collects problems of a rule.

    With ``specs`` ``None`` only the structure is checked (used by :func:`evaluate`);
    otherwise field names must be known, and where a :class:`FieldSpec` is available
    the values are type-checked too.
    """

    def __init__(self, specs: Mapping[str, FieldSpec | None] | None) -> None:
        self.specs = specs
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def node(self, node: Any, path: str, depth: int) -> None:
        if depth > MAX_RULE_DEPTH:
            self.add(path, f"rules may be nested at most {MAX_RULE_DEPTH} levels deep")
            return
        if not isinstance(node, Mapping):
            self.add(
                path,
                'a rule must be an object such as {"field": ..., "op": ..., "value": ...} '
                f'or {{"all": [...]}}, not {type(node).__name__}',
            )
            return
        kinds = [k for k in _NODE_KINDS if k in node]
        if len(kinds) != 1:
            found = ", ".join(map(repr, node)) or "nothing"
            self.add(
                path, f"a rule needs exactly one of 'field', 'all', 'any', 'not' (found {found})"
            )
            return
        kind = kinds[0]
        if kind == "field":
            self.leaf(node, path)
            return
        extra = [k for k in node if k != kind]
        if extra:
            self.add(path, f"unexpected key(s) {', '.join(map(repr, extra))} next to {kind!r}")
        child = node[kind]
        if kind == "not":
            self.node(child, f"{path}.not", depth + 1)
            return
        if not isinstance(child, list | tuple) or not child:
            self.add(path, f"{kind!r} needs a non-empty list of rules")
            return
        for i, sub in enumerate(child):
            self.node(sub, f"{path}.{kind}[{i}]", depth + 1)

    def field_type(self, name: str, path: str) -> tuple[FieldType | None, FieldSpec | None]:
        try:
            derived = parse_derived_field(name)
        except ValueError as exc:
            self.add(path, str(exc))
            return None, None
        if derived is None:
            if not _FIELD_NAME.match(name):
                self.add(path, f"{name!r} is not a valid field name")
                return None, None
            if self.specs is None:
                return None, None
            if name not in self.specs:
                self.unknown(name, path)
                return None, None
            spec = self.specs[name]
            return (spec.type if spec else None), spec
        if self.specs is not None:
            for raw, allowed in derived.input_types().items():
                if raw not in self.specs:
                    self.unknown(raw, path, f" (needed by {name!r})")
                    continue
                spec = self.specs[raw]
                if spec is not None and spec.type not in allowed:
                    wanted = " or ".join(_TYPE_WORDS[t] for t in allowed)
                    self.add(
                        path,
                        f"{name!r} needs {raw!r} to be {wanted}, but it is {_TYPE_WORDS[spec.type]}",
                    )
        return derived.value_type, None

    def unknown(self, name: str, path: str, suffix: str = "") -> None:
        assert self.specs is not None
        close = difflib.get_close_matches(name, list(self.specs), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        self.add(path, f"unknown field {name!r}{suffix}{hint}")

    def leaf(self, node: Mapping[str, Any], path: str) -> None:
        extra = [k for k in node if k not in _LEAF_KEYS]
        if extra:
            self.add(
                path,
                f"unexpected key(s) {', '.join(map(repr, extra))}; a comparison has 'field', 'op' and 'value'",
            )
        name = node["field"]
        if not isinstance(name, str) or not name:
            self.add(path, "'field' must be a non-empty string")
            return
        ftype, spec = self.field_type(name, path)
        op = node.get("op")
        if op is None:
            self.add(path, f"comparison on {name!r} has no 'op'")
            return
        if not isinstance(op, str) or op not in OPERATORS:
            self.add(path, f"unknown operator {op!r}; use one of: {' '.join(OPERATORS)}")
            return
        where = f"{path} ({name} {op})"

        if op in _NO_VALUE_OPS:
            if "value" in node:
                self.add(where, f"operator {op!r} takes no value")
            if op != "present" and ftype not in (None, FieldType.BOOL):
                self.add(
                    where,
                    f"operator {op!r} needs a yes/no field, but {name!r} is {_TYPE_WORDS[ftype]}",
                )
            return
        if "value" not in node:
            self.add(where, f"operator {op!r} needs a 'value'")
            return
        if (op in _ORDER_OPS or op == "between") and ftype in (FieldType.BOOL, FieldType.CHOICE):
            self.add(where, f"operator {op!r} cannot be used on {_TYPE_WORDS[ftype]}")
            return
        value = node["value"]
        if op in _LIST_OPS:
            if not isinstance(value, list | tuple) or not value:
                self.add(where, f"operator {op!r} needs a non-empty list as value, not {value!r}")
                return
            for item in value:
                self.scalar(item, ftype, spec, where, check_range=False)
        elif op == "between":
            if not isinstance(value, list | tuple) or len(value) != 2:
                self.add(where, f"operator 'between' needs a list [low, high], not {value!r}")
                return
            # Check both bounds (no short-circuit) so every problem is reported.
            checks = [self.scalar(v, ftype, spec, where) for v in value]
            if all(checks):
                low, high = (_normalise(v) for v in value)
                try:
                    reversed_bounds = bool(low > high)
                except (TypeError, ArithmeticError):
                    self.add(where, f"bounds {value!r} are not comparable")
                else:
                    if reversed_bounds:
                        self.add(
                            where, f"low bound {value[0]!r} is greater than high bound {value[1]!r}"
                        )
        else:
            self.scalar(value, ftype, spec, where)

    def scalar(
        self,
        value: Any,
        ftype: FieldType | None,
        spec: FieldSpec | None,
        where: str,
        check_range: bool = True,
    ) -> bool:
        if value is None or isinstance(value, list | tuple | dict | Mapping):
            self.add(where, f"value must be a single value, not {value!r}")
            return False
        if not isinstance(value, str | int | float):
            self.add(
                where,
                f"value {value!r} is not JSON; write dates as 'YYYY-MM-DD' and numbers as numbers",
            )
            return False
        if isinstance(value, float) and not math.isfinite(value):
            self.add(where, f"value {value!r} is not a finite number")
            return False
        label = spec.label if spec else "this field"
        is_num = isinstance(value, int | float) and not isinstance(value, bool)
        problem = ""
        match ftype:
            case FieldType.INT if not (isinstance(value, int) and not isinstance(value, bool)):
                problem = f"{value!r} is not a whole number, but {label} is {_TYPE_WORDS[ftype]}"
            case FieldType.DECIMAL if not is_num:
                problem = f"{value!r} is not a number, but {label} is {_TYPE_WORDS[ftype]}"
            case FieldType.BOOL if not isinstance(value, bool):
                problem = f"{value!r} is not true/false, but {label} is {_TYPE_WORDS[ftype]}"
            case FieldType.DATE if not isinstance(_normalise(value), date) or not isinstance(
                value, str
            ):
                problem = (
                    f"{value!r} is not a date 'YYYY-MM-DD', but {label} is {_TYPE_WORDS[ftype]}"
                )
            case FieldType.CHOICE if spec is not None and value not in dict(spec.choices):
                allowed = ", ".join(repr(c) for c, _ in spec.choices)
                problem = f"{value!r} is not a valid choice for {label}; allowed: {allowed}"
            case FieldType.CHOICE if not isinstance(value, str):
                problem = f"{value!r} is not text, but {label} is {_TYPE_WORDS[ftype]}"
        if problem:
            self.add(where, problem)
            return False
        if check_range and spec is not None and ftype is not None:
            self.range(value, spec, where)
        return True

    def range(self, value: Any, spec: FieldSpec, where: str) -> None:
        low, high = _normalise(spec.min_value), _normalise(spec.max_value)
        actual = _normalise(value)
        try:
            outside = (low is not None and actual < low) or (high is not None and actual > high)
        except TypeError:
            return
        if outside:
            bounds = f"{_fmt(low) if low is not None else '...'} to {_fmt(high, spec.unit) if high is not None else '...'}"
            self.add(
                where,
                f"{value!r} is outside the plausible range of {spec.label} ({bounds}); check the unit",
            )


def _problems(rule: Any, specs: Mapping[str, FieldSpec | None] | None) -> list[str]:
    validator = _Validator(specs)
    validator.node(rule, "rule", 0)
    return validator.problems


def validate_rule(rule: Any, known_fields: Mapping[str, FieldSpec] | Iterable[str]) -> list[str]:
    """Report every problem of a rule; an empty list means the rule is well-formed.

    ``known_fields`` is either a catalogue (name -> :class:`FieldSpec`, e.g.
    :data:`FIELD_CATALOGUE`), which also enables type and plausible-range checks of
    the values, or just an iterable of raw field names. Derived fields are accepted
    when the raw fields behind them are known (and, with a catalogue, of the right
    type). Messages start with a path such as ``rule.all[2]`` locating the problem.
    """
    if isinstance(known_fields, Mapping):
        specs: dict[str, FieldSpec | None] = {
            k: v if isinstance(v, FieldSpec) else None for k, v in known_fields.items()
        }
    else:
        specs = dict.fromkeys(known_fields)
    return _problems(rule, specs)


def rule_fields(rule: Mapping[str, Any]) -> set[str]:
    """Field names exactly as written in the rule (raw or derived)."""
    found: set[str] = set()
    stack: list[Any] = [rule]
    while stack:
        node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        if isinstance(node.get("field"), str):
            found.add(node["field"])
        if "not" in node:
            stack.append(node["not"])
        for key in ("all", "any"):
            if isinstance(node.get(key), list | tuple):
                stack.extend(node[key])
    return found


# ---------------------------------------------------------------------------
# Criteria and screening
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    """One eligibility criterion.

    For an *inclusion* the rule describes what must hold; for an *exclusion* it
    describes the excluding condition (e.g. "has CNS metastases"), so an exclusion
    whose rule is MET makes the patient ineligible.
    """

    code: str
    kind: CriterionKind
    text: str
    rule: Mapping[str, Any]
    applies_to: AppliesTo = AppliesTo.ALL

    def __post_init__(self) -> None:
        if not self.code or not self.code.strip():
            raise ValueError("criterion code must not be empty")
        # Accept plain strings (e.g. from JSON / the database) for the enums.
        object.__setattr__(self, "kind", CriterionKind(self.kind))
        object.__setattr__(self, "applies_to", AppliesTo(self.applies_to))

    def applies(self, is_expatriate: bool) -> bool:
        return self.applies_to is AppliesTo.ALL or is_expatriate

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": str(self.kind),
            "text": self.text,
            "rule": self.rule,
            "applies_to": str(self.applies_to),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Criterion:
        return cls(
            code=data["code"],
            kind=CriterionKind(data["kind"]),
            text=data["text"],
            rule=data["rule"],
            applies_to=AppliesTo(data.get("applies_to", AppliesTo.ALL)),
        )


@dataclass(frozen=True)
class CriterionResult:
    """How one criterion came out.

    ``status`` is the outcome of the criterion's *rule* (for an exclusion, MET means
    the excluding condition is present). ``satisfied`` is the criterion-level answer:
    ``True`` when the criterion does not stand in the way of enrolment, ``False`` when
    it does, ``None`` when data is missing. ``reason`` is phrased as what is required
    of the patient ("CNS metastases is yes; must be no").
    """

    code: str
    kind: CriterionKind
    text: str
    applies_to: AppliesTo
    status: Status
    satisfied: bool | None
    reason: str
    missing_fields: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": str(self.kind),
            "text": self.text,
            "applies_to": str(self.applies_to),
            "status": str(self.status),
            "satisfied": self.satisfied,
            "reason": self.reason,
            "missing_fields": list(self.missing_fields),
        }


@dataclass(frozen=True)
class ScreeningDecision:
    """Result of screening one patient against a set of criteria.

    ``verdict`` is NOT_ELIGIBLE as soon as one applicable criterion definitely fails
    (even if other data is still missing: more data cannot change that), INCOMPLETE
    when nothing fails but something is missing, ELIGIBLE only when every inclusion
    is MET and every exclusion is NOT_MET.
    """

    verdict: Verdict
    results: tuple[CriterionResult, ...]
    is_expatriate: bool
    not_applicable: tuple[str, ...] = ()

    @property
    def eligible(self) -> bool:
        return self.verdict is Verdict.ELIGIBLE

    @property
    def incomplete(self) -> bool:
        return self.verdict is Verdict.INCOMPLETE

    @property
    def failed(self) -> tuple[CriterionResult, ...]:
        return tuple(r for r in self.results if r.satisfied is False)

    @property
    def undetermined(self) -> tuple[CriterionResult, ...]:
        return tuple(r for r in self.results if r.satisfied is None)

    @property
    def missing_fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for r in self.results for f in r.missing_fields))

    def result(self, code: str) -> CriterionResult:
        for r in self.results:
            if r.code == code:
                return r
        raise KeyError(code)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly snapshot, e.g. to store with the screening record."""
        return {
            "verdict": str(self.verdict),
            "eligible": self.eligible,
            "is_expatriate": self.is_expatriate,
            "results": [r.to_dict() for r in self.results],
            "not_applicable": list(self.not_applicable),
            "missing_fields": list(self.missing_fields),
        }


_SWAP: Final[Mapping[Status, Status]] = {
    Status.MET: Status.NOT_MET,
    Status.NOT_MET: Status.MET,
    Status.MISSING: Status.MISSING,
}


def _check_codes(criteria: Sequence[Criterion]) -> None:
    seen: set[str] = set()
    for c in criteria:
        if c.code in seen:
            raise ValueError(f"duplicate criterion code {c.code!r}")
        seen.add(c.code)


def screen(
    criteria: Iterable[Criterion],
    data: Mapping[str, Any],
    is_expatriate: bool,
    *,
    catalogue: Mapping[str, FieldSpec] | None = None,
) -> ScreeningDecision:
    """Screen one patient: evaluate every applicable criterion against ``data``.

    Criteria with ``applies_to=expatriate`` are skipped (and listed in
    ``not_applicable``) unless ``is_expatriate``. Raises :class:`RuleError` if a rule
    is malformed and ``ValueError`` for duplicate codes.
    """
    items = list(criteria)
    _check_codes(items)
    lab = _Labeller(FIELD_CATALOGUE if catalogue is None else catalogue)
    results: list[CriterionResult] = []
    skipped: list[str] = []
    for c in items:
        if not c.applies(is_expatriate):
            skipped.append(c.code)
            continue
        problems = _problems(c.rule, None)
        if problems:
            raise RuleError([f"{c.code}: {p}" for p in problems])
        is_exclusion = c.kind is CriterionKind.EXCLUSION
        # Evaluate what the criterion *requires*: for an exclusion that is the
        # negated rule, which also phrases the reason as a requirement.
        required = _eval(c.rule, data, is_exclusion, lab)
        satisfied = None if required.status is Status.MISSING else required.status is Status.MET
        status = _SWAP[required.status] if is_exclusion else required.status
        results.append(
            CriterionResult(
                code=c.code,
                kind=c.kind,
                text=c.text,
                applies_to=c.applies_to,
                status=status,
                satisfied=satisfied,
                reason=required.reason,
                missing_fields=required.missing_fields,
            )
        )
    if any(r.satisfied is False for r in results):
        verdict = Verdict.NOT_ELIGIBLE
    elif any(r.satisfied is None for r in results):
        verdict = Verdict.INCOMPLETE
    else:
        verdict = Verdict.ELIGIBLE
    return ScreeningDecision(verdict, tuple(results), is_expatriate, tuple(skipped))


def fields_needed(criteria: Iterable[Criterion], is_expatriate: bool) -> set[str]:
    """Raw fields read by the applicable criteria (derived fields expanded).

    Includes fields supplied by the trial configuration (``FieldSource.TRIAL`` in the
    catalogue, e.g. ``planned_followup_days``) and fields that only matter in some
    branches (e.g. ``last_radiotherapy_date`` when there was radiotherapy); the form
    decides how to present those.
    """
    needed: set[str] = set()
    for c in criteria:
        if c.applies(is_expatriate):
            for name in rule_fields(c.rule):
                needed.update(raw_fields(name))
    return needed


def validate_criteria(
    criteria: Iterable[Criterion], known_fields: Mapping[str, FieldSpec] | Iterable[str]
) -> list[str]:
    """Problems of a whole criteria set: duplicate codes and every rule's problems."""
    items = list(criteria)
    known = known_fields if isinstance(known_fields, Mapping) else list(known_fields)
    problems: list[str] = []
    seen: set[str] = set()
    for c in items:
        if c.code in seen:
            problems.append(f"{c.code}: duplicate criterion code")
        seen.add(c.code)
        problems.extend(f"{c.code}: {p}" for p in validate_rule(c.rule, known))
    return problems


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
