from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.users import ActingUser

from .models import ApiToken, IdempotencyRecord


def api_token_create(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns it with the raw key, which is never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, e.g. the system that uses it.")})
    if len(name) > 100:
        raise ValidationError({"name": _("Keep the name under 100 characters.")})
    if ApiToken.objects.filter(user=user, name=name, revoked_at__isnull=True).exists():
        raise ValidationError({"name": _("You already have an active token with this name.")})
    raw, prefix, digest = ApiToken.generate()
    with transaction.atomic(), audit_context(user=user, reason="API token created"):
        token = ApiToken.objects.create(user=user, name=name, prefix=prefix, key_hash=digest)
    return token, raw


def api_token_revoke(*, token: ApiToken, acting_user: ActingUser) -> ApiToken:
    if token.user_id != acting_user.pk:
        raise PermissionDenied
    if token.revoked_at is None:
        with transaction.atomic(), audit_context(user=acting_user, reason="API token revoked"):
            token.revoked_at = timezone.now()
            token.save()
    return token


def idempotency_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete idempotency records older than ``IDEMPOTENCY_TTL_HOURS``; returns how many.

    A retry after that is a new request: clients retry within minutes, and the stored
    response (encrypted, but still a copy of identity) should not outlive its purpose.
    """
    limit = (now or timezone.now()) - datetime.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _rows = IdempotencyRecord.objects.filter(created_at__lt=limit).delete()
    return deleted
