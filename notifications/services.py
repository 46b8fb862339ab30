"""Enqueue and deliver notifications through the outbox."""

from __future__ import annotations

import contextvars
import datetime
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from audit.bulk import bulk_create_audited
from audit.history import set_change_reason

from .models import OutboxMessage, recipient_digest

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
_muted: contextvars.ContextVar[bool] = contextvars.ContextVar("notifications_muted", default=False)


@contextmanager
def notifications_muted() -> Iterator[None]:
    """Write no notification inside this block: loading demo or historical data, where
    nobody is to be told (``seed_demo``)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def user_language(user: Any) -> str:
    """The language a user reads: their last choice in the UI switch, else the default."""
    profile = getattr(user, "staff_profile", None) if user is not None else None
    return profile.preferred_language if profile is not None else settings.LANGUAGE_CODE


def notification_enqueue(
    *,
    key: str,
    kind: str,
    recipients: Iterable[tuple[str, str]],
    template: str,
    context: dict[str, Any],
    trial: Any = None,
    trial_site: Any = None,
    attachments: list[dict[str, str]] | None = None,
) -> list[OutboxMessage]:
    """Write one outbox row per (email, language) recipient, rendered in that language.

    ``template`` names ``templates/emails/<template>.txt``; its first line is the subject.
    Must be called inside the transaction of the change that causes the notification.
    Already-enqueued keys are skipped, so calling it twice has no further effect.
    ``attachments`` (``{"filename", "content", "mimetype"}`` text files, e.g. an ``.ics``)
    go with every message.
    """
    if _muted.get():
        return []
    wanted: dict[str, tuple[str, str]] = {}  # full key -> (email, language), first wins
    for email, language in recipients:
        if email:
            wanted.setdefault(f"{key[:170]}:{recipient_digest(email)}", (email, language))
    if not wanted:
        return []
    # one query for the keys already enqueued, one rendering per language
    done = set(
        OutboxMessage.objects.filter(key__in=list(wanted)).order_by().values_list("key", flat=True)
    )
    texts: dict[str, tuple[str, str]] = {}

    def unsaved(full_key: str, email: str, language: str) -> OutboxMessage:
        if language not in texts:
            with translation.override(language):
                text = render_to_string(f"emails/{template}.txt", context).strip()
            subject, _sep, body = text.partition("\n")
            texts[language] = (subject.strip()[:300], body.strip())
        subject, body = texts[language]
        return OutboxMessage(
            key=full_key,
            kind=kind,
            recipient=email,
            language=language,
            subject=subject,
            body=body,
            trial=trial,
            trial_site=trial_site,
            attachments=list(attachments or []),
        )

    todo = [(k, e, lang) for k, (e, lang) in wanted.items() if k not in done]
    messages: list[OutboxMessage] = []
    try:
        # One INSERT for the messages and one for their history rows (attributed as a
        # save()), in a savepoint: a concurrent writer of one of the keys (two sweeps at
        # once) rolls it back, and the rows are then written one by one below.
        with transaction.atomic():
            messages = list(bulk_create_audited([unsaved(*row) for row in todo]))
    except IntegrityError:
        for row in todo:
            try:
                with transaction.atomic():
                    message = unsaved(*row)
                    message.save(force_insert=True)
            except IntegrityError:
                continue
            messages.append(message)
    if messages:
        ids = [m.pk for m in messages]
        transaction.on_commit(lambda: _schedule_delivery(ids))
    return messages


def _schedule_delivery(ids: list[int]) -> None:
    """Hand the new messages to a worker; if the broker is unreachable, they stay pending
    and the periodic flush delivers them later. Never fails the request."""
    from .tasks import deliver_notification

    for n, pk in enumerate(ids):
        try:
            deliver_notification.delay(pk)
        except Exception as exc:  # broker down: the outbox keeps the message
            # Don't try the rest one by one (each attempt costs the publish retries):
            # the periodic flush delivers them all once the broker is back.
            logger.warning("%s notification(s) left in the outbox: %s", len(ids) - n, exc)
            return


def notification_deliver(*, message_id: int) -> bool:
    """Send one pending message; True if this call handed it to the mail server.

    Three steps, so that no transaction stays open across the SMTP call and a lost worker
    is recoverable: (1) claim the row as *sending* and commit; (2) send, with the
    Message-ID derived from the outbox key; (3) mark it *sent* (or back to *pending* /
    *failed* on an SMTP error). A second call while the row is *sending* or *sent* does
    nothing; a row stuck in *sending* is recovered by :func:`outbox_recover_stuck`.
    """
    message = _claim(message_id)
    if message is None:
        return False
    try:
        _send(message)
    except Exception as exc:
        _record_failure(message, exc)
        return False
    _mark_sent(message)
    return True


def _claim(message_id: int) -> OutboxMessage | None:
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
            .first()
        )
        if message is None:
            return None
        message.status = OutboxMessage.Status.SENDING
        message.sending_since = timezone.now()
        message.attempts += 1
        message.save(update_fields=["status", "sending_since", "attempts"])
    return message


def _send(message: OutboxMessage) -> None:
    email = EmailMessage(
        message.subject,
        message.body,
        settings.DEFAULT_FROM_EMAIL,
        [message.recipient],
        headers={"Message-ID": message.message_id},
    )
    for item in message.attachments or []:
        email.attach(item["filename"], item["content"], item.get("mimetype"))
    email.send()


def _mark_sent(message: OutboxMessage) -> None:
    with transaction.atomic():
        message.status = OutboxMessage.Status.SENT
        message.sent_at = timezone.now()
        message.last_error = ""
        message.save(update_fields=["status", "sent_at", "last_error"])


def _record_failure(message: OutboxMessage, exc: Exception) -> None:
    with transaction.atomic():
        message.last_error = str(exc)[:2000]
        message.status = (
            OutboxMessage.Status.FAILED
            if message.attempts >= MAX_ATTEMPTS
            else OutboxMessage.Status.PENDING
        )
        message.save(update_fields=["status", "last_error"])
    logger.warning("notification %s failed (attempt %s): %s", message.pk, message.attempts, exc)


def outbox_recover_stuck(*, now: datetime.datetime | None = None) -> int:
    """Put rows left *sending* longer than ``OUTBOX_SENDING_TIMEOUT_SECONDS`` back to
    *pending* (the worker died after or during the SMTP hand-off: whether the mail left
    is unknown, so it is sent again, with the same Message-ID). Returns how many."""
    now = now or timezone.now()
    limit = now - datetime.timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT_SECONDS)
    recovered = 0
    with transaction.atomic():
        stuck = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            status=OutboxMessage.Status.SENDING, sending_since__lt=limit
        )
        for message in stuck:
            message.status = OutboxMessage.Status.PENDING
            message.last_error = "worker lost during delivery; sent again (same Message-ID)"
            set_change_reason(message, "Outbox recovery: stuck in sending")
            message.save(update_fields=["status", "last_error"])
            recovered += 1
    if recovered:
        logger.warning("%s notification(s) stuck in sending will be sent again", recovered)
    return recovered


def outbox_flush(*, limit: int = 500) -> int:
    """Recover rows stuck in *sending*, then deliver every pending message (oldest
    first); returns how many were sent."""
    outbox_recover_stuck()
    sent = 0
    ids = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        sent += notification_deliver(message_id=pk)
    return sent


def outbox_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete messages sent (or given up on) more than ``OUTBOX_RETENTION_DAYS`` ago:
    the outbox is a delivery queue, not an archive of what people were told. Pending and
    sending rows are never purged. Returns how many were deleted. Each deletion is a
    history row, with the encrypted columns only (``purge-outbox`` beat job)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    done = OutboxMessage.objects.filter(
        Q(status=OutboxMessage.Status.SENT, sent_at__lt=cutoff)
        | Q(status=OutboxMessage.Status.FAILED, created_at__lt=cutoff)
    )
    deleted = 0
    for pk in list(done.values_list("pk", flat=True)[:5000]):
        with transaction.atomic():
            message = OutboxMessage.objects.select_for_update().filter(pk=pk).first()
            if message is None:
                continue
            set_change_reason(message, "Outbox retention period over")
            message.delete()
            deleted += 1
    return deleted
