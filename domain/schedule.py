"""Visit scheduling on clinic days (pure Python, no Django).

A protocol visit has a target day (anchor + offset) and a window [target - before,
target + after]. Sites run their trial clinic on some weekdays only (the lead site on
Monday and Wednesday), so the scheduled date is the clinic day inside the window closest
to the target, the earlier one on a tie. With no clinic day inside the window (or no
clinic days configured) the target date itself is used and ``on_clinic_day`` is False so
the coordinator can see it needs arranging.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class VisitSpec:
    code: str
    day_offset: int
    window_before: int
    window_after: int


@dataclass(frozen=True)
class PlannedVisit:
    code: str
    target: date
    window_start: date
    window_end: date
    scheduled: date
    on_clinic_day: bool


def window(anchor: date, spec: VisitSpec) -> tuple[date, date, date]:
    target = anchor + timedelta(days=spec.day_offset)
    return (
        target,
        target - timedelta(days=spec.window_before),
        target + timedelta(days=spec.window_after),
    )


def nearest_clinic_day(
    target: date,
    start: date,
    end: date,
    clinic_weekdays: Iterable[int],
    *,
    not_before: date | None = None,
) -> date | None:
    """The clinic day in [start, end] (and >= not_before) closest to target; earlier on ties."""
    days = set(clinic_weekdays)
    if not days:
        return None
    lower = max(start, not_before) if not_before else start
    best: date | None = None
    current = lower
    while current <= end:
        if current.weekday() in days and (
            best is None or abs((current - target).days) < abs((best - target).days)
        ):
            best = current
        current += timedelta(days=1)
    return best


def plan_visits(
    anchor: date,
    specs: Iterable[VisitSpec],
    clinic_weekdays: Iterable[int],
    *,
    not_before: date | None = None,
) -> list[PlannedVisit]:
    weekdays = list(clinic_weekdays)
    planned = []
    for spec in specs:
        target, start, end = window(anchor, spec)
        day = nearest_clinic_day(target, start, end, weekdays, not_before=not_before)
        planned.append(
            PlannedVisit(
                code=spec.code,
                target=target,
                window_start=start,
                window_end=end,
                scheduled=day or target,
                on_clinic_day=day is not None,
            )
        )
    return planned
