"""What a locked-out user sees (django-axes ``AXES_LOCKOUT_CALLABLE``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def lockout_message() -> str:
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return ngettext(
        "Too many failed logins for this account from your address: it is locked for "
        "%(minutes)d minute. Try again later, or ask an administrator to unlock it.",
        "Too many failed logins for this account from your address: it is locked for "
        "%(minutes)d minutes. Try again later, or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: dict | None = None
) -> HttpResponse:
    """The login page again (429) with a plain message; JSON for API clients."""
    message = lockout_message()
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    # The admin login too: one page explains it.
    context = {
        "form": AuthenticationForm(request),
        "locked_out": message,
        "title": _("Log in"),
    }
    return render(request, "registration/login.html", context, status=429)
