"""End-of-study statuses: completed, lost to follow-up, died, withdrawn from the study.

Each goes through ``patient_set_status`` (the transition table refuses illegal moves
with its own message) and records the dates survival analysis needs: the date of death
and the last date the patient was known to be alive.

Withdrawal from the study (treatment/follow-up stopped by the investigator or the
patient) is not consent withdrawal: the consent workflow records that, ending data
collection; both end in the status ``withdrawn``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.transitions import check_transition
from audit.users import ActingUser
from sites.roles import Perm
from sites.scoping import has_perm

from ..models import Patient
from .common import require_reason
from .registration import patient_set_status
from .response import response_recompute
from .visits import (
    patient_enrollment,
    patient_local_today,
    patient_registered_on,
    visits_cancel_after,
)


def _fmt(value: datetime.date | None) -> str:
    return value.isoformat() if value else "—"


def _require(user: Any, patient: Patient) -> None:
    if not has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not change the status of patients at this site."))


def _lock(patient: Patient) -> Patient:
    return (
        Patient.objects.select_for_update(of=("self",))
        .select_related("trial_site__site", "trial_site__trial")
        .get(pk=patient.pk)
    )


def _check(patient: Patient, target: str) -> None:
    if patient.status == target:
        raise ValidationError(
            {
                "status": _("The patient's status is already “%(status)s”.")
                % {"status": patient.get_status_display()}
            }
        )
    check_transition(
        choices=Patient.Status, table=Patient.TRANSITIONS, current=patient.status, target=target
    )


def _check_date(
    patient: Patient,
    value: datetime.date | None,
    field: str,
    *,
    label: str,
    not_before_alive: bool = False,
) -> None:
    """The date is given, not in the future (site calendar), not before enrollment (or
    registration) and, where asked, not before the patient was last seen alive."""
    if value is None:
        raise ValidationError({field: _("Enter the %(what)s.") % {"what": label}})
    today = patient_local_today(patient)
    errors = []
    if value > today:
        errors.append(
            _("The %(what)s cannot be in the future (today at this site is %(today)s).")
            % {"what": label, "today": _fmt(today)}
        )
    if patient.birth_date and value < patient.birth_date:
        errors.append(
            _("The %(what)s cannot precede the date of birth.") % {"what": label},
        )
    enrollment = patient_enrollment(patient)
    if enrollment is not None and value < enrollment.enrolled_on:
        errors.append(
            _("The %(what)s cannot be before enrollment (%(date)s).")
            % {"what": label, "date": _fmt(enrollment.enrolled_on)}
        )
    if not_before_alive and patient.last_known_alive_date and value < patient.last_known_alive_date:
        errors.append(
            _("The %(what)s cannot be before the patient was last known alive (%(date)s).")
            % {"what": label, "date": _fmt(patient.last_known_alive_date)}
        )
    if errors:
        raise ValidationError({field: errors})


def _save_alive(patient: Patient, on_date: datetime.date, reason: str) -> bool:
    if patient.last_known_alive_date and patient.last_known_alive_date >= on_date:
        return False
    patient.last_known_alive_date = on_date
    set_change_reason(patient, reason)
    patient.save(update_fields=["last_known_alive_date"])
    response_recompute(patient=patient)  # overall survival is censored at this date
    return True


def patient_update_last_known_alive(
    *, patient: Patient, acting_user: ActingUser, on_date: datetime.date, reason: str
) -> Patient:
    """Move the last-known-alive date forward (never back): a later contact wins."""
    _require(acting_user, patient)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current = _lock(patient)
        if current.death_date is None:
            _save_alive(current, on_date, reason)
    patient.last_known_alive_date = current.last_known_alive_date
    return current


def patient_complete(
    *, patient: Patient, acting_user: ActingUser, on_date: datetime.date, reason: str | None
) -> Patient:
    """The patient finished the protocol's follow-up on ``on_date``."""
    _require(acting_user, patient)
    reason = require_reason(reason)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current = _lock(patient)
        _check(current, Patient.Status.COMPLETED)
        _check_date(current, on_date, "on_date", label=_("completion date"))
        _save_alive(current, on_date, reason)
        patient_set_status(
            patient=current, status=Patient.Status.COMPLETED, acting_user=acting_user, reason=reason
        )
        visits_cancel_after(patient=current, acting_user=acting_user, after=on_date, reason=reason)
    return current


def patient_mark_lost(
    *,
    patient: Patient,
    acting_user: ActingUser,
    last_known_alive_date: datetime.date,
    reason: str | None,
) -> Patient:
    """The site can no longer reach the patient. Their planned visits stay: if the
    patient is found again (status back to on study) they are still due."""
    _require(acting_user, patient)
    reason = require_reason(reason)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current = _lock(patient)
        _check(current, Patient.Status.LOST)
        _check_date(
            current,
            last_known_alive_date,
            "last_known_alive_date",
            label=_("last-known-alive date"),
            not_before_alive=True,
        )
        _save_alive(current, last_known_alive_date, reason)
        patient_set_status(
            patient=current, status=Patient.Status.LOST, acting_user=acting_user, reason=reason
        )
    return current


def patient_resume_follow_up(
    *, patient: Patient, acting_user: ActingUser, on_date: datetime.date, reason: str | None
) -> Patient:
    """A patient lost to follow-up is reached again on ``on_date``."""
    _require(acting_user, patient)
    reason = require_reason(reason)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current = _lock(patient)
        _check(current, Patient.Status.ON_STUDY)
        _check_date(current, on_date, "on_date", label=_("date of contact"))
        _save_alive(current, on_date, reason)
        patient_set_status(
            patient=current, status=Patient.Status.ON_STUDY, acting_user=acting_user, reason=reason
        )
    return current


def patient_record_death(
    *, patient: Patient, acting_user: ActingUser, death_date: datetime.date, reason: str | None
) -> Patient:
    """Record the date of death (status died) and cancel the visits planned after it."""
    _require(acting_user, patient)
    reason = require_reason(reason)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current = _lock(patient)
        _check(current, Patient.Status.DIED)
        _check_date(
            current, death_date, "death_date", label=_("date of death"), not_before_alive=True
        )
        current.death_date = death_date
        set_change_reason(current, reason)
        current.save(update_fields=["death_date"])
        response_recompute(patient=current, acting_user=acting_user)
        patient_set_status(
            patient=current, status=Patient.Status.DIED, acting_user=acting_user, reason=reason
        )
        visits_cancel_after(
            patient=current, acting_user=acting_user, after=death_date, reason=reason
        )
    return current


def patient_withdraw_from_study(
    *, patient: Patient, acting_user: ActingUser, on_date: datetime.date, reason: str | None
) -> Patient:
    """The patient leaves the study (stops treatment and protocol follow-up) on
    ``on_date``; the visits planned after it are cancelled. Data already collected stays.
    (Withdrawal of consent is recorded by the consent workflow.)"""
    _require(acting_user, patient)
    reason = require_reason(reason)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current = _lock(patient)
        _check(current, Patient.Status.WITHDRAWN)
        _check_date(current, on_date, "on_date", label=_("withdrawal date"))
        if on_date < patient_registered_on(current):
            raise ValidationError(
                {"on_date": _("The withdrawal date cannot be before registration.")}
            )
        patient_set_status(
            patient=current, status=Patient.Status.WITHDRAWN, acting_user=acting_user, reason=reason
        )
        visits_cancel_after(patient=current, acting_user=acting_user, after=on_date, reason=reason)
    return current
