"""Serious adverse events: reporting deadlines, notifications, reports and escalation.

The rules are in ``domain.safety`` (pure). This module keeps an event's deadline
fields in step with it (``sae_apply_deadlines``, called by the adverse-event services
before they save), notifies the people who must act in the same transaction
(``sae_notify``: written to the outbox, delivered by the workers), records that a report
was sent (``sae_mark_reported``), records the sponsor's expectedness assessment
(``adverse_event_set_expectedness``) and escalates passed deadlines
(``sae_escalate_overdue``, every 15 minutes from Celery beat).

Who may act: the initial (24-hour) report and the expectedness assessment are recorded by
the site's data-entry staff or by a trial-wide reviewer holding the unblinded view (lead
investigator / sponsor); a SUSAR report, made unblinded to the authorities, only by the
latter.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from access import blinding
from audit.context import audit_context
from audit.history import set_change_reason
from audit.users import ActingUser
from domain import safety as rules
from notifications.recipients import (
    absolute_url,
    local_time,
    merge,
    safety_contacts,
    site_zone,
    staff_recipients,
    user_recipient,
)
from notifications.services import notification_enqueue
from sites.roles import Perm, Role
from sites.scoping import has_perm

from ..models import AdverseEvent, AdverseEventCausality
from .common import require_reason

__all__ = [
    "adverse_event_set_expectedness",
    "may_record_report",
    "sae_apply_deadlines",
    "sae_escalate_overdue",
    "sae_mark_reported",
    "sae_notify",
    "sae_recipients",
]

#: A report time may be a few minutes ahead of the server's clock (another device).
CLOCK_SKEW = datetime.timedelta(minutes=5)


def _is_fatal(event: AdverseEvent) -> bool:
    return event.outcome == AdverseEvent.Outcome.FATAL or event.grade == 5


def _stored_relatedness(event: AdverseEvent) -> list[str]:
    if event.pk is None:
        return []
    return list(
        AdverseEventCausality.objects.filter(adverse_event=event).values_list(
            "relatedness", flat=True
        )
    )


def check_awareness(event: AdverseEvent, awareness_at: datetime.datetime | None) -> None:
    """Awareness cannot be in the future nor before the event started (site calendar)."""
    if awareness_at is None:
        return
    if timezone.is_naive(awareness_at):
        awareness_at = timezone.make_aware(awareness_at, site_zone(event.patient.trial_site))
    if awareness_at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"awareness_at": _("The awareness time cannot be in the future.")})
    local_day = awareness_at.astimezone(site_zone(event.patient.trial_site)).date()
    if event.onset_date and local_day < event.onset_date:
        raise ValidationError(
            {
                "awareness_at": _("Awareness cannot be before the onset date (%(date)s).")
                % {"date": event.onset_date.isoformat()}
            }
        )


def sae_apply_deadlines(
    event: AdverseEvent,
    *,
    relatedness: Iterable[str] | None = None,
    awareness_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> None:
    """Set the event's awareness time (given, kept, or now) and recompute its deadlines
    and SUSAR flag from its seriousness, outcome, causality and expectedness. Does not
    save: the calling service saves the event once, with its history row."""
    now = now or timezone.now()
    if awareness_at is not None and timezone.is_naive(awareness_at):
        awareness_at = timezone.make_aware(awareness_at, site_zone(event.patient.trial_site))
    if (
        awareness_at is not None
        and event.awareness_at is not None
        and abs(awareness_at - event.awareness_at) < datetime.timedelta(minutes=1)
    ):
        awareness_at = None  # the form shows minutes: an unchanged field is no change
    if awareness_at is not None:
        check_awareness(event, awareness_at)
        event.awareness_at = awareness_at
    elif event.awareness_at is None:
        event.awareness_at = now
    deadlines = rules.sae_deadlines(
        serious=event.serious,
        criteria=event.serious_criteria or [],
        fatal=_is_fatal(event),
        relatedness=list(relatedness) if relatedness is not None else _stored_relatedness(event),
        expected=event.expected,
        awareness_at=event.awareness_at,
    )
    event.initial_report_due = deadlines.initial_report_due
    event.susar = deadlines.susar
    event.susar_report_due = deadlines.susar_report_due


def sae_recipients(event: AdverseEvent, *, coordinators: bool = False) -> list[tuple[str, str]]:
    """The trial's lead investigators, the site's investigators (and principal
    investigator), optionally its coordinators, and the trial's safety contacts."""
    trial_site = event.patient.trial_site
    trial = trial_site.trial
    roles = [Role.SITE_INVESTIGATOR] + ([Role.COORDINATOR] if coordinators else [])
    return merge(
        staff_recipients(roles=[Role.LEAD_INVESTIGATOR], trial=trial),
        staff_recipients(roles=roles, trial_site=trial_site),
        user_recipient(trial_site.principal_investigator),
        safety_contacts(trial),
    )


