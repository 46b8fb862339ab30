from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedTextField

from audit.history import AuditedHistory
from sites.scoping import Scope, ScopedQuerySet

TOKEN_PREFIX = "hbt_"  # noqa: S105 - a public prefix, not a secret


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class OwnQuerySet(ScopedQuerySet):
    """Tokens and idempotency records belong to their user; only they (and the global
    roles) see them."""

    def scope_q(self, scope: Scope) -> models.Q:
        users = {m.user_id for m in scope.memberships}
        return models.Q(user__in=users)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 hash is stored; the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = OwnQuerySet.as_manager()
    history = AuditedHistory(excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """(raw key, display prefix, hash)."""
        secret = secrets.token_urlsafe(32)
        raw = f"{TOKEN_PREFIX}{secret}"
        return raw, raw[: len(TOKEN_PREFIX) + 6], hash_token(raw)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The stored response of a POST made with an ``Idempotency-Key`` header.

    The response can carry identity (a registered patient's name and document number),
    so its body is encrypted at rest like every identity field, the record has **no
    history** (a retry cache, not clinical data: a copy in a history table would outlive
    the purge) and ``api.tasks.purge_idempotency_records`` deletes records older than
    ``IDEMPOTENCY_TTL_HOURS`` (Celery beat, hourly).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # The response's JSON text, Fernet-encrypted (``response_body`` reads and writes it).
    response_encrypted = EncryptedTextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = OwnQuerySet.as_manager()
    # No ``history``: documented exemption in tests/audit/test_history.py (NO_HISTORY).

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"

    @property
    def response_body(self) -> Any:
        return None if not self.response_encrypted else json.loads(self.response_encrypted)

    @response_body.setter
    def response_body(self, value: Any) -> None:
        self.response_encrypted = json.dumps(value, default=str, ensure_ascii=False)
