"""Background jobs: edit checks over a whole trial, and the daily query digest."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.contrib.auth import get_user_model

from trials.models import Trial


@shared_task(acks_late=True, max_retries=3)
def run_edit_checks(trial_id: int, user_id: int | None = None) -> dict[str, int]:
    from .services import edit_checks_run_trial

    trial = Trial.objects.get(pk=trial_id)
    user: Any = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return edit_checks_run_trial(trial=trial, acting_user=user)


@shared_task(acks_late=True, max_retries=3)
def query_digest() -> int:
    from .digest import send_query_digests

    return send_query_digests()


@shared_task(acks_late=True, max_retries=3)
def missing_forms_sweep() -> dict[str, int]:
    """Daily: visits whose window just closed with required forms missing raise the
    automatic query of the trial's missing-forms edit check."""
    from .visit_forms import sweep_missing_forms

    return sweep_missing_forms()
