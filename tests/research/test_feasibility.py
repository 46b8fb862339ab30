"""Trial eligibility over the registry: unknown is not met; counts per center for the
sponsor (suppressed), candidates with reasons for the center's own staff."""

from __future__ import annotations

import datetime

import pytest

from research.feasibility import feasibility
from trials.models import ProtocolVersion
from trials.services import criteria_load_defaults

pytestmark = pytest.mark.django_db


@pytest.fixture
def trial_with_criteria(trial):
    version = ProtocolVersion.objects.create(
        trial=trial, version="1.0", effective_date=datetime.date(2024, 1, 1)
    )
    criteria_load_defaults(protocol_version=version, acting_user=None)
    return trial


def test_sponsor_sees_suppressed_counts_per_center(network, researcher, trial_with_criteria):
    result = feasibility(trial=trial_with_criteria, acting_user=researcher)
    counts = result["counts"]
    # the registry records no labs: nobody is "met" on registry data alone
    assert all(c["count"] in (0, None) for c in counts["met"]["cells"])
    assert counts["met"]["total"]["display"] == "0"
    unknown = {c["key"]: c["display"] for c in counts["unknown"]["cells"]}
    excluded = {c["key"]: c["display"] for c in counts["excluded"]["cells"]}
    # hepatocellular carcinoma at C: 6 excluded (shown, or "*" when hidden to protect a
    # small cell elsewhere), never labelled small
    assert excluded["CC"] in ("6", "*")
    assert unknown["CC"] == "0" and unknown["CA"] == "< 5"  # 4 alive of 7 (3 died)
    assert "candidates" in result and result["candidates"] == []  # no center of their own


def test_center_staff_get_their_candidates_with_what_is_still_unknown(
    network, abstractor_a, trial_with_criteria
):
    result = feasibility(trial=trial_with_criteria, acting_user=abstractor_a)
    assert "counts" not in result  # no aggregate permission
    numbers = {c.record.record_number for c in result["candidates"]}
    alive = [p for i, p in enumerate(network["a"]) if i % 2 == 0]
    assert numbers == {p.record_number for p in alive}
    first = result["candidates"][0]
    assert first.outcome == "unknown" and first.unknown  # e.g. the laboratory values
    assert first.screening_url == "/patients/register/"
