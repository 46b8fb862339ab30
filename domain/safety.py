"""Expedited reporting of serious adverse events (pure Python, no Django).

Rules (ICH E2A; China's GCP 2020 art. 26 and the NMPA's expedited-reporting guidance):

- every serious adverse event (SAE) is reported by the investigator to the sponsor
  at once, at the latest **24 hours** after awareness;
- a **SUSAR** (suspected unexpected serious adverse reaction) is an SAE that is
  *related* to a study intervention (possibly, probably or definitely, for any one of
  them) and *unexpected* per the reference safety information (investigator's brochure
  or label). It is reported to the authorities within **7 calendar days** if fatal or
  life-threatening, otherwise within **15 days**; day 0 is the sponsor's awareness.

Deadlines are counted from the awareness time itself, so the 7 or 15 days end at the
same time of day as awareness: never later than the end of that calendar day.
Expectedness not yet assessed (``None``) does not start the SUSAR clock here; the safety
page asks for the assessment, and once "unexpected" is recorded the deadline counts from
the original awareness, so a late assessment cannot buy time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

INITIAL_REPORT = timedelta(hours=24)
SUSAR_FATAL_OR_LIFE_THREATENING = timedelta(days=7)
SUSAR_OTHER = timedelta(days=15)
#: Causality categories that make an event a suspected adverse *reaction*.
RELATED = frozenset({"possible", "probable", "definite"})
#: ICH E2A seriousness criteria that shorten the SUSAR deadline to 7 days.
FATAL_OR_LIFE_THREATENING = frozenset({"death", "life_threatening"})

INITIAL = "initial"
SUSAR = "susar"
REPORTS = (INITIAL, SUSAR)


@dataclass(frozen=True)
class SaeDeadlines:
    initial_report_due: datetime | None
    susar: bool
    susar_report_due: datetime | None


@dataclass(frozen=True)
class Deadline:
    """One reporting obligation of an SAE and where it stands at ``now``."""

    report: str  # INITIAL or SUSAR
    due: datetime
    reported_at: datetime | None
    overdue: bool
    remaining: timedelta  # negative once overdue; time left at report for reported ones


def is_related(relatedness: Iterable[str]) -> bool:
    return any(r in RELATED for r in relatedness)


def is_susar(*, serious: bool, relatedness: Iterable[str], expected: bool | None) -> bool:
    """Serious, related to at least one intervention, and assessed as unexpected."""
    return bool(serious) and expected is False and is_related(relatedness)


def is_fatal_or_life_threatening(criteria: Iterable[str], *, fatal: bool = False) -> bool:
    return fatal or any(c in FATAL_OR_LIFE_THREATENING for c in criteria)


def sae_deadlines(
    *,
    serious: bool,
    criteria: Iterable[str],
    fatal: bool,
    relatedness: Iterable[str],
    expected: bool | None,
    awareness_at: datetime,
) -> SaeDeadlines:
    """The reporting deadlines of an adverse event; none for a non-serious one."""
    if not serious:
        return SaeDeadlines(initial_report_due=None, susar=False, susar_report_due=None)
    relatedness = list(relatedness)
    criteria = list(criteria)
    susar = is_susar(serious=serious, relatedness=relatedness, expected=expected)
    susar_due = None
    if susar:
        window = (
            SUSAR_FATAL_OR_LIFE_THREATENING
            if is_fatal_or_life_threatening(criteria, fatal=fatal)
            else SUSAR_OTHER
        )
        susar_due = awareness_at + window
    return SaeDeadlines(
        initial_report_due=awareness_at + INITIAL_REPORT, susar=susar, susar_report_due=susar_due
    )


def deadline_state(
    *, report: str, due: datetime, reported_at: datetime | None, now: datetime
) -> Deadline:
    reference = reported_at or now
    return Deadline(
        report=report,
        due=due,
        reported_at=reported_at,
        overdue=reference > due,
        remaining=due - reference,
    )


def open_deadlines(
    *,
    initial_report_due: datetime | None,
    initial_reported_at: datetime | None,
    susar_report_due: datetime | None,
    susar_reported_at: datetime | None,
    now: datetime,
) -> list[Deadline]:
    """The deadlines not yet met by a report, nearest first."""
    out = []
    if initial_report_due is not None and initial_reported_at is None:
        out.append(
            deadline_state(report=INITIAL, due=initial_report_due, reported_at=None, now=now)
        )
    if susar_report_due is not None and susar_reported_at is None:
        out.append(deadline_state(report=SUSAR, due=susar_report_due, reported_at=None, now=now))
    return sorted(out, key=lambda d: d.due)


def overdue_deadlines(**kwargs: Any) -> list[Deadline]:
    """The open deadlines that have passed (to escalate)."""
    return [d for d in open_deadlines(**kwargs) if d.overdue]


def worst_grade_incidence(
    events: Iterable[tuple[object, object, int]], enrolled: dict[object, int]
) -> dict[object, dict[str, object]]:
    """Adverse-event incidence by worst grade per patient, per group (arm).

    ``events``: (group, patient, grade) for every adverse event; ``enrolled``: patients
    enrolled per group. Each patient counts once, at their worst grade. Returns per group
    ``{"enrolled": n, "any": (n, pct), "grades": {1: (n, pct), ... 5: (n, pct)}}`` with
    percentages of the enrolled patients of the group (None when none are enrolled).
    """
    worst: dict[tuple[object, object], int] = {}
    for group, patient, grade in events:
        key = (group, patient)
        worst[key] = max(worst.get(key, 0), int(grade))
    out: dict[object, dict[str, object]] = {}
    for group, n in enrolled.items():

        def pct(k: int, n: int = n) -> float | None:
            return round(100.0 * k / n, 1) if n else None

        grades = dict.fromkeys(range(1, 6), 0)
        for (g_group, _patient), grade in worst.items():
            if g_group == group and 1 <= grade <= 5:
                grades[grade] += 1
        total = sum(grades.values())
        out[group] = {
            "enrolled": n,
            "any": (total, pct(total)),
            "grades": {g: (k, pct(k)) for g, k in grades.items()},
        }
    return out
