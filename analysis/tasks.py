"""Background recomputation of the dashboard statistics.

``patients.services.response.statistics_invalidate`` bumps a trial's statistics version
whenever an outcome changes, then calls :func:`schedule_statistics_recompute` (registered
in ``STATISTICS_INVALIDATED`` by ``analysis.apps``): the first
change of a burst sets a "pending" flag in the cache (``cache.add``: only one caller wins)
and queues :func:`recompute_trial_statistics` on commit with a short countdown; the
changes that follow while the flag is up queue nothing, and the task picks them all up.
The task clears the flag *before* it computes, so a change made while it runs queues
another run. It stores the trial-wide figures (every site, with and without arm level as
blinding requires) and each site's figures in the cache, where the dashboard finds them.

Without a broker (eager mode) or with the broker down nothing is queued: the dashboard
computes on demand, as it always could. Never an error for the request.
"""

from __future__ import annotations

import contextlib
import logging

from celery import current_app, shared_task
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from access import blinding

logger = logging.getLogger(__name__)

#: Seconds between the first change of a burst and the recomputation.
RECOMPUTE_COUNTDOWN = 30


def pending_key(trial_id: int) -> str:
    return f"trial-stats-recompute-pending:{trial_id}"


def schedule_statistics_recompute(trial_id: int, *, countdown: int = RECOMPUTE_COUNTDOWN) -> bool:
    """Queue one recomputation for a burst of changes; True if this call queued it."""
    if current_app.conf.task_always_eager:
        return False  # no worker: the next dashboard view computes on demand
    key = pending_key(trial_id)
    try:
        if not cache.add(key, timezone.now().isoformat(), timeout=countdown + 600):
            return False  # one is already queued and will see this change too
    except Exception as exc:  # cache (Redis) unreachable
        logger.warning("statistics of trial %s not scheduled: %s", trial_id, exc)
        return False

    def _queue() -> None:
        try:
            recompute_trial_statistics.apply_async((trial_id,), countdown=countdown)
        except Exception as exc:  # broker down: computed on demand instead
            logger.warning("statistics of trial %s computed on demand: %s", trial_id, exc)
            with contextlib.suppress(Exception):  # else the flag expires by itself
                cache.delete(key)

    transaction.on_commit(_queue)
    return True


def statistics_precompute(trial_id: int) -> int:
    """Compute and cache the figures the dashboard will ask for; returns how many sets.

    Trial-wide (lead investigator, monitor, data manager): all sites, arm level unless
    the trial is blinded, in which case both the unblinded and the blinded set. Per site
    (a site investigator, or a trial-wide user filtering on one site): the same levels.
    """
    from trials.models import Trial

    from .selectors import _compute, cached_trial_header

    trial = Trial.objects.filter(pk=trial_id).first()
    if trial is None:
        return 0
    cutoff = timezone.localdate()
    header = cached_trial_header(trial, cutoff=cutoff)
    levels = [True, False] if blinding.allocation_concealed(trial) else [True]
    scopes: list[list[str] | None] = [None, *([s["code"]] for s in header["sites"])]
    count = 0
    for scope in scopes:
        for arm_level in levels:
            _compute(trial, header, scope, arm_level=arm_level, cutoff=cutoff)
            count += 1
    return count


@shared_task(
    # the name it was queued under when it lived in trials/tasks.py: messages already on the
    # broker, and workers of the previous release, keep finding it
    name="trials.tasks.recompute_trial_statistics",
    acks_late=True,
    autoretry_for=(ConnectionError, OperationalError, InterfaceError),
    max_retries=3,
    retry_backoff=True,
    ignore_result=True,
)
def recompute_trial_statistics(trial_id: int) -> int:
    try:
        cache.delete(pending_key(trial_id))  # changes from now on queue another run
    except Exception as exc:
        logger.warning("statistics of trial %s: cache unreachable: %s", trial_id, exc)
        return 0
    return statistics_precompute(trial_id)
