from __future__ import annotations

from celery import shared_task
from django.db import connection


@shared_task(acks_late=True)
def healthcheck() -> dict:
    """Round trip used by CI and operators: proves a worker can reach the database."""
    from trials.models import Trial

    return {"status": "ok", "database": connection.vendor, "trials": Trial.objects.count()}


@shared_task(acks_late=True)
def clear_expired_sessions() -> int:
    """Daily: delete expired login sessions."""
    from .retention import sessions_clear_expired

    return sessions_clear_expired()


@shared_task(acks_late=True)
def archive_access_log() -> list[str]:
    """Daily: copy each old month of the access log into a compressed, hashed file."""
    from .retention import access_log_archive

    return [str(path) for path in access_log_archive()]
