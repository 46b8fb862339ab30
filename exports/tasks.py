"""Export tasks: thin wrappers around ``exports.services``.

``run_export`` is acknowledged late (a worker that dies mid-export leaves the message
to be delivered again) and retries a bounded number of times on errors that may pass
(database connection, disk); the service makes a second run harmless.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .models import ExportJob
from .services import export_expire_due, export_requeue_stale, export_run

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, OSError)
MAX_RETRIES = 3


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def run_export(self, job_id: int) -> str:  # noqa: ANN001 - Celery's bound task
    try:
        return export_run(job_id=job_id).status
    except ExportJob.DoesNotExist:
        logger.warning("Export job %s no longer exists", job_id)
        return "missing"
    except TRANSIENT as exc:
        retries = self.request.retries
        if self.request.is_eager:
            # Without a broker (development, tests) retry in place, as often as a worker
            # would: Celery's eager mode raises ``Retry`` instead of retrying.
            if retries >= self.max_retries:
                raise
            logger.warning("Export %s: %s; retrying", job_id, exc)
            return self.apply(args=(job_id,), retries=retries + 1, throw=True).get()
        raise self.retry(exc=exc, countdown=min(300, 10 * 2**retries)) from exc


@shared_task(acks_late=True)
def expire_exports() -> dict[str, int]:
    """Hourly: delete expired files; queue again jobs whose task was never delivered."""
    return {"expired": export_expire_due(), "requeued": export_requeue_stale()}
