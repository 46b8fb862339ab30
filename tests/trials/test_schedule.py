from datetime import date

from domain.schedule import PlannedVisit, VisitSpec, nearest_clinic_day, plan_visits

MON, WED = 0, 2


def test_visit_lands_on_nearest_clinic_day_inside_window():
    # Enrolled Monday 2026-11-02; day 21 target is Monday 2026-11-23 (a clinic day).
    (v,) = plan_visits(date(2026, 11, 2), [VisitSpec("C2D1", 21, 3, 3)], [MON, WED])
    assert v == PlannedVisit(
        "C2D1", date(2026, 11, 23), date(2026, 11, 20), date(2026, 11, 26), date(2026, 11, 23), True
    )


def test_target_off_clinic_day_moves_to_closest_clinic_day():
    # Target Friday 2026-11-27: Wednesday 25th is 2 days before, Monday 30th 3 after.
    (v,) = plan_visits(date(2026, 11, 6), [VisitSpec("W3", 21, 3, 3)], [MON, WED])
    assert v.scheduled == date(2026, 11, 25) and v.on_clinic_day


def test_tie_prefers_earlier_day():
    # Target Tuesday 2026-11-24, Monday 23rd and Wednesday 25th both one day away.
    assert nearest_clinic_day(
        date(2026, 11, 24), date(2026, 11, 21), date(2026, 11, 27), [MON, WED]
    ) == date(2026, 11, 23)


def test_no_clinic_day_in_window_keeps_target_and_flags_it():
    (v,) = plan_visits(date(2026, 11, 5), [VisitSpec("D1", 0, 0, 0)], [MON, WED])  # Thursday
    assert v.scheduled == date(2026, 11, 5) and not v.on_clinic_day


def test_not_before_excludes_past_days():
    (v,) = plan_visits(
        date(2026, 11, 2), [VisitSpec("W1", 7, 7, 7)], [MON], not_before=date(2026, 11, 10)
    )
    assert v.scheduled == date(2026, 11, 16)
