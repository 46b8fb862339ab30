from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField, EncryptedJSONField, EncryptedTextField

from audit.history import AuditedHistory
from sites.scoping import ScopedQuerySet


def recipient_digest(email: str) -> str:
    """A keyed digest of an address (HMAC with the field-encryption key): the outbox key
    names its recipient by this, so the key column holds no address, and nobody without
    the key can test whether an address is in the outbox."""
    key = hmac.new(
        settings.FIELD_ENCRYPTION_KEY.encode(), b"outbox-recipient-v1", hashlib.sha256
    ).digest()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()[:24]


class EncryptedBlankTextField(EncryptedTextField):
    """Encrypted text that may be empty (``""`` stays ``""``, the column is NOT NULL)."""

    if TYPE_CHECKING:  # encrypted_fields has no types: on a message the value is a str

        def __get__(self, instance: models.Model, owner: type[models.Model]) -> str: ...
        def __set__(self, instance: models.Model, value: str) -> None: ...

    def get_prep_value(self, value: Any) -> Any:
        if value == "":
            return ""
        return super().get_prep_value(value)


class OutboxQuerySet(ScopedQuerySet):
    scope_trial_field = "trial"
    scope_trial_site_field = "trial_site"

    def for_recipient(self, email: str) -> OutboxQuerySet:
        """Messages to ``email`` (the address itself is encrypted: found by its digest)."""
        return self.filter(key__endswith=f":{recipient_digest(email)}")


class OutboxMessage(models.Model):
    """A notification written in the same transaction as the change that causes it and
    delivered later by a worker (transactional outbox).

    If the broker is down when the change commits, the message simply waits: the
    periodic ``outbox_flush`` task delivers it once the broker is back. ``key`` is unique,
    so enqueuing the same notification twice (a retried request, a sweep run twice) keeps
    one message.

    Delivery (``notifications.services.notification_deliver``) claims the row as
    *sending* and commits before handing the mail to SMTP, then marks it *sent*. A worker
    lost between the two leaves the row *sending*; after ``OUTBOX_SENDING_TIMEOUT_SECONDS``
    the flush sends it again (whether the first hand-off reached the server is unknown)
    with the same ``Message-ID``, derived from ``key``, so mail clients and the reader
    recognise the copy: at-least-once delivery, de-duplicable by Message-ID.

    Recipient, subject, body, attachments and the last SMTP error are personal data:
    they are encrypted at rest (the project's Fernet fields, as a patient's identity), so
    the history rows — copies of those columns, write-once on PostgreSQL — hold only
    ciphertext; the key names the recipient by :func:`recipient_digest`. Sent (and
    finally failed) messages are deleted after ``OUTBOX_RETENTION_DAYS`` by the
    ``purge-outbox`` beat job.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=40)
    recipient = EncryptedCharField(_("recipient"), max_length=254)
    language = models.CharField(_("language"), max_length=10, default="en")
    subject = EncryptedCharField(_("subject"), max_length=300)
    body = EncryptedBlankTextField(_("body"), blank=True)
    # Files sent with the message: [{"filename", "content", "mimetype"}] (text only, e.g. .ics).
    attachments = EncryptedJSONField(_("attachments"), default=list, blank=True)
    trial = models.ForeignKey(
        "trials.Trial", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trial_site = models.ForeignKey(
        "trial_sites.TrialSite", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = EncryptedBlankTextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sending_since = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    objects = OutboxQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing notification")
        verbose_name_plural = _("outgoing notifications")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"

    @property
    def message_id(self) -> str:
        """The RFC 5322 Message-ID of this notification: the same on every (re-)send."""
        from django.conf import settings

        digest = hashlib.sha256(self.key.encode()).hexdigest()[:40]
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("<> ") or "localhost"
        return f"<outbox.{digest}@{domain}>"
