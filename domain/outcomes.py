"""Time-to-event outcomes of a registry patient (pure Python, no Django).

From an anchor date (diagnosis, or first treatment), with the last contact, the date of
death and the first recurrence / progression:
  OS  overall survival: death from any cause; censored at last contact.
  RFS recurrence-free survival (after curative treatment): recurrence or death.
  PFS progression-free survival: progression or death.
Events after the anchor only; an event on the anchor day counts as day 0. Time in days.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

ENGINE_VERSION = "outcomes-1.0"


@dataclass(frozen=True)
class TimeToEvent:
    days: int | None  # None: no follow-up after the anchor
    event: bool


@dataclass(frozen=True)
class Outcomes:
    anchor: datetime.date
    os: TimeToEvent
    rfs: TimeToEvent
    pfs: TimeToEvent
    engine_version: str = ENGINE_VERSION


def _tte(
    anchor: datetime.date, end: datetime.date | None, event_date: datetime.date | None
) -> TimeToEvent:
    if event_date is not None and event_date >= anchor:
        return TimeToEvent((event_date - anchor).days, True)
    if end is None or end < anchor:
        return TimeToEvent(None, False)
    return TimeToEvent((end - anchor).days, False)


def outcomes(
    *,
    anchor: datetime.date,
    last_contact: datetime.date | None,
    death_date: datetime.date | None,
    recurrence_date: datetime.date | None = None,
    progression_date: datetime.date | None = None,
) -> Outcomes:
    end: datetime.date | None = max(d for d in (last_contact, death_date, anchor) if d is not None)
    if last_contact is None and death_date is None:
        end = None

    def first(*dates: datetime.date | None) -> datetime.date | None:
        after = [d for d in dates if d is not None and d >= anchor]
        return min(after) if after else None

    return Outcomes(
        anchor=anchor,
        os=_tte(anchor, end, first(death_date)),
        rfs=_tte(anchor, end, first(recurrence_date, death_date)),
        pfs=_tte(anchor, end, first(progression_date, death_date)),
    )
