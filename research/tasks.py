from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, max_retries=3, default_retry_delay=60)
def refresh_registry_facts() -> float:
    """Rebuild the research search table (``research.facts``); nightly, and queued when
    a query finds it stale. Idempotent: a rebuild from the same registry gives the same
    rows."""
    from .facts import facts_current, facts_refresh

    if facts_current():
        return 0.0
    return facts_refresh().seconds
