"""Reads for visits and adverse events: what is due, what is overdue, the safety list."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet

from .models import AdverseEvent, Visit


def _visits(user: Any) -> QuerySet[Visit]:
    return Visit.objects.visible_to(user).select_related(
        "patient__trial_site__site", "patient__trial_site__trial", "definition"
    )


def visits_due(*, user: Any, start: datetime.date, end: datetime.date) -> QuerySet[Visit]:
    """Planned visits the user may see scheduled between ``start`` and ``end`` inclusive."""
    return (
        _visits(user)
        .filter(status=Visit.Status.PLANNED, scheduled_date__gte=start, scheduled_date__lte=end)
        .order_by("scheduled_date", "patient__subject_id", "pk")
    )


def visits_overdue(*, user: Any, today: datetime.date) -> QuerySet[Visit]:
    """Planned visits whose window has closed (unscheduled visits: whose date has
    passed) without being submitted or marked missed."""
    return (
        _visits(user)
        .filter(status=Visit.Status.PLANNED)
        .filter(Q(window_end__lt=today) | Q(window_end__isnull=True, scheduled_date__lt=today))
        .order_by("scheduled_date", "patient__subject_id", "pk")
    )


def is_overdue(visit: Visit, today: datetime.date) -> bool:
    if visit.status != Visit.Status.PLANNED:
        return False
    return (visit.window_end or visit.scheduled_date) < today


def patient_visits(*, patient: Any) -> QuerySet[Visit]:
    return patient.visits.select_related("definition").order_by("scheduled_date", "pk")


def adverse_event_list(
    *, user: Any, filters: dict[str, Any] | None = None
) -> QuerySet[AdverseEvent]:
    """Adverse events the user may see, newest onset first, filtered by grade,
    seriousness and site."""
    filters = filters or {}
    qs = AdverseEvent.objects.visible_to(user).select_related(
        "patient__trial_site__site", "patient__trial_site__trial"
    )
    if filters.get("grade"):
        qs = qs.filter(grade=int(filters["grade"]))
    if filters.get("serious") == "yes":
        qs = qs.filter(serious=True)
    elif filters.get("serious") == "no":
        qs = qs.filter(serious=False)
    if filters.get("trial_site"):
        qs = qs.filter(patient__trial_site=filters["trial_site"])
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(term__icontains=q) | Q(patient__subject_id__icontains=q))
    return qs.order_by("-onset_date", "-pk")
