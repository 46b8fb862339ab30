"""Enqueue and deliver notifications through the outbox."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import OutboxMessage

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
    messages = []
    for email, language in recipients:
        if not email:
            continue
        full_key = f"{key}:{email}"[:200]
        if OutboxMessage.objects.filter(key=full_key).exists():
            continue
        with translation.override(language):
            text = render_to_string(f"emails/{template}.txt", context).strip()
        subject, _sep, body = text.partition("\n")
        try:
            # A savepoint: a concurrent writer of the same key (two sweeps at once) makes
            # this one a no-op instead of breaking the caller's transaction.
            with transaction.atomic():
                message = OutboxMessage.objects.create(
                    key=full_key,
                    kind=kind,
                    recipient=email,
                    language=language,
                    subject=subject.strip()[:300],
                    body=body.strip(),
                    trial=trial,
                    trial_site=trial_site,
                    attachments=list(attachments or []),
                )
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
    """Send one pending message; True if this call sent it. Safe to run twice."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
            .first()
        )
        if message is None:
            return False
        message.attempts += 1
        try:
            email = EmailMessage(
                message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.recipient]
            )
            for item in message.attachments or []:
                email.attach(item["filename"], item["content"], item.get("mimetype"))
            email.send()
        except Exception as exc:
            message.last_error = str(exc)[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxMessage.Status.FAILED
            message.save()
            logger.warning(
                "notification %s failed (attempt %s): %s", message.pk, message.attempts, exc
            )
            return False
        message.status = OutboxMessage.Status.SENT
        message.sent_at = timezone.now()
        message.last_error = ""
        message.save()
        return True


def outbox_flush(*, limit: int = 500) -> int:
    """Deliver every pending message (oldest first); returns how many were sent."""
    sent = 0
    ids = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        sent += notification_deliver(message_id=pk)
    return sent
