"""Evaluation of a rule against screening data (three-valued: MET, NOT_MET, MISSING)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from .base import _NEGATED_OP, RuleError, Status
from .catalogue import (
    _PERMIT_INPUTS,
    FIELD_CATALOGUE,
    DerivedField,
    FieldSpec,
    parse_derived_field,
    raw_fields,
)
from .validation import _problems
from .values import _apply, _completed_years, _Incomparable, _is_number, _normalise
from .wording import _fmt, _Labeller, _lower_first, _names, _requirement

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
