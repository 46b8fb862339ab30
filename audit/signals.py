from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from .context import current, history_extras, history_username


@receiver(pre_create_historical_record)
def fill_audit_extras(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    ctx = current()
    history_instance.history_username = history_username(history_instance.history_user, ctx)
    for name, value in history_extras(ctx).items():
        setattr(history_instance, name, value)
    if ctx is not None and not history_instance.history_change_reason and ctx.reason:
        history_instance.history_change_reason = ctx.reason


def _log(event: str, request: Any, user: Any = None, username: str = "") -> None:
    from .models import AccessLog

    AccessLog.record(event=event, request=request, user=user, username=username)


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _log("login", request, user)


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _log("logout", request, user)


@receiver(user_locked_out)
def on_locked_out(sender: Any, request: Any = None, username: str = "", **kwargs: Any) -> None:
    """django-axes refused a login (limit reached, or an attempt during the cool-off)."""
    _log("locked_out", request, None, str(username or "")[:150])


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    _log("login_failed", request, None, str(credentials.get("username", ""))[:150])
