from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from clinical.models import LabReferenceRange, PlannedRegimen
from patients.services.visits import patient_local_today

from ..patients.helpers_visits import enroll, setup_protocol


@pytest.fixture
def protocol(trial):
    return setup_protocol(trial)


@pytest.fixture
def enrolled_a(patient_a, coordinator_site_a, protocol):
    enroll(patient_a, coordinator_site_a, protocol["arm"])
    return patient_a


@pytest.fixture
def today(enrolled_a):
    return patient_local_today(enrolled_a)


@pytest.fixture
def ranges(trial_site_a):
    """Site A's laboratory: ranges in force since 2020."""
    site = trial_site_a.site
    since = datetime.date(2020, 1, 1)
    made = {}
    for analyte, lower, upper in (
        ("platelets", 125.0, 350.0),
        ("neutrophils", 1.8, 6.3),
        ("haemoglobin", 115.0, 150.0),
        ("alt", 7.0, 40.0),
        ("bilirubin", 3.4, 20.5),
        ("albumin", 40.0, 55.0),
        ("creatinine", 41.0, 81.0),
        ("inr", 0.8, 1.2),
    ):
        made[analyte] = LabReferenceRange.objects.create(
            site=site, analyte=analyte, lower=lower, upper=upper, effective_from=since
        )
    return made


@pytest.fixture
def regimens(protocol):
    i = protocol["interventions"]
    return {
        "lenvatinib": PlannedRegimen.objects.create(
            intervention=i["Lenvatinib"],
            route="oral",
            dose_mg=Decimal(12),
            weight_threshold_kg=Decimal(60),
            dose_below_threshold_mg=Decimal(8),
            interval_days=1,
        ),
        "toripalimab": PlannedRegimen.objects.create(
            intervention=i["Toripalimab"], route="iv", dose_mg=Decimal(240), interval_days=21
        ),
    }
