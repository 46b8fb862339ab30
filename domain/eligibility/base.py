"""Eligibility rules: the vocabulary (statuses, field types, verdicts, operators) and the
error a malformed rule raises."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Final

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
