from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_in
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history import register

from access.scoping import PersonalQuerySet

from .context import current
from .history import AuditHistoryBase, acting_user
from .middleware import client_ip

# Accounts are audited too (ICH E6(R3) 4.2: account creation and role changes).
# The password hash and last_login are not copied into history: logins are in AccessLog.
register(
    get_user_model(),
    app="audit",
    bases=[AuditHistoryBase],
    get_user=acting_user,
    excluded_fields=["password", "last_login"],
)
user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")


class AccessLogQuerySet(PersonalQuerySet):
    """Scoped by person (``access.scoping.PersonalQuerySet``): global roles see the whole
    log, anyone else their own entries."""


class AccessLog(models.Model):
    """Append-only log of logins and of access to records (read events).

    Rows are only ever inserted (``AccessLog.record``); nothing updates or deletes them,
    so they carry no separate history.
    """

    class Event(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGOUT = "logout", _("Logged out")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOCKED_OUT = "locked_out", _("Login refused: account locked")
        VIEW = "view", _("Viewed a record")
        EXPORT = "export", _("Exported data")
        DOWNLOAD = "download", _("Downloaded a file")
        UNBLIND = "unblind", _("Emergency unblinding")

    at = models.DateTimeField(_("time (UTC)"), default=timezone.now, db_index=True)
    event = models.CharField(_("event"), max_length=20, choices=Event.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    object_type = models.CharField(_("record type"), max_length=100, blank=True)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.event}"

    @classmethod
    def record(
        cls,
        *,
        event: str,
        request: Any = None,
        user: Any = None,
        username: str = "",
        obj: Any = None,
    ) -> AccessLog:
        ctx = current()
        if user is None and request is not None and getattr(request, "user", None) is not None:
            user = request.user if request.user.is_authenticated else None
        if user is not None and event == cls.Event.LOGIN:
            # last_login kept without a history row per login (see module docstring)
            type(user).objects.filter(pk=user.pk).update(last_login=timezone.now())
        return cls.objects.create(
            event=event,
            user=user,
            username=(user.get_username() if user is not None else username)[:150],
            ip=client_ip(request) if request is not None else (ctx.ip if ctx else None),
            user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[
                :300
            ],
            path=(request.path if request is not None else "")[:300],
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            request_id=getattr(request, "request_id", "") if request is not None else "",
        )
