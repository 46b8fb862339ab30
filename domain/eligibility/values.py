"""Screening values: normalisation and comparison of what a rule compares."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .base import _ISO_DATE, _LIST_OPS

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
