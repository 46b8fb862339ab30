"""Counts for research roles: per center, suppressed, persons counted once, throttled,
logged; center staff see their own rows only."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from research.cohorts import Throttled, cohort_counts, cohort_patients
from research.models import CohortQuery

from .test_criteria import ICCA_FGFR2_ABLATION

pytestmark = pytest.mark.django_db


def cells(counts) -> dict[str, str]:
    return {c.key: c.display for c in counts.table.cells}


def test_researcher_sees_per_center_counts_with_small_cells_suppressed(network, researcher):
    counts = cohort_counts(criteria=ICCA_FGFR2_ABLATION, acting_user=researcher)
    # A 7, B 3 (hidden), so A is hidden too: 9 persons - 0 (C) would give B back otherwise
    assert cells(counts) == {"CA": "*", "CB": "< 5", "CC": "0"}
    # 7 + 3 records, but one person is at both centers
    assert counts.table.total.display == "9"
    body = str(counts.as_dict())
    assert "'count': 7" not in body and "'count': 3" not in body


def test_every_query_is_logged_with_what_was_shown(network, researcher):
    cohort_counts(criteria=ICCA_FGFR2_ABLATION, acting_user=researcher)
    log = CohortQuery.objects.get()
    assert log.username == "researcher" and log.criteria == ICCA_FGFR2_ABLATION
    assert log.result["total"] == {"count": 9, "display": "9"}
    assert {c["key"]: c["count"] for c in log.result["cells"]} == {"CA": None, "CB": None, "CC": 0}


def test_near_identical_queries_are_throttled(network, researcher, researcher_2, settings):
    settings.RESEARCH_REPEAT_LIMIT = 3
    for days in (30, 60, 90):
        tree = {"type": "treatment", "kind": ["mwa"], "within_days_of_diagnosis": days}
        cohort_counts(criteria=tree, acting_user=researcher)
    cohort_counts(criteria=tree, acting_user=researcher)  # the same question again: answered
    with pytest.raises(Throttled):
        cohort_counts(
            criteria={"type": "treatment", "kind": ["mwa"], "within_days_of_diagnosis": 91},
            acting_user=researcher,
        )
    assert CohortQuery.objects.filter(throttled=True).count() == 1
    # another question, or another researcher, is not throttled
    cohort_counts(criteria={"type": "patient", "sex": "F"}, acting_user=researcher)
    cohort_counts(
        criteria={"type": "treatment", "kind": ["mwa"], "within_days_of_diagnosis": 91},
        acting_user=researcher_2,
    )


def test_center_staff_see_only_their_own_rows(network, abstractor_a, abstractor_b, researcher):
    own = cohort_patients(ICCA_FGFR2_ABLATION, abstractor_a)
    assert own.count() == 7 and {p.site.code for p in own} == {"CA"}
    assert cohort_patients(ICCA_FGFR2_ABLATION, abstractor_b).count() == 3
    assert cohort_patients(ICCA_FGFR2_ABLATION, researcher).count() == 0


def test_roles_without_aggregates_may_not_count(network, abstractor_a, coordinator_site_a):
    for user in (abstractor_a, coordinator_site_a):
        with pytest.raises(PermissionDenied):
            cohort_counts(criteria=ICCA_FGFR2_ABLATION, acting_user=user)
    assert not CohortQuery.objects.exists()
