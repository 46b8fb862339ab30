"""Periodic jobs over trial subjects (Celery beat, ``CELERY_BEAT_SCHEDULE`` in
config/settings.py): the daily visit sweep and the SAE escalation. Each is idempotent by
its notification keys, acknowledged late (a worker lost mid-run means the job runs again,
harmlessly) and retried a bounded number of times on database or connection errors.
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from audit.context import audit_context

from .services.sae import sae_escalate_overdue
from .sweeps import visits_sweep

_RETRYABLE = (ConnectionError, OperationalError, InterfaceError)


@shared_task(
    acks_late=True, autoretry_for=_RETRYABLE, max_retries=3, retry_backoff=30, retry_jitter=True
)
def daily_sweep(today: str | None = None) -> dict:
    """Mark visits whose window closed as missed; coordinators' digests and reminders."""
    day = datetime.date.fromisoformat(today) if today else None
    with audit_context(origin="task"):
        return visits_sweep(today=day).as_dict()


@shared_task(
    acks_late=True, autoretry_for=_RETRYABLE, max_retries=3, retry_backoff=30, retry_jitter=True
)
def sae_escalate() -> int:
    """Escalate serious adverse events whose reporting deadline passed unreported."""
    with audit_context(origin="task"):
        return sae_escalate_overdue()
