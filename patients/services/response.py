"""Keeps each patient's stored response outcome in step with their data."""

from __future__ import annotations

import contextvars
import copy
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from audit.context import audit_context
from audit.users import ActingUser
from domain.analysis import patient_outcome, response_settings
from domain.analysis_settings import analysis_settings
from trials.selectors import trial_settings

from ..datacut import enrolled_patients, patient_record, record_prefetches
from ..models import Enrollment, Patient, ResponseSummary

_deferred: contextvars.ContextVar[dict[int, tuple[Patient, Any]] | None] = contextvars.ContextVar(
    "response_recompute_deferred", default=None
)


@contextmanager
def response_recompute_deferred() -> Iterator[None]:
    """For bulk loaders (the demo builder): inside, ``response_recompute`` only notes the
    patient; on leaving, each noted patient is recomputed once, still inside the caller's
    transaction. A patient's journey of twenty visits and scans then costs one
    recomputation instead of thirty. Services never use this: they recompute at once."""
    noted: dict[int, tuple[Patient, Any]] = {}
    token = _deferred.set(noted)
    try:
        yield
    finally:
        _deferred.reset(token)
    for patient, acting_user in noted.values():
        response_recompute(patient=patient, acting_user=acting_user)


def response_recompute(
    *,
    patient: Patient,
    acting_user: ActingUser | None = None,
    enrollment: Enrollment | None = None,
) -> ResponseSummary | None:
    """Recompute the patient's outcome with the analysis engine and store it.

    Called in the same transaction as any change to imaging, enrollment, death or
    last-known-alive dates. Returns None for a patient who is not enrolled (and inside
    ``response_recompute_deferred``, where the work is done on leaving it).

    ``enrollment``: the enrollment just written, in this transaction, of ``patient``
    (locked and read in it, with its site): then the patient is not read again, only its
    lesions and tumour assessments are.
    """
    noted = _deferred.get()
    if noted is not None:
        noted[patient.pk] = (patient, acting_user)
        return None
    trial = patient.trial_site.trial  # loaded once: the fresh copy's would be one query more
    fresh: Patient | None
    if enrollment is not None and enrollment.patient is patient:
        fresh = copy.copy(patient)  # own caches: the prefetched rows stay off the caller's
        fresh.__dict__.pop("_prefetched_objects_cache", None)
        Patient.enrollment.related.set_cached_value(fresh, enrollment)
        prefetch_related_objects([fresh], *record_prefetches())
    else:
        fresh = enrolled_patients(trial).filter(pk=patient.pk).first()
    if fresh is None:
        return None
    record = patient_record(fresh)
    block = trial_settings(trial)  # the data cut's trial block: one reading of the settings
    outcome = patient_outcome(
        record,
        response_settings(block),
        timezone.localdate(),
        analysis=analysis_settings(block),  # time origin, not-yet-assessable window
    )
    with transaction.atomic(), audit_context(user=acting_user, reason="Response recomputed"):
        summary = ResponseSummary.objects.filter(patient=fresh).first() or ResponseSummary(
            patient=fresh
        )
        if summary.pk and summary.outcome == outcome:
            return summary
        summary.outcome = outcome
        summary.bor = outcome["bor"]
        summary.best_change_pct = outcome["best_change_pct"]
        summary.evaluable = outcome["evaluable"]
        summary.save()
        transaction.on_commit(lambda: statistics_invalidate(trial_id=trial.pk))
    return summary


#: Called with the trial id once its statistics are stale: the trial analysis (the
#: ``analysis`` app, above this one) schedules their recomputation (``analysis.apps``).
STATISTICS_INVALIDATED: list[Callable[[int], object]] = []


def statistics_invalidate(*, trial_id: int) -> None:
    """Dashboard figures are cached per trial under a version number; bumping it makes
    every cached figure of the trial stale at once. A recomputation is then scheduled in
    the background (coalesced: see ``analysis.tasks``). With the cache unreachable the
    change still stands: the failure is logged, never raised into the request."""
    key = f"trial-stats-version:{trial_id}"
    try:
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, None)
    except Exception as exc:  # Redis down: the data change must not fail
        logging.getLogger(__name__).warning(
            "statistics of trial %s not invalidated: %s", trial_id, exc
        )
        return
    for schedule in STATISTICS_INVALIDATED:
        schedule(trial_id)
