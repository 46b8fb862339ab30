"""The project-wide history base: every model uses ``AuditedHistory()``.

Each historical row carries, besides simple-history's user, date, type and change
reason: a copy of the username (kept if the account is later removed), the client IP,
user agent and a request id, filled from :mod:`audit.context`.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .context import current


class AuditHistoryBase(models.Model):
    history_username = models.CharField(_("username"), max_length=150, blank=True, default="")
    history_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    history_user_agent = models.CharField(_("user agent"), max_length=300, blank=True, default="")
    history_request_id = models.CharField(_("request id"), max_length=64, blank=True, default="")
    history_origin = models.CharField(_("origin"), max_length=16, blank=True, default="")

    class Meta:
        abstract = True


def acting_user(instance: Any = None, request: Any = None, **_: Any) -> Any:
    """Resolve the acting user: the service's context first, then the request."""
    ctx = current()
    if ctx is not None and ctx.user is not None and getattr(ctx.user, "is_authenticated", False):
        return ctx.user
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return None


def AuditedHistory(**kwargs: Any) -> HistoricalRecords:  # noqa: N802 - reads like a field
    kwargs.setdefault("excluded_fields", [])
    return HistoricalRecords(
        bases=[AuditHistoryBase],
        get_user=acting_user,
        cascade_delete_history=False,
        **kwargs,
    )
