from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from sites.scoping import ScopedQuerySet


class OutboxQuerySet(ScopedQuerySet):
    scope_trial_field = "trial"
    scope_trial_site_field = "trial_site"


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
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=40)
    recipient = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=10, default="en")
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    # Files sent with the message: [{"filename", "content", "mimetype"}] (text only, e.g. .ics).
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
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
    last_error = models.TextField(_("last error"), blank=True)
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
        return f"{self.kind} → {self.recipient} ({self.get_status_display()})"

    @property
    def message_id(self) -> str:
        """The RFC 5322 Message-ID of this notification: the same on every (re-)send."""
        from django.conf import settings

        digest = hashlib.sha256(self.key.encode()).hexdigest()[:40]
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("<> ") or "localhost"
        return f"<outbox.{digest}@{domain}>"
