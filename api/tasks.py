from __future__ import annotations

from celery import shared_task

from .services import idempotency_purge


@shared_task(acks_late=True)
def purge_idempotency_records() -> int:
    """Delete idempotency records older than ``IDEMPOTENCY_TTL_HOURS`` (Celery beat)."""
    return idempotency_purge()
