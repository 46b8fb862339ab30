"""Notices of routine clinical events, written to the outbox in the transaction of the
change (so they survive a broker outage and go out once it is back):

- an enrollment: the trial's lead investigators and the site's investigators;
- a first visit submission: the site's investigators, who review and sign off the site's
  data (a visit outside its window is flagged as a protocol deviation).

The arm is named only in an open-label trial: a mail is outside the access control that
hides it from blinded roles.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from access import blinding
from sites.roles import Role

from .recipients import (
    absolute_url,
    merge,
    staff_recipient_groups,
    staff_recipients,
    user_recipient,
)
from .services import notification_enqueue


def _site_label(trial_site: Any) -> str:
    return f"{trial_site.site.code} – {trial_site.site.name}"


def enrollment_notify(enrollment: Any) -> int:
    """Call inside the enrollment's transaction; returns the messages written."""
    patient = enrollment.patient
    trial_site = patient.trial_site
    trial = trial_site.trial
    leads, investigators = staff_recipient_groups(
        {"roles": [Role.LEAD_INVESTIGATOR], "trial": trial},
        {"roles": [Role.SITE_INVESTIGATOR], "trial_site": trial_site},
    )
    recipients = merge(leads, investigators, user_recipient(trial_site.principal_investigator))
    return len(
        notification_enqueue(
            key=f"enrollment:{enrollment.pk}",
            kind="enrollment",
            recipients=recipients,
            template="enrollment_notice",
            context={
                "trial": trial.protocol_code,
                "site": _site_label(trial_site),
                "subject_id": patient.subject_id,
                "randomization_number": enrollment.randomization_number,
                "enrolled_on": enrollment.enrolled_on,
                "arm": blinding.arm_for_notification(enrollment),
                "enrolled_by": enrollment.enrolled_by_username,
                "url": absolute_url(reverse("patients:detail", args=[patient.pk])),
            },
            trial=trial,
            trial_site=trial_site,
        )
    )


def visit_submitted_notify(visit: Any) -> int:
    """Call inside the submission's transaction (first submission only)."""
    patient = visit.patient
    trial_site = patient.trial_site
    recipients = merge(
        staff_recipients(roles=[Role.SITE_INVESTIGATOR], trial_site=trial_site),
        user_recipient(trial_site.principal_investigator),
    )
    name = visit.definition.name if visit.definition_id else _("Unscheduled visit")
    return len(
        notification_enqueue(
            key=f"visit-submitted:{visit.pk}",
            kind="visit_submitted",
            recipients=recipients,
            template="visit_submitted",
            context={
                "trial": trial_site.trial.protocol_code,
                "site": _site_label(trial_site),
                "subject_id": patient.subject_id,
                "visit": name,
                "actual_date": visit.actual_date,
                "deviation": visit.is_deviation,
                "deviation_reason": visit.deviation_reason,
                "submitted_by": visit.submitted_by_username,
                "url": absolute_url(reverse("patients:visit_detail", args=[visit.pk])),
            },
            trial=trial_site.trial,
            trial_site=trial_site,
        )
    )
