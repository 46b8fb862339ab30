"""Emergency unblinding: one subject at a time, by a named person with a reason,
documented and notified (ICH E6(R3): every unblinding documented)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.blinding import allocation_concealed, arm_visible_to
from audit.context import audit_context
from audit.lockout import lockout_message
from audit.models import AccessLog
from audit.users import ActingUser
from notifications.recipients import staff_recipients
from notifications.services import notification_enqueue
from sites.roles import Perm, Role
from sites.scoping import has_perm

from ..models import Enrollment, UnblindingEvent

__all__ = ["arm_visible_to", "enrollment_unblind", "lead_investigator_emails"]


def lead_investigator_recipients(trial: Any) -> list[tuple[str, str]]:
    """The trial's active lead investigators, each with the language they read."""
    return staff_recipients(roles=[Role.LEAD_INVESTIGATOR], trial=trial)


def lead_investigator_emails(trial: Any) -> list[str]:
    return [email for email, _language in lead_investigator_recipients(trial)]


def _password_confirmed(user: Any, password: str, request: Any) -> bool:
    """Check the re-entered password through the authentication backends, so that
    django-axes counts a wrong one like a failed login (and refuses a locked-out
    account); without a request (shell, tests) the password is checked directly."""
    if not password:
        return False
    if request is None:
        return user.check_password(password)
    return authenticate(request, username=user.get_username(), password=password) == user


def enrollment_unblind(
    *,
    enrollment: Enrollment,
    acting_user: ActingUser,
    password: str,
    reason: str,
    request: Any = None,
) -> UnblindingEvent:
    """Reveal the arm of one patient to ``acting_user``.

    Needs the emergency-unblinding permission at the patient's site, the user's own
    password again (someone at an unattended screen cannot do it) and a reason. A refusal
    writes nothing. The lead investigators are notified through the outbox (written in the
    unblinding's transaction, sent after the commit, once per recipient, in each one's
    language); the email names the patient and the reason, never the arm.
    """
    patient = enrollment.patient
    trial = enrollment.trial
    if not allocation_concealed(trial):
        raise ValidationError(
            {"enrollment": [_("This trial is open-label: there is nothing to unblind.")]}
        )
    if not has_perm(acting_user, Perm.EMERGENCY_UNBLIND, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not unblind patients at this site."))
    errors: dict[str, list[str]] = {}
    if not _password_confirmed(acting_user, password, request):
        if getattr(request, "axes_locked_out", False):
            errors["password"] = [lockout_message()]
        else:
            errors["password"] = [_("The password is not correct.")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Give the medical reason for the emergency unblinding.")]
    elif len(reason) > 2000:
        errors["reason"] = [_("Keep the reason under 2000 characters.")]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        event = UnblindingEvent(
            enrollment=enrollment,
            unblinded_by=acting_user,
            unblinded_by_username=acting_user.get_username(),
            reason=reason,
        )
        event.save()
        AccessLog.record(event=AccessLog.Event.UNBLIND, user=acting_user, obj=enrollment)
        # Through the outbox, in the unblinding's own transaction: written once (key per
        # event and recipient), delivered after the commit with a stable Message-ID, each
        # lead investigator in their own language. A mail server that is down delays the
        # notice; it never undoes the unblinding.
        notification_enqueue(
            key=f"unblinding:{event.pk}",
            kind="unblinding",
            recipients=lead_investigator_recipients(trial),
            template="unblinding_notice",
            context={
                "subject_id": patient.subject_id,
                "number": enrollment.randomization_number,
                "site": patient.trial_site.site.code,
                "trial": trial.protocol_code,
                "user": acting_user.get_username(),
                "when": timezone.localtime(event.at, datetime.UTC).strftime("%Y-%m-%d %H:%M"),
                "reason": reason,
            },
            trial=trial,
            trial_site=patient.trial_site,
        )
    return event
