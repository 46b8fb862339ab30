"""The daily visit sweep (Celery beat, every morning; see ``patients.tasks``).

It lives next to what it sweeps (the visits); the notifications app only queues and
delivers what it is given.

1. Planned protocol visits whose window closed before today (the site's calendar) are
   marked missed, by the system, with a reason; they can still be submitted later if the
   visit did take place.
2. Every coordinator gets one digest for the day (key ``digest:<user id>:<date>``) of
   their sites' overdue visits and the visits of the next 7 days, each with its weekday
   and whether it falls on the site's clinic day, in the coordinator's language.
3. Planned visits whose window closes within 2 days get one reminder each (key
   ``reminder:<visit id>``) to the site's coordinators.

Everything is keyed, so running the sweep twice (a retried task, two beat instances)
marks nothing more and sends no second digest or reminder.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.context import audit_context
from notifications.recipients import absolute_url, staff_recipients
from notifications.services import notification_enqueue, user_language
from sites.models import WEEKDAYS, Membership, TrialSite
from sites.roles import Role

from .models import Visit
from .services.visits import visit_mark_missed

logger = logging.getLogger(__name__)

MISSED_REASON = "Window closed without a visit (automatic sweep)"
UPCOMING_DAYS = 7
REMINDER_DAYS = 2
#: Missed visits stay in the digest for two weeks: they may still be submitted.
OVERDUE_LOOKBACK_DAYS = 14


@dataclass
class SweepResult:
    missed: int = 0
    digests: int = 0
    reminders: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "missed": self.missed,
            "digests": self.digests,
            "reminders": self.reminders,
            "errors": self.errors,
        }


def site_today(trial_site: TrialSite, now: datetime.datetime | None = None) -> datetime.date:
    return trial_site.site.today(now)


def _trial_sites() -> list[TrialSite]:
    return list(
        TrialSite.objects.exclude(status=TrialSite.Status.CLOSED)
        .select_related("site", "trial")
        .order_by("trial__protocol_code", "site__code")
    )


def _visit_name(visit: Visit) -> str:
    return visit.definition.name if visit.definition_id else _("Unscheduled visit")


def mark_missed(trial_site: TrialSite, today: datetime.date) -> list[int]:
    """Mark the site's planned protocol visits whose window closed before ``today``;
    returns the ids marked by this call."""
    due = (
        Visit.objects.filter(
            patient__trial_site=trial_site,
            status=Visit.Status.PLANNED,
            window_end__isnull=False,
            window_end__lt=today,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    marked = []
    for pk in list(due):
        visit = Visit.objects.select_related("patient__trial_site__site").get(pk=pk)
        try:
            visit_mark_missed(visit=visit, acting_user=None, reason=MISSED_REASON)
        except ValidationError as exc:  # marked or submitted meanwhile: nothing to do
            logger.info("sweep: visit %s not marked missed: %s", pk, exc)
            continue
        marked.append(pk)
    return marked


def _row(visit: Visit, clinic_days: list[int]) -> dict[str, Any]:
    when = visit.scheduled_date
    return {
        "subject_id": visit.patient.subject_id,
        "visit": _visit_name(visit),  # lazy: rendered in the recipient's language
        "date": when,
        "window_end": visit.window_end,
        "status": visit.status,
        "clinic_day": not clinic_days or when.weekday() in clinic_days,
        "url": absolute_url(reverse("patients:visit_detail", args=[visit.pk])),
    }


def _clinic_day_names(clinic_days: list[int]) -> list[Any]:
    names = dict(WEEKDAYS)  # lazy labels: rendered in the recipient's language
    return [names[d] for d in clinic_days if d in names]


def _next_clinic_day(today: datetime.date, clinic_days: list[int]) -> datetime.date | None:
    if not clinic_days:
        return None
    for offset in range(7):
        day = today + datetime.timedelta(days=offset)
        if day.weekday() in clinic_days:
            return day
    return None


def site_section(
    trial_site: TrialSite, today: datetime.date, just_missed: list[int] | None = None
) -> dict[str, Any]:
    """What a coordinator of ``trial_site`` needs to know today: planned visits past
    their window or date, visits marked missed by this sweep or in the last two weeks
    (not yet submitted), and the planned visits of the next days."""
    clinic_days = sorted(trial_site.site.clinic_weekdays or [])
    visits = Visit.objects.filter(patient__trial_site=trial_site).select_related(
        "patient", "definition"
    )
    lookback = today - datetime.timedelta(days=OVERDUE_LOOKBACK_DAYS)
    overdue = visits.filter(
        Q(status=Visit.Status.PLANNED)
        & (Q(window_end__lt=today) | Q(window_end__isnull=True, scheduled_date__lt=today))
        | Q(status=Visit.Status.MISSED, submitted_at__isnull=True)
        & (
            Q(window_end__gte=lookback, window_end__lt=today)
            | Q(window_end__isnull=True, scheduled_date__gte=lookback, scheduled_date__lt=today)
        )
        | Q(pk__in=just_missed or [], submitted_at__isnull=True)
    ).order_by("scheduled_date", "patient__subject_id", "pk")
    incomplete = _incomplete_forms(visits, today, lookback)
    upcoming = visits.filter(
        status=Visit.Status.PLANNED,
        scheduled_date__gte=today,
        scheduled_date__lte=today + datetime.timedelta(days=UPCOMING_DAYS),
    ).order_by("scheduled_date", "patient__subject_id", "pk")
    return {
        "trial": trial_site.trial.protocol_code,
        "site": f"{trial_site.site.code} – {trial_site.site.name}",
        "clinic_days": _clinic_day_names(clinic_days),
        "next_clinic_day": _next_clinic_day(today, clinic_days),
        "overdue": [_row(v, clinic_days) for v in overdue],
        "upcoming": [_row(v, clinic_days) for v in upcoming],
        "incomplete": incomplete,
    }


#: Submitted visits whose window has closed with required forms missing (the visit
#: definition's ``required_forms``), for the clinical app; set in its AppConfig.ready.
INCOMPLETE_FORMS_SELECTOR: Any = None


def _incomplete_forms(visits: Any, today: datetime.date, lookback: datetime.date) -> list:
    """Visits of the last two weeks whose window closed with required forms missing."""
    if INCOMPLETE_FORMS_SELECTOR is None:
        return []
    recent = visits.filter(
        submitted_at__isnull=False,
        definition__isnull=False,
    ).filter(
        Q(window_end__gte=lookback, window_end__lt=today)
        | Q(window_end__isnull=True, scheduled_date__gte=lookback, scheduled_date__lt=today)
    )
    rows = []
    for visit, missing in INCOMPLETE_FORMS_SELECTOR(recent.order_by("scheduled_date", "pk"), today):
        row = _row(visit, [])
        row["missing"] = missing
        rows.append(row)
    return rows


def _coordinators(trial_site: TrialSite) -> list[Any]:
    return [
        m.user
        for m in Membership.objects.filter(
            trial_site=trial_site,
            role=Role.COORDINATOR,
            is_active=True,
            user__is_active=True,
        )
        .exclude(user__email="")
        .select_related("user__staff_profile")
        .order_by("user__username")
    ]


def send_digests(
    sections: dict[int, dict[str, Any]], trial_sites: dict[int, TrialSite], run_date: datetime.date
) -> int:
    """One digest per coordinator and day, covering all their sites with something to
    report; a coordinator with nothing overdue or upcoming gets none."""
    per_user: dict[int, tuple[Any, list[int]]] = {}
    for ts_id, trial_site in trial_sites.items():
        for user in _coordinators(trial_site):
            per_user.setdefault(user.pk, (user, []))[1].append(ts_id)
    sent = 0
    for user_id, (user, ts_ids) in sorted(per_user.items()):
        mine = [
            sections[i]
            for i in ts_ids
            if sections[i]["overdue"] or sections[i]["upcoming"] or sections[i].get("incomplete")
        ]
        if not mine:
            continue
        first = trial_sites[ts_ids[0]]
        with transaction.atomic():
            written = notification_enqueue(
                key=f"digest:{user_id}:{run_date.isoformat()}",
                kind="visit_digest",
                recipients=[(user.email, user_language(user))],
                template="visit_digest",
                context={
                    "name": user.get_full_name() or user.get_username(),
                    "date": run_date,
                    "sections": mine,
                    "days": UPCOMING_DAYS,
                    "overdue_count": sum(len(s["overdue"]) for s in mine),
                    "upcoming_count": sum(len(s["upcoming"]) for s in mine),
                    "url": absolute_url(reverse("home")),
                },
                trial=first.trial if len(ts_ids) == 1 else None,
                trial_site=first if len(ts_ids) == 1 else None,
            )
        sent += bool(written)
    return sent


def send_reminders(trial_site: TrialSite, today: datetime.date) -> int:
    """One reminder per planned visit whose window closes within ``REMINDER_DAYS``."""
    visits = (
        Visit.objects.filter(
            patient__trial_site=trial_site,
            status=Visit.Status.PLANNED,
            window_end__gte=today,
            window_end__lte=today + datetime.timedelta(days=REMINDER_DAYS),
        )
        .select_related("patient", "definition")
        .order_by("window_end", "pk")
    )
    recipients = staff_recipients(roles=[Role.COORDINATOR], trial_site=trial_site)
    if not recipients:
        return 0
    clinic_days = sorted(trial_site.site.clinic_weekdays or [])
    sent = 0
    for visit in visits:
        with transaction.atomic():
            written = notification_enqueue(
                key=f"reminder:{visit.pk}",
                kind="visit_reminder",
                recipients=recipients,
                template="visit_reminder",
                context={
                    "trial": trial_site.trial.protocol_code,
                    "site": f"{trial_site.site.code} – {trial_site.site.name}",
                    "days_left": (visit.window_end - today).days,
                    "clinic_days": _clinic_day_names(clinic_days),
                    "next_clinic_day": _next_clinic_day(today, clinic_days),
                    **_row(visit, clinic_days),
                },
                trial=trial_site.trial,
                trial_site=trial_site,
            )
        sent += bool(written)
    return sent


def visits_sweep(*, today: datetime.date | None = None) -> SweepResult:
    """Run the daily sweep over every open trial-site. ``today`` (tests, re-runs) fixes
    the date; by default each site uses its own calendar day."""
    result = SweepResult()
    run_date = today or timezone.localdate()
    trial_sites = {ts.pk: ts for ts in _trial_sites()}
    sections: dict[int, dict[str, Any]] = {}
    with audit_context(reason=MISSED_REASON):
        for ts_id, trial_site in trial_sites.items():
            local_today = today or site_today(trial_site)
            try:
                marked = mark_missed(trial_site, local_today)
                result.missed += len(marked)
                result.reminders += send_reminders(trial_site, local_today)
                sections[ts_id] = site_section(trial_site, local_today, marked)
            except Exception as exc:  # one site's failure must not stop the others
                logger.exception("sweep failed for %s", trial_site)
                result.errors.append(f"{trial_site}: {exc}")
                sections[ts_id] = {"overdue": [], "upcoming": []}
    result.digests = send_digests(sections, trial_sites, run_date)
    return result
