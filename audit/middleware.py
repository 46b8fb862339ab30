from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .context import audit_context


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as seen by the first proxy we trust.

    ``TRUSTED_PROXY_HOPS`` (default 0) is the number of reverse proxies in front of the
    app. With 0, ``X-Forwarded-For`` is ignored (any client can send it) and the peer
    address is used. With N, each trusted proxy appended the address it received from,
    so the client is the N-th address from the right; a header with fewer entries, or an
    entry that is not an IP address, is ignored and the peer address is used. Never
    raises: a hostile header must not fail a request or reach the audit trail.
    """
    peer = _valid_ip(request.META.get("REMOTE_ADDR"))
    hops = getattr(settings, "TRUSTED_PROXY_HOPS", 0)
    if hops <= 0:
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return peer
    return _valid_ip(forwarded[-hops]) or peer


class AuditContextMiddleware:
    """Attach user, IP, user agent and a request id to every write of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.META.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex
        request.request_id = request_id[:64]
        if request.path.startswith("/admin/"):
            origin = "admin"
        elif request.path.startswith("/api/"):
            origin = "api"
        else:
            origin = "web"
        user = getattr(request, "user", None)
        with audit_context(
            user=user if user is not None and user.is_authenticated else None,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            request_id=request.request_id,
            origin=origin,
        ):
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response
