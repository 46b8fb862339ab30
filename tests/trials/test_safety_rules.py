"""SAE reporting deadlines and AE incidence: pure rules, no database."""

from __future__ import annotations

import datetime

import pytest

from domain import safety as rules

AWARE = datetime.datetime(2026, 3, 2, 10, 30, tzinfo=datetime.UTC)
H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)


def deadlines(**kw):
    data = dict(
        serious=True,
        criteria=["hospitalisation"],
        fatal=False,
        relatedness=["probable", "not_related"],
        expected=False,
        awareness_at=AWARE,
    )
    data.update(kw)
    return rules.sae_deadlines(**data)


def test_non_serious_event_has_no_deadline():
    d = deadlines(serious=False, criteria=[])
    assert d == rules.SaeDeadlines(None, False, None)


def test_every_sae_is_reported_within_24_hours_of_awareness():
    d = deadlines(relatedness=["not_related"], expected=None)
    assert d.initial_report_due == AWARE + 24 * H
    assert not d.susar and d.susar_report_due is None


@pytest.mark.parametrize(
    "criteria,fatal,days",
    [
        (["hospitalisation"], False, 15),
        (["medically_important"], False, 15),
        (["life_threatening"], False, 7),
        (["death"], True, 7),
        (["hospitalisation"], True, 7),  # fatal outcome
    ],
)
def test_susar_deadline_is_7_days_if_fatal_or_life_threatening_else_15(criteria, fatal, days):
    d = deadlines(criteria=criteria, fatal=fatal)
    assert d.susar
    assert d.susar_report_due == AWARE + days * D  # day 0 = awareness


@pytest.mark.parametrize(
    "relatedness,expected,susar",
    [
        (["possible"], False, True),
        (["definite"], False, True),
        (["unlikely", "probable"], False, True),  # related to any one intervention
        (["unlikely", "not_related"], False, False),  # not a reaction
        (["probable"], True, False),  # expected
        (["probable"], None, False),  # not yet assessed: no SUSAR clock yet
        ([], False, False),
    ],
)
def test_susar_needs_serious_related_and_unexpected(relatedness, expected, susar):
    assert deadlines(relatedness=relatedness, expected=expected).susar is susar
    assert not rules.is_susar(serious=False, relatedness=relatedness, expected=expected)


def test_open_and_overdue_deadlines_nearest_first():
    d = deadlines(criteria=["death"], fatal=True)
    common = dict(
        initial_report_due=d.initial_report_due,
        susar_report_due=d.susar_report_due,
        susar_reported_at=None,
    )
    now = AWARE + 2 * D
    open_ = rules.open_deadlines(initial_reported_at=None, now=now, **common)
    assert [x.report for x in open_] == ["initial", "susar"]
    assert open_[0].overdue and open_[0].remaining == -D
    assert not open_[1].overdue and open_[1].remaining == 5 * D
    assert [
        x.report for x in rules.overdue_deadlines(initial_reported_at=None, now=now, **common)
    ] == ["initial"]
    # The initial report sent: only the SUSAR report stays open; overdue after day 7.
    sent = AWARE + 3 * H
    assert [
        x.report for x in rules.open_deadlines(initial_reported_at=sent, now=now, **common)
    ] == ["susar"]
    late = rules.overdue_deadlines(initial_reported_at=sent, now=AWARE + 8 * D, **common)
    assert [(x.report, x.remaining) for x in late] == [("susar", -D)]


def test_deadline_met_by_a_report_is_not_overdue():
    state = rules.deadline_state(
        report="initial", due=AWARE + 24 * H, reported_at=AWARE + 23 * H, now=AWARE + 5 * D
    )
    assert not state.overdue and state.remaining == H


def test_incidence_counts_each_patient_once_at_worst_grade():
    events = [
        ("A", "p1", 1),
        ("A", "p1", 3),  # p1's worst: 3
        ("A", "p2", 2),
        ("B", "p3", 5),
        ("B", "p3", 1),
    ]
    table = rules.worst_grade_incidence(events, {"A": 4, "B": 2, "C": 0})
    assert table["A"]["any"] == (2, 50.0)
    assert table["A"]["grades"][3] == (1, 25.0)
    assert table["A"]["grades"][1] == (0, 0.0)
    assert table["A"]["grades"][2] == (1, 25.0)
    assert table["B"]["grades"][5] == (1, 50.0)
    assert table["B"]["any"] == (1, 50.0)
    assert table["C"]["any"] == (0, None)  # nobody enrolled: no percentage
