from __future__ import annotations

from celery import shared_task

from .services import notification_deliver, outbox_flush


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), max_retries=3, retry_backoff=True)
def deliver_notification(message_id: int) -> bool:
    return notification_deliver(message_id=message_id)


@shared_task(acks_late=True)
def flush_outbox() -> int:
    return outbox_flush()
