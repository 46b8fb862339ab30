"""Responses that carry identity are never stored by browsers or proxies."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (with Django's never-cache set) on every page of a
    logged-in user and on every API answer: patient pages and identity fields must not be
    kept in a shared computer's browser cache or in a proxy. Static files are served
    before this (WhiteNoise) and stay cacheable; the login page stays cacheable too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(self.static_prefix):
            return response
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        if authenticated or request.path.startswith("/api/"):
            add_never_cache_headers(response)
        return response
