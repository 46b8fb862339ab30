"""Emergency unblinding: one subject at a time, by a named person with a reason,
documented and notified (ICH E6(R3): every unblinding documented)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.blinding import allocation_concealed, arm_visible_to
from audit.context import audit_context
from audit.lockout import lockout_message
from audit.models import AccessLog
from sites.roles import Perm, Role
from sites.scoping import has_perm

from ..models import Enrollment, UnblindingEvent

logger = logging.getLogger(__name__)

__all__ = ["arm_visible_to", "enrollment_unblind", "lead_investigator_emails"]


def _notify(subject: str, body: str, recipients: list[str]) -> None:
    """The unblinding stands even if the mail server is down; the failure is logged."""
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        logger.exception("Could not email the unblinding notice to %s", recipients)


def lead_investigator_emails(trial: Any) -> list[str]:
    users = (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__role=Role.LEAD_INVESTIGATOR,
            memberships__trial=trial,
            memberships__is_active=True,
        )
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    return [u.email for u in users]


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
    acting_user: Any,
    password: str,
    reason: str,
    request: Any = None,
) -> UnblindingEvent:
    """Reveal the arm of one patient to ``acting_user``.

    Needs the emergency-unblinding permission at the patient's site, the user's own
    password again (someone at an unattended screen cannot do it) and a reason. A refusal
    writes nothing. The lead investigators are emailed once the unblinding is committed;
    the email names the patient and the reason, never the arm.
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
        recipients = lead_investigator_emails(trial)
        if recipients:
            subject = _("Emergency unblinding: %(subject)s (%(trial)s)") % {
                "subject": patient.subject_id,
                "trial": trial.protocol_code,
            }
            body = _(
                "Patient %(subject)s (randomization number %(number)s, site %(site)s) of "
                "trial %(trial)s was unblinded by %(user)s at %(when)s UTC.\n\n"
                "Reason: %(reason)s\n\nThe arm is not included in this message."
            ) % {
                "subject": patient.subject_id,
                "number": enrollment.randomization_number,
                "site": patient.trial_site.site.code,
                "trial": trial.protocol_code,
                "user": acting_user.get_username(),
                "when": timezone.now().strftime("%Y-%m-%d %H:%M"),
                "reason": reason,
            }
            transaction.on_commit(lambda: _notify(subject, body, recipients))
    return event
