import datetime

from domain.outcomes import outcomes

D = datetime.date


def test_death_is_an_os_event_and_ends_rfs_and_pfs():
    o = outcomes(anchor=D(2024, 1, 1), last_contact=D(2024, 6, 1), death_date=D(2024, 7, 1))
    assert (o.os.days, o.os.event) == (182, True)
    assert o.rfs == o.os and o.pfs == o.os


def test_alive_is_censored_at_last_contact():
    o = outcomes(anchor=D(2024, 1, 1), last_contact=D(2025, 1, 1), death_date=None)
    assert (o.os.days, o.os.event) == (366, False)


def test_recurrence_counts_for_rfs_not_pfs():
    o = outcomes(
        anchor=D(2024, 1, 1),
        last_contact=D(2025, 1, 1),
        death_date=None,
        recurrence_date=D(2024, 4, 1),
    )
    assert (o.rfs.days, o.rfs.event) == (91, True)
    assert (o.pfs.days, o.pfs.event) == (366, False)
    assert o.os.event is False


def test_events_before_the_anchor_are_ignored_and_no_follow_up_gives_no_time():
    o = outcomes(
        anchor=D(2024, 3, 1),
        last_contact=None,
        death_date=None,
        progression_date=D(2024, 2, 1),
    )
    assert o.pfs.days is None and o.pfs.event is False
