from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

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


# Periodic job (Celery beat, ``CELERY_BEAT_SCHEDULE`` in config/settings.py): idempotent,
# acknowledged late (a worker lost mid-run means the job runs again, harmlessly) and
# retried a bounded number of times on database or connection errors.
_RETRYABLE = (ConnectionError, OperationalError, InterfaceError)


@shared_task(acks_late=True, autoretry_for=_RETRYABLE, max_retries=3, retry_backoff=30)
def purge_outbox() -> int:
    """Daily: delete sent messages older than ``OUTBOX_RETENTION_DAYS``."""
    from .services import outbox_purge

    with audit_context(origin="task", reason="Outbox retention period over"):
        return outbox_purge()
