"""Exposure arithmetic and the prohibited-medication check, without a database."""

from __future__ import annotations

import datetime
from decimal import Decimal

from domain.conmeds import check
from domain.exposure import DosingRecord, Regimen, expected_dose, summarise

D = datetime.date(2026, 3, 2)
DAY = datetime.timedelta(days=1)
LENVATINIB = Regimen(
    dose_mg=Decimal(12), weight_threshold_kg=Decimal(60), dose_below_threshold_mg=Decimal(8)
)
PD1 = Regimen(dose_mg=Decimal(240), interval_days=21)


def test_lenvatinib_dose_by_weight_band():
    assert expected_dose(LENVATINIB, 59.9) == Decimal(8)  # "< 60 kg"
    assert expected_dose(LENVATINIB, 60) == Decimal(12)  # ">= 60 kg"
    assert expected_dose(LENVATINIB, None) is None  # never guessed
    assert expected_dose(PD1, None) == Decimal(240)


def test_daily_drug_with_interruption_and_reduction():
    records = [
        DosingRecord(D, D + 9 * DAY, Decimal(12)),  # 10 days x 12
        DosingRecord(D + 10 * DAY, D + 14 * DAY, Decimal(0)),  # interrupted 5 days
        DosingRecord(D + 15 * DAY, None, Decimal(8)),  # open period, up to the cut-off
    ]
    summary = summarise(
        records, regimen=LENVATINIB, planned_dose_mg=Decimal(12), cutoff=D + 24 * DAY, reductions=1
    )
    # 120 + 0 + 10 x 8 = 200 mg over 25 days = 8 mg/day of 12: RDI 0.667
    assert summary.cumulative_dose_mg == Decimal(200)
    assert summary.duration_days == 25
    assert summary.dose_intensity_mg_per_day == Decimal("8.00")
    assert summary.relative_dose_intensity == Decimal("0.667")
    assert (summary.interruptions, summary.reductions) == (1, 1)


def test_interval_drug_duration_covers_the_last_cycle():
    records = [DosingRecord(D + n * 21 * DAY, None, Decimal(240)) for n in range(3)]
    summary = summarise(records, regimen=PD1, planned_dose_mg=Decimal(240), cutoff=D + 100 * DAY)
    # three infusions: days 0, 21, 42, the last covering 42-62: 63 days, full intensity
    assert summary.cumulative_dose_mg == Decimal(720)
    assert summary.duration_days == 63
    assert summary.relative_dose_intensity == Decimal("1.000")


def test_no_dose_yet():
    summary = summarise([], regimen=PD1, planned_dose_mg=Decimal(240), cutoff=D)
    assert (summary.first_dose, summary.relative_dose_intensity) == (None, None)


def test_prohibited_medications():
    assert check("Gemcitabine").category == "anticancer"
    assert check("oxaliplatin 85 mg/m2").prohibited
    caution = check("Methylprednisolone")
    assert (caution.category, caution.prohibited) == ("immunosuppressant", False)
    assert check("amlodipine").category == ""
    assert check("prednisolone eye drops").category == "immunosuppressant"  # whole words
    assert check("BCG vaccine").prohibited
