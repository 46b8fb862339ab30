"""Self pre-screening: a person's answers to patient-worded questions, evaluated by the
same eligibility engine the coordinator's screening uses (``domain.eligibility``).

Each question fills one raw field of the engine's catalogue; "I don't know" leaves the
field missing. The engine's verdict is then read for a person, not a coordinator:

* ``probably_not``: an applicable criterion definitely fails on the answers given;
* ``doctor_check``: nothing fails, but a criterion the person was asked about could not
  be decided from the answers (they did not know, or it hinges on details such as dates
  of earlier treatment);
* ``may_be_eligible``: nothing fails and every criterion the person could answer is met;
  the criteria nobody can self-assess (blood tests, scans) are checked at the clinic.

No Django here: the caller turns database rows into :class:`Question` objects.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.eligibility import Criterion, raw_fields, rule_fields, screen

__all__ = [
    "Answer",
    "Kind",
    "Option",
    "PrescreenOutcome",
    "Question",
    "Verdict",
    "answers_to_data",
    "birth_date_for_age",
    "prescreen",
]


#: In an option's values: the day of the pre-screening.
TODAY = "@today"


class Kind(StrEnum):
    YES_NO = "yes_no"
    CHOICE = "choice"
    AGE = "age"
    DATE = "date"


class Answer(StrEnum):
    """Answers of a yes/no question."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    MAY_BE_ELIGIBLE = "may_be_eligible"
    PROBABLY_NOT = "probably_not"
    DOCTOR_CHECK = "doctor_check"


@dataclass(frozen=True)
class Option:
    key: str
    values: Mapping[str, Any]  # e.g. {"ecog": 1}; empty = "I don't know"


@dataclass(frozen=True)
class Question:
    key: str
    field: str
    kind: Kind
    options: tuple[Option, ...] = ()
    expatriate_only: bool = False

    def applies(self, is_expatriate: bool) -> bool:
        return is_expatriate or not self.expatriate_only


@dataclass(frozen=True)
class PrescreenOutcome:
    verdict: Verdict
    not_met: tuple[str, ...] = ()  # criterion codes that fail
    to_check: tuple[str, ...] = ()  # asked about, but undecided from the answers
    clinic_checks: tuple[str, ...] = ()  # never asked: checked at the clinic
    engine: Mapping[str, Any] = field(default_factory=dict)  # the engine's decision

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "not_met": list(self.not_met),
            "to_check": list(self.to_check),
            "clinic_checks": list(self.clinic_checks),
            "engine": dict(self.engine),
        }


def birth_date_for_age(age: int, today: datetime.date) -> datetime.date:
    """A date of birth at which a person is exactly ``age`` completed years old today.

    The person gives only their age (not their date of birth: less to disclose); their
    birthday is taken to be today, so the engine's ``age_years`` equals the age given.
    29 February becomes 28 February in a non-leap year.
    """
    year = today.year - age
    try:
        return today.replace(year=year)
    except ValueError:
        return datetime.date(year, 2, 28)


def answers_to_data(
    questions: Iterable[Question],
    answers: Mapping[str, Any],
    *,
    today: datetime.date,
    is_expatriate: bool,
    known: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Screening data for the engine from the answers (keyed by question key).

    ``known`` holds values the trial supplies (planned follow-up, whether a consent
    document exists in the person's language). Unknown or invalid answers add nothing.
    """
    data: dict[str, Any] = {"screening_date": today}
    data.update(known or {})
    for q in questions:
        if not q.applies(is_expatriate):
            continue
        value = answers.get(q.key)
        if value in (None, "", Answer.UNKNOWN):
            continue
        match q.kind:
            case Kind.YES_NO:
                if value in (Answer.YES, Answer.NO):
                    data[q.field] = value == Answer.YES
            case Kind.CHOICE:
                chosen = next((o for o in q.options if o.key == str(value)), None)
                if chosen is not None:
                    # "@today" stands for the day of the pre-screening ("in the last
                    # five years" is answered as a recent date).
                    data.update({k: today if v == TODAY else v for k, v in chosen.values.items()})
            case Kind.AGE:
                if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 120:
                    data["birth_date"] = birth_date_for_age(value, today)
            case Kind.DATE:
                if isinstance(value, datetime.date):
                    data[q.field] = value
    return data


def _asked_fields(questions: Iterable[Question], is_expatriate: bool) -> set[str]:
    asked: set[str] = set()
    for q in questions:
        if not q.applies(is_expatriate):
            continue
        asked.add("birth_date" if q.kind is Kind.AGE else q.field)
        for option in q.options:
            asked.update(option.values)
    return asked


def prescreen(
    criteria: Sequence[Criterion],
    questions: Sequence[Question],
    answers: Mapping[str, Any],
    *,
    today: datetime.date,
    is_expatriate: bool,
    known: Mapping[str, Any] | None = None,
) -> PrescreenOutcome:
    """Evaluate the answers against the criteria with the eligibility engine."""
    data = answers_to_data(
        questions, answers, today=today, is_expatriate=is_expatriate, known=known
    )
    decision = screen(criteria, data, is_expatriate)
    asked = _asked_fields(questions, is_expatriate)
    by_code = {c.code: c for c in criteria}

    def was_asked(code: str) -> bool:
        needed: set[str] = set()
        for name in rule_fields(by_code[code].rule):
            needed.update(raw_fields(name))
        return bool(needed & asked)

    not_met = tuple(r.code for r in decision.failed)
    undecided = [r.code for r in decision.undetermined]
    to_check = tuple(c for c in undecided if was_asked(c))
    clinic = tuple(c for c in undecided if not was_asked(c))
    if not_met:
        verdict = Verdict.PROBABLY_NOT
    elif to_check:
        verdict = Verdict.DOCTOR_CHECK
    else:
        verdict = Verdict.MAY_BE_ELIGIBLE
    engine = decision.to_dict()
    return PrescreenOutcome(verdict, not_met, to_check, clinic, engine)
