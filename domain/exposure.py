"""Treatment exposure: expected dose from the protocol regimen, cumulative dose,
duration and relative dose intensity (pure Python, no Django).

Definitions (as in the exposure tables of oncology trial reports):

- duration of exposure: first dose date to the last day on drug (the end of the last
  dosing period, or for an interval regimen the last administration + interval - 1 days,
  capped at the cut-off date), inclusive;
- cumulative dose: sum of dose x days of each daily dosing period, or sum of the
  administered doses for an interval regimen; interruptions contribute 0;
- dose intensity: cumulative dose / duration (mg per day);
- relative dose intensity (RDI): dose intensity / planned dose intensity, where planned
  dose intensity is the planned dose / interval in days (for weight-banded regimens the
  planned dose for the weight at the start).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Regimen:
    dose_mg: Decimal  # at or above the threshold when weight-banded
    interval_days: int = 1
    weight_threshold_kg: Decimal | None = None
    dose_below_threshold_mg: Decimal | None = None


def expected_dose(regimen: Regimen, weight_kg: Decimal | float | None) -> Decimal | None:
    """Planned dose for a patient's weight: the lower dose strictly below the threshold
    (lenvatinib: 8 mg for < 60 kg, 12 mg for >= 60 kg). None when the regimen is
    weight-banded and the weight is unknown."""
    if regimen.weight_threshold_kg is None or regimen.dose_below_threshold_mg is None:
        return regimen.dose_mg
    if weight_kg is None:
        return None
    if Decimal(str(weight_kg)) < regimen.weight_threshold_kg:
        return regimen.dose_below_threshold_mg
    return regimen.dose_mg


@dataclass(frozen=True)
class DosingRecord:
    start: datetime.date
    end: datetime.date | None  # None: a single administration (or an open period)
    dose_mg: Decimal  # per day (daily regimen) or per administration; 0 = interruption


@dataclass(frozen=True)
class ExposureSummary:
    first_dose: datetime.date | None
    last_day: datetime.date | None
    duration_days: int
    cumulative_dose_mg: Decimal
    dose_intensity_mg_per_day: Decimal | None
    planned_intensity_mg_per_day: Decimal | None
    relative_dose_intensity: Decimal | None  # 0.85 = 85 %
    reductions: int
    interruptions: int


def summarise(
    records: list[DosingRecord],
    *,
    regimen: Regimen,
    planned_dose_mg: Decimal | None,
    cutoff: datetime.date,
    reductions: int = 0,
) -> ExposureSummary:
    """Exposure to one drug from its dosing records up to ``cutoff`` (inclusive)."""
    daily = regimen.interval_days == 1
    given = [r for r in records if r.start <= cutoff]
    dosed = [r for r in given if r.dose_mg > 0]
    interruptions = sum(1 for r in given if r.dose_mg == 0)
    if not dosed:
        return ExposureSummary(
            None, None, 0, Decimal(0), None, None, None, reductions, interruptions
        )
    first = min(r.start for r in dosed)
    cumulative = Decimal(0)
    last = first
    for r in dosed:
        if daily:
            end = min(r.end or cutoff, cutoff)
            days = (end - r.start).days + 1
            cumulative += r.dose_mg * days
            last = max(last, end)
        else:
            cumulative += r.dose_mg
            covered = r.start + datetime.timedelta(days=regimen.interval_days - 1)
            last = max(last, min(covered, cutoff))
    duration = (last - first).days + 1
    intensity = (cumulative / duration).quantize(Decimal("0.01"))
    planned = None
    rdi = None
    if planned_dose_mg:
        planned = (planned_dose_mg / regimen.interval_days).quantize(Decimal("0.01"))
        rdi = (cumulative / duration / (planned_dose_mg / regimen.interval_days)).quantize(
            Decimal("0.001")
        )
    return ExposureSummary(
        first, last, duration, cumulative, intensity, planned, rdi, reductions, interruptions
    )
