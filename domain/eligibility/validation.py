"""Validation of a rule as configured in the admin: unknown fields or operators,
wrong value types, depth; every problem listed at once."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Final

from .base import (
    _FIELD_NAME,
    _LEAF_KEYS,
    _LIST_OPS,
    _NO_VALUE_OPS,
    _NODE_KINDS,
    _ORDER_OPS,
    MAX_RULE_DEPTH,
    OPERATORS,
    FieldType,
)
from .catalogue import FieldSpec, parse_derived_field
from .values import _normalise
from .wording import _fmt

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