def _context(event: AdverseEvent, **extra: Any) -> dict[str, Any]:
    """Plain values for the mail templates. No intervention names: in a blinded trial
    they would reveal the arm, and a mail is outside the application's access control."""
    trial_site = event.patient.trial_site
    criteria = dict(AdverseEvent.SeriousCriterion.choices)
    relatedness = _stored_relatedness(event)
    return {
        "trial": trial_site.trial.protocol_code,
        "site": f"{trial_site.site.code} – {trial_site.site.name}",
        "subject_id": event.patient.subject_id,
        "term": event.term,
        "grade": event.grade,
        # Lazy labels: rendered in each recipient's language, not the caller's.
        "criteria": [criteria.get(c, c) for c in event.serious_criteria or []],
        "onset_date": event.onset_date,
        "outcome": dict(AdverseEvent.Outcome.choices).get(event.outcome, event.outcome),
        "related": rules.is_related(relatedness),
        "expected": event.expected,
        "susar": event.susar,
        "awareness_at": local_time(event.awareness_at, trial_site),
        "initial_report_due": local_time(event.initial_report_due, trial_site),
        "initial_reported_at": local_time(event.initial_reported_at, trial_site)
        if event.initial_reported_at
        else "",
        "susar_report_due": local_time(event.susar_report_due, trial_site)
        if event.susar_report_due
        else "",
        "susar_reported_at": local_time(event.susar_reported_at, trial_site)
        if event.susar_reported_at
        else "",
        "recorded_by": event.recorded_by_username,
        "url": absolute_url(reverse("patients:ae_detail", args=[event.pk])),
        "safety_url": absolute_url(reverse("patients:safety")),
        **extra,
    }


def sae_notify(event: AdverseEvent) -> int:
    """Notify a serious event at once (key ``sae:<id>:initial``) and, when it is (or
    becomes) a SUSAR, once more for that (``sae:<id>:susar``). Call inside the transaction
    that records the change; repeated calls add nothing. Returns the messages written."""
    if not event.serious:
        return 0
    trial_site = event.patient.trial_site
    written = notification_enqueue(
        key=f"sae:{event.pk}:initial",
        kind="sae",
        recipients=sae_recipients(event),
        template="sae_initial",
        context=_context(event),
        trial=trial_site.trial,
        trial_site=trial_site,
    )
    count = len(written)
    if event.susar:
        count += len(
            notification_enqueue(
                key=f"sae:{event.pk}:susar",
                kind="susar",
                recipients=sae_recipients(event),
                template="sae_initial",
                context=_context(event, became_susar=True),
                trial=trial_site.trial,
                trial_site=trial_site,
            )
        )
    return count


def may_record_report(user: Any, event: AdverseEvent, report: str) -> bool:
    trial_site = event.patient.trial_site
    reviewer = blinding.unblinded_reviewer(user, trial_site.trial)
    if report == rules.SUSAR:
        return reviewer
    return reviewer or has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=trial_site)


def _lock(event: AdverseEvent) -> AdverseEvent:
    return (
        AdverseEvent.objects.select_for_update(of=("self",))
        .select_related("patient__trial_site__site", "patient__trial_site__trial")
        .get(pk=event.pk)
    )


