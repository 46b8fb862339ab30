from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from audit.context import audit_context

from .services import referrals_purge


@shared_task(
    acks_late=True,
    autoretry_for=(ConnectionError, OperationalError, InterfaceError),
    max_retries=3,
    retry_backoff=30,
)
def purge_referrals() -> int:
    """Delete referrals never converted into a patient after the retention time."""
    with audit_context(origin="task"):
        return referrals_purge()
