"""How an outcome is phrased: field labels, formatted values and requirements."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .catalogue import FieldSpec, parse_derived_field
from .values import _normalise

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