def sae_mark_reported(
    *,
    adverse_event: AdverseEvent,
    acting_user: ActingUser,
    report: str,
    reported_at: datetime.datetime | None,
    reason: str | None = None,
) -> AdverseEvent:
    """Record when the initial (24-hour) or the SUSAR report was sent. Changing a time
    already recorded needs a reason for change."""
    if report not in rules.REPORTS:
        raise ValidationError({"report": _("Choose the initial report or the SUSAR report.")})
    if not may_record_report(acting_user, adverse_event, report):
        raise PermissionDenied(_("You may not record this report."))
    with transaction.atomic():
        current = _lock(adverse_event)
        errors: dict[str, list[str]] = {}
        if not current.serious:
            errors["report"] = [_("Only a serious adverse event has reporting deadlines.")]
        elif report == rules.SUSAR and not current.susar:
            errors["report"] = [
                _(
                    "This event is not a SUSAR (serious, related to a study treatment and "
                    "unexpected): it has no SUSAR report."
                )
            ]
        if reported_at is None:
            errors["reported_at"] = [_("Enter when the report was sent.")]
        else:
            if timezone.is_naive(reported_at):
                reported_at = timezone.make_aware(
                    reported_at, site_zone(current.patient.trial_site)
                )
            if reported_at > timezone.now() + CLOCK_SKEW:
                errors["reported_at"] = [_("The report time cannot be in the future.")]
            elif current.awareness_at and reported_at < current.awareness_at - CLOCK_SKEW:
                errors["reported_at"] = [
                    _("A report cannot be sent before awareness of the event (%(when)s).")
                    % {"when": local_time(current.awareness_at, current.patient.trial_site)}
                ]
        if errors:
            raise ValidationError(errors)
        field = f"{report}_reported_at"
        previous = getattr(current, field)
        if previous == reported_at:
            return current
        if previous is not None:
            reason = require_reason(reason)
            set_change_reason(current, reason)
        else:
            reason = (reason or "").strip() or (
                _("Initial SAE report sent") if report == rules.INITIAL else _("SUSAR report sent")
            )
        setattr(current, field, reported_at)
        with audit_context(user=acting_user, reason=reason):
            current.save()
    return current


def adverse_event_set_expectedness(
    *,
    adverse_event: AdverseEvent,
    acting_user: ActingUser,
    expected: bool,
    reason: str | None = None,
) -> AdverseEvent:
    """Record whether the event is expected per the reference safety information. An
    unexpected, related serious event becomes a SUSAR, with its 7- or 15-day deadline
    counted from the original awareness, and is notified at once."""
    if not may_record_report(acting_user, adverse_event, rules.INITIAL):
        raise PermissionDenied(_("You may not assess this adverse event."))
    if expected not in (True, False):
        raise ValidationError({"expected": _("Choose expected or unexpected.")})
    with transaction.atomic():
        current = _lock(adverse_event)
        if current.expected is expected:
            return current
        if current.expected is not None:
            reason = require_reason(reason)
            set_change_reason(current, reason)
        else:
            reason = (reason or "").strip() or _("Expectedness assessed")
        current.expected = expected
        sae_apply_deadlines(current)
        with audit_context(user=acting_user, reason=reason):
            current.save()
            sae_notify(current)
    return current


def sae_escalate_overdue(*, now: datetime.datetime | None = None) -> int:
    """Escalate every passed, unreported deadline once (key
    ``sae:<id>:escalate:<report>:<due>``: a corrected deadline escalates again), to the
    SAE recipients and the site's coordinators, and stamp ``escalated_at``. Returns the
    number of deadlines escalated by this call; running it twice escalates nothing more."""
    now = now or timezone.now()
    candidates = (
        AdverseEvent.objects.filter(serious=True)
        .filter(
            Q(initial_report_due__lt=now, initial_reported_at__isnull=True)
            | Q(susar_report_due__lt=now, susar_reported_at__isnull=True)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    escalated = 0
    for pk in list(candidates):
        with transaction.atomic():
            event = (
                AdverseEvent.objects.select_for_update(of=("self",))
                .select_related("patient__trial_site__site", "patient__trial_site__trial")
                .get(pk=pk)
            )
            overdue = rules.overdue_deadlines(
                initial_report_due=event.initial_report_due,
                initial_reported_at=event.initial_reported_at,
                susar_report_due=event.susar_report_due,
                susar_reported_at=event.susar_reported_at,
                now=now,
            )
            new = 0
            trial_site = event.patient.trial_site
            for deadline in overdue:
                written = notification_enqueue(
                    key=f"sae:{event.pk}:escalate:{deadline.report}:{deadline.due:%Y%m%dT%H%M}",
                    kind="sae_escalation",
                    recipients=sae_recipients(event, coordinators=True),
                    template="sae_escalation",
                    context=_context(
                        event,
                        report=deadline.report,
                        due=local_time(deadline.due, trial_site),
                        overdue_hours=int(-deadline.remaining.total_seconds() // 3600),
                    ),
                    trial=trial_site.trial,
                    trial_site=trial_site,
                )
                if written:
                    new += 1
            if new:
                event.escalated_at = now
                with audit_context(reason=_("SAE reporting deadline passed: escalated")):
                    event.save()
                escalated += new
    return escalated
