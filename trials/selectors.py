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
