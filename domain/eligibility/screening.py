"""Criteria and the screening decision over a set of criteria."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .base import AppliesTo, CriterionKind, RuleError, Status, Verdict
from .catalogue import FIELD_CATALOGUE, FieldSpec, raw_fields
from .rules import _eval
from .validation import _problems, rule_fields, validate_rule
from .wording import _Labeller

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
