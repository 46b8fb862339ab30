from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import audit_context


def client_ip(request: HttpRequest) -> str | None:
    # Behind the documented reverse proxy, REMOTE_ADDR is the proxy; trust its header.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    ip = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")
    return ip or None


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
