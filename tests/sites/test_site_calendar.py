"""The site calendar (``Site.zone``, ``Site.today``, ``Site.local_date``): the one place
"today at the site" is computed (visit windows, consent dates, digests, appointments)."""

import datetime
import zoneinfo

from django.conf import settings

from sites.models import Site

UTC = datetime.UTC


def test_today_follows_the_sites_calendar_not_the_servers():
    late_evening_utc = datetime.datetime(2026, 3, 1, 20, 30, tzinfo=UTC)
    shanghai = Site(code="SH", name="S", city="Shanghai", time_zone="Asia/Shanghai")
    honolulu = Site(code="HN", name="H", city="Honolulu", time_zone="Pacific/Honolulu")
    assert shanghai.today(late_evening_utc) == datetime.date(2026, 3, 2)  # 04:30 next day
    assert honolulu.today(late_evening_utc) == datetime.date(2026, 3, 1)  # 10:30 same day
    assert shanghai.local_date(late_evening_utc) == datetime.date(2026, 3, 2)
    assert shanghai.zone == zoneinfo.ZoneInfo("Asia/Shanghai")


def test_a_zone_the_database_does_not_know_falls_back_to_the_deployments():
    legacy = Site(code="OLD", name="O", city="X", time_zone="Nowhere/Atlantis")
    assert legacy.zone == zoneinfo.ZoneInfo(settings.TIME_ZONE)
    moment = datetime.datetime(2026, 3, 1, 20, 30, tzinfo=UTC)
    assert legacy.today(moment) == moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()
