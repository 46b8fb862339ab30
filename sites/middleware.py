from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .scoping import scope_for


def user_time_zone(user: object) -> str:
    """The time zone of the user's site when they work at exactly one; else the default."""
    zones = {
        m.trial_site.site.time_zone
        for m in scope_for(user).memberships
        if m.trial_site_id is not None
    }
    return zones.pop() if len(zones) == 1 else settings.TIME_ZONE


class SiteTimezoneMiddleware:
    """Times are stored in UTC and shown in the site's time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(zoneinfo.ZoneInfo(user_time_zone(user)))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
