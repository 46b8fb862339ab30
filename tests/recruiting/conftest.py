from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.cache import cache

from recruiting import demo
from recruiting.models import SiteClinic
from trials.models import ConsentVersion, ProtocolVersion
from trials.services import criteria_load_defaults


@pytest.fixture(autouse=True)
def _fresh_rate_limit() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def public_trial(trial: Any, trial_site_a: Any, trial_site_b: Any) -> Any:
    """The trial with its public page, clinics (site A: Monday and Wednesday, like the
    lead site; site B: Tuesday and Thursday), the default criteria and the questions."""
    version = ProtocolVersion.objects.create(
        trial=trial, version="1.0", effective_date=datetime.date(2025, 1, 1)
    )
    criteria_load_defaults(protocol_version=version, acting_user=None)
    ConsentVersion.objects.create(
        trial=trial,
        version="1.0",
        language="en",
        ethics_approval_ref="EC-1",
        approved_on=datetime.date(2025, 1, 1),
        effective_from=datetime.date(2025, 1, 1),
    )
    trial.chictr_id = "ChiCTR2600012345"
    trial.save()
    demo.load(trial)
    return trial


@pytest.fixture
def clinic_a(public_trial: Any, trial_site_a: Any) -> SiteClinic:
    return SiteClinic.objects.get(trial_site=trial_site_a)


def next_weekday(weekday: int, *, after: datetime.date | None = None) -> datetime.date:
    day = (after or datetime.date.today()) + datetime.timedelta(days=1)
    while day.weekday() != weekday:
        day += datetime.timedelta(days=1)
    return day
