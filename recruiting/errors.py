"""Error pages of the public area (``/recruiting/<lang>/...``): the public layout, in the
page's language, and no cookie. The staff error pages extend the staff layout, whose
logout form holds a CSRF token, so rendering them sets the CSRF cookie; a visitor who
mistyped a link must not get one (the public pages set no cookie until a form is sent).

``config.urls`` routes 400/403/404/500 here for public paths; a 405 (a POST to a
GET-only page) is Django's empty ``HttpResponseNotAllowed``, which sets no cookie either.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.views import defaults

#: Staff pages under /recruiting/ (login required): they keep the staff error pages.
STAFF_SEGMENTS = {"inbox", "clinics", "referrals"}


def public_language(request: HttpRequest) -> str | None:
    """The public page's language if ``request`` is for the public area, else None."""
    path = request.path_info
    if not path.startswith("/recruiting/"):
        return None
    first = path[len("/recruiting/") :].split("/", 1)[0]
    if first in STAFF_SEGMENTS:
        return None
    offered = list(settings.RECRUITING_LANGUAGES)
    return first if first in offered else offered[0]


def _messages(status: int) -> tuple[str, str]:
    if status == 404:
        return _("Page not found"), _(
            "This page does not exist. The trial may no longer be recruiting, or the link "
            "is mistyped."
        )
    if status in (400, 403):
        return _("This request cannot be served"), _(
            "Please go back to the trial page and try again."
        )
    return _("Something went wrong"), _(
        "The page could not be shown. Please try again in a few minutes."
    )


def public_error(request: HttpRequest, lang: str, status: int) -> HttpResponse:
    """Render the public error page without touching the database (a 500 may be the
    database itself) and without a CSRF token."""
    with translation.override(lang):
        title, message = _messages(status)
        info = get_language_info(lang)
        html = render_to_string(
            "recruiting/error.html",
            {
                "lang": lang,
                "lang_dir": "rtl" if info.get("bidi") else "ltr",
                "languages": [],
                "title": title,
                "message": message,
            },
        )
    response = HttpResponse(html, status=status)
    response["Content-Language"] = lang
    return response


def _handler(status: int, default: Any) -> Any:
    def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lang = public_language(request)
        if lang is None:
            return default(request, *args, **kwargs)
        return public_error(request, lang, status)

    handler.__name__ = f"handler{status}"
    return handler


handler400 = _handler(400, defaults.bad_request)
handler403 = _handler(403, defaults.permission_denied)
handler404 = _handler(404, defaults.page_not_found)
handler500 = _handler(500, defaults.server_error)
