from __future__ import annotations

from celery import shared_task

from audit.context import audit_context

from .services import notification_deliver, outbox_flush


@shared_task(
    acks_late=True,
    autoretry_for=(ConnectionError,),
    max_retries=3,
    retry_backoff=True,
    ignore_result=True,  # queued from requests: touch nothing but the broker
)
def deliver_notification(message_id: int) -> bool:
    with audit_context(origin="task"):
        return notification_deliver(message_id=message_id)


@shared_task(acks_late=True)
def flush_outbox() -> int:
    with audit_context(origin="task"):
        return outbox_flush()
