"""Research tasks: build a governed extract, expire the downloads (thin wrappers around
``research.extracts``), rebuild the search table (``research.facts``)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import extracts
from .models import Extract

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, OSError)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def build_extract(self, extract_id: int) -> str:  # noqa: ANN001 - Celery's bound task
    """Acknowledged late (a worker that dies mid-build leaves the message to be delivered
    again); errors that may pass are retried with a back-off, in place without a broker."""
    try:
        return extracts.extract_build(extract_id=extract_id).status
    except Extract.DoesNotExist:
        logger.warning("Extract %s no longer exists", extract_id)
        return "missing"
    except TRANSIENT as exc:
        retries = self.request.retries
        if self.request.is_eager:
            if retries >= self.max_retries:
                raise
            return self.apply(args=(extract_id,), retries=retries + 1, throw=True).get()
        raise self.retry(exc=exc, countdown=min(300, 10 * 2**retries)) from exc


@shared_task(acks_late=True)
def expire_extracts() -> dict[str, int]:
    """Hourly: delete expired extract files; queue again extracts never delivered."""
    return {
        "expired": extracts.extracts_expire_due(),
        "requeued": extracts.extracts_requeue_stale(),
    }


@shared_task(acks_late=True, max_retries=3, default_retry_delay=60)
def refresh_registry_facts() -> float:
    """Rebuild the research search table (``research.facts``); nightly, and queued when
    a query finds it stale. Idempotent: a rebuild from the same registry gives the same
    rows."""
    from .facts import facts_current, facts_refresh

    if facts_current():
        return 0.0
    return facts_refresh().seconds
