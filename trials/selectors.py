from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from sites.models import TrialSite

from .models import Trial


def trial_list(*, user: Any) -> QuerySet[Trial]:
    return Trial.objects.visible_to(user).annotate(
        site_count=Count("trial_sites", filter=Q(trial_sites__status="active"), distinct=True)
    )


def trial_sites_with_counts(*, trial: Trial, user: Any) -> QuerySet[TrialSite]:
    """The trial's sites the user may see, each with its patient counts."""
    return (
        TrialSite.objects.visible_to(user)
        .filter(trial=trial)
        .select_related("site", "principal_investigator")
        .annotate(
            registered=Count("patients", distinct=True),
            # enrolled ever (an Enrollment row), withdrawn included: as on every page
            on_study=Count("patients__enrollment", distinct=True),
        )
        .order_by("site__code")
    )


def trial_settings(trial: Trial) -> dict[str, Any]:
    """The trial block of a data cut: identity and the response-evaluation settings."""
    return {
        "protocol_code": trial.protocol_code,
        "title": trial.title,
        "design": trial.design,
        "blinding": trial.blinding,
        "response_criteria": "iRECIST" if trial.response_criteria == "irecist" else "RECIST1.1",
        "confirmation_required": trial.confirmation_required,
        "confirmation_min_days": trial.confirmation_min_days,
        "min_sd_days": trial.min_sd_days,
        "imaging_interval_weeks": trial.imaging_interval_weeks,
        # analysis settings (domain.analysis_settings)
        "time_origin": trial.time_origin,
        "ci_band": trial.ci_band,
        "orr_null_rate": trial.orr_null_rate,
        "orr_sided": trial.orr_sided,
        "landmark_months": _landmarks(trial),
        "population": trial.analysis_population,
        "nya_handling": trial.nya_handling,
        "nya_days": trial.nya_days,
    }


def _landmarks(trial: Trial) -> list[float]:
    try:
        return trial.landmark_list() or [6.0, 12.0, 24.0]
    except ValueError:
        return [6.0, 12.0, 24.0]
