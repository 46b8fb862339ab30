"""Writes of the recruiting app: appointment requests (public) and the referral inbox.

Public writes have no user: they run in an audit context with the origin "public" and a
reason naming the step, so their history rows say where they came from.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.transitions import check_transition
from audit.users import ActingUser
from domain.prescreen import PrescreenOutcome, Verdict
from notifications.models import OutboxMessage
from notifications.services import notification_enqueue
from patients.models import Patient
from patients.services import patient_register
from patients.services.common import require_reason
from sites.roles import Perm
from sites.scoping import has_perm
from trials.models import Trial

from .calendar import appointment_ics
from .models import PrescreenEvent, Referral, SiteClinic
from .selectors import clinic_dates, record_language, site_today

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_reference() -> str:
    """A reference number such as R-7KQ2-M9XD (also shown, unsaved, to honeypot bots)."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"R-{body[:4]}-{body[4:]}"


def prescreen_tally(*, trial: Trial, verdict: str) -> None:
    """Count one completed pre-screening (no personal data)."""
    PrescreenEvent.objects.create(trial=trial, day=timezone.now().date(), verdict=verdict)


def _weekday_names(clinic: SiteClinic) -> str:
    return ", ".join(clinic.trial_site.site.clinic_day_names())


def _check_day(clinic: SiteClinic, day: datetime.date | None, field: str) -> datetime.date:
    """A bookable clinic day of ``clinic`` with a place left (call under the clinic lock);
    returns it."""
    if day is None:
        raise ValidationError({field: _("Choose a clinic day.")})
    site = clinic.trial_site.site
    if day.weekday() not in (site.clinic_weekdays or []):
        raise ValidationError(
            {
                field: _(
                    "%(day)s is not a clinic day at %(site)s: the trial clinic runs on %(days)s."
                )
                % {
                    "day": date_format(day, "DATE_FORMAT"),
                    "site": site.name,
                    "days": _weekday_names(clinic),
                }
            }
        )
    if day not in clinic_dates(clinic, site_today(site)):
        raise ValidationError(
            {
                field: _("Appointments can be requested from tomorrow up to %(weeks)s weeks ahead.")
                % {"weeks": clinic.weeks_ahead}
            }
        )
    taken = Referral.objects.filter(
        trial_site=clinic.trial_site, appointment_date=day, status__in=Referral.HOLDS_PLACE
    ).count()
    if taken >= clinic.daily_capacity:
        raise ValidationError(
            {
                field: _("%(day)s is fully booked at %(site)s; please choose another day.")
                % {"day": date_format(day, "DATE_FORMAT"), "site": site.name}
            }
        )
    return day


def _email(
    referral: Referral, clinic: SiteClinic, template: str, *, sequence: int, event: str
) -> None:
    """The person's email in their language, with the appointment as an .ics file."""
    if not referral.email:
        return
    trial = clinic.trial_site.trial
    with translation.override(referral.language):
        page = getattr(trial, "public_page", None)
        title = page.title if page is not None else trial.short_title or trial.title
        ics = appointment_ics(referral=referral, clinic=clinic, title=title, sequence=sequence)
        context = {
            "referral": referral,
            "clinic": clinic,
            "site": clinic.trial_site.site,
            "title": title,
            "day": referral.appointment_date,
        }
        notification_enqueue(
            key=f"recruiting:referral:{referral.pk}:{event}",
            kind="referral",
            recipients=[(referral.email, referral.language)],
            template=template,
            context=context,
            trial=trial,
            trial_site=clinic.trial_site,
            attachments=[
                {
                    "filename": f"{referral.reference}.ics",
                    "content": ics,
                    "mimetype": "text/calendar",
                }
            ]
            if template != "referral_declined"
            else [],
        )


def referral_request(
    *,
    trial: Trial,
    clinic: SiteClinic | None,
    day: datetime.date | None,
    full_name: str,
    email: str,
    phone: str,
    language: str,
    nationality: str,
    interpreter_needed: bool,
    personal_information_consent: bool,
    answers: dict[str, Any],
    outcome: PrescreenOutcome,
) -> Referral:
    """A person's appointment request on a clinic day of a site of ``trial``.

    Refused with a message per field: a day that is not a clinic day of the site, outside
    the weeks offered or fully booked; no separate consent to the processing of personal
    information (PIPL); an answer of "probably not eligible". The clinic row is locked
    while the places of the day are counted, so two requests never take the last place.
    """
    errors: dict[str, list[str]] = {}
    if not personal_information_consent:
        errors["personal_information_consent"] = [
            _("Without this consent we cannot process your request.")
        ]
    if outcome.verdict is Verdict.PROBABLY_NOT:
        errors["__all__"] = [
            _("Your answers show you are probably not eligible; please contact the site.")
        ]
    if clinic is None or clinic.trial_site.trial_id != trial.pk:
        errors["slot"] = [_("Choose a site and a clinic day.")]
    if language not in settings.RECRUITING_LANGUAGES:
        errors["language"] = [_("Choose one of the languages offered.")]
    if errors:
        raise ValidationError(errors)
    assert clinic is not None  # checked above
    with (
        transaction.atomic(),
        audit_context(reason="Appointment request (public)", origin="public"),
    ):
        locked = (
            SiteClinic.objects.select_for_update()
            .select_related("trial_site__site", "trial_site__trial")
            .get(pk=clinic.pk)
        )
        if not locked.accepts_requests or locked.trial_site.status != "active":
            raise ValidationError({"slot": _("This site does not take appointment requests now.")})
        day = _check_day(locked, day, "slot")
        referral = Referral(
            trial_site=locked.trial_site,
            requested_date=day,
            appointment_date=day,
            language=language,
            full_name=full_name.strip(),
            email=email.strip(),
            phone=phone.strip(),
            nationality=nationality,
            interpreter_needed=interpreter_needed,
            prescreen_answers=answers,
            prescreen_result=outcome.to_dict(),
            personal_information_consent_at=timezone.now(),
        )
        referral.full_clean(exclude=["reference", "patient", "decided_by"])
        for _attempt in range(5):
            referral.reference = new_reference()
            try:
                with transaction.atomic():
                    referral.save()
                break
            except IntegrityError:
                referral.pk = None
        else:  # pragma: no cover - 32^8 references
            raise ValidationError(_("Please try again."))
        _email(referral, locked, "referral_received", sequence=0, event="received")
    return referral


def _require_site_staff(user: Any, referral: Referral) -> None:
    if not has_perm(user, Perm.REGISTER_PATIENT, trial_site=referral.trial_site):
        raise PermissionDenied(
            _("Only the site's coordinators and investigators handle referrals.")
        )


def _move(referral: Referral, target: str, *, acting_user: ActingUser, reason: str) -> Referral:
    check_transition(
        choices=Referral.Status, table=Referral.TRANSITIONS, current=referral.status, target=target
    )
    referral.status = target
    referral.decided_at = timezone.now()
    referral.decided_by = acting_user
    set_change_reason(referral, reason)
    return referral


def _locked(referral: Referral) -> tuple[Referral, SiteClinic]:
    current = (
        Referral.objects.select_for_update()
        .select_related("trial_site__site", "trial_site__trial")
        .get(pk=referral.pk)
    )
    clinic = (
        SiteClinic.objects.select_for_update()
        .select_related("trial_site__site", "trial_site__trial")
        .get(trial_site=current.trial_site)
    )
    return current, clinic


def referral_accept(
    *, referral: Referral, acting_user: ActingUser, reason: str | None = None
) -> Referral:
    """Confirm the appointment on its day and email the person (with the .ics)."""
    _require_site_staff(acting_user, referral)
    reason = (reason or "").strip() or _("Appointment confirmed")
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current, clinic = _locked(referral)
        _move(current, Referral.Status.ACCEPTED, acting_user=acting_user, reason=reason)
        current.save()
        sequence = current.history.count()
        _email(
            current, clinic, "referral_accepted", sequence=sequence, event=f"accepted:{sequence}"
        )
    return current


def referral_propose(
    *, referral: Referral, day: datetime.date | None, acting_user: ActingUser, reason: str | None
) -> Referral:
    """Offer another clinic day (same checks as a request: clinic day, window, places)."""
    _require_site_staff(acting_user, referral)
    reason = (reason or "").strip() or _("Another clinic day proposed")
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current, clinic = _locked(referral)
        check_transition(
            choices=Referral.Status,
            table=Referral.TRANSITIONS,
            current=current.status,
            target=Referral.Status.PROPOSED,
        )
        if day == current.appointment_date:
            raise ValidationError({"day": _("Propose a different day from the current one.")})
        day = _check_day(clinic, day, "day")
        _move(current, Referral.Status.PROPOSED, acting_user=acting_user, reason=reason)
        current.appointment_date = day
        current.save()
        sequence = current.history.count()
        _email(
            current, clinic, "referral_proposed", sequence=sequence, event=f"proposed:{sequence}"
        )
    return current


def referral_decline(
    *, referral: Referral, acting_user: ActingUser, reason: str | None
) -> Referral:
    """Decline with a reason the person is told."""
    _require_site_staff(acting_user, referral)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason the person will be told.")})
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current, clinic = _locked(referral)
        _move(current, Referral.Status.DECLINED, acting_user=acting_user, reason=reason)
        current.decline_reason = reason
        current.save()
        _email(current, clinic, "referral_declined", sequence=0, event="declined")
    return current


def referral_prefill(referral: Referral) -> dict[str, Any]:
    """Registration data the referral already holds (the rest is asked at the visit)."""
    from domain.prescreen import birth_date_for_age

    data: dict[str, Any] = {
        "full_name": referral.full_name,
        "phone": referral.phone,
        "email": referral.email,
        "nationality": referral.nationality.code if referral.nationality else "",  # type: ignore[attr-defined]  # django-stubs types a CountryField as its CharField's str; the value is a django_countries Country
        "is_expatriate": referral.is_expatriate,
        "preferred_language": record_language(referral.language),
        "interpreter_needed": referral.interpreter_needed,
    }
    age = (referral.prescreen_answers or {}).get("age")
    if isinstance(age, int):
        data["birth_date"] = birth_date_for_age(age, referral.created_at.date())
    return data


def referral_register_patient(
    *, referral: Referral, acting_user: ActingUser, confirm_duplicate: bool = False, **data: Any
) -> Patient:
    """Register the accepted referral as a patient in one step; the referral, with its
    pre-screening answers, stays linked to the patient as source."""
    _require_site_staff(acting_user, referral)
    with transaction.atomic():
        current = Referral.objects.select_for_update().get(pk=referral.pk)
        if current.status != Referral.Status.ACCEPTED:
            raise ValidationError(
                {"__all__": _("Only an accepted referral can be registered as a patient.")}
            )
        patient = patient_register(
            trial_site=current.trial_site,
            acting_user=acting_user,
            confirm_duplicate=confirm_duplicate,
            **data,
        )
        reason = _("Registered as patient %(subject)s") % {"subject": patient.subject_id}
        with audit_context(user=acting_user, reason=reason):
            _move(current, Referral.Status.CONVERTED, acting_user=acting_user, reason=reason)
            current.patient = patient
            current.save()
    return patient


def referrals_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete referrals never converted into a patient once older than the retention
    time, with the emails written to them (recipient and body are personal data).

    The history of those emails is part of the write-once audit trail (database triggers
    refuse DELETE on every history table), so it is kept; the outbox encrypts recipient,
    subject, body and attachments, so what the trail keeps is ciphertext only."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.REFERRAL_RETENTION_DAYS)
    stale = list(
        Referral.objects.filter(created_at__lt=cutoff, patient__isnull=True).values_list(
            "pk", flat=True
        )
    )
    reason = _("Retention period over: referral not converted")
    deleted = 0
    for pk in stale:
        with transaction.atomic(), audit_context(reason=reason, origin="task"):
            referral = (
                Referral.objects.select_for_update().filter(pk=pk, patient__isnull=True).first()
            )
            if referral is None:
                continue
            messages = OutboxMessage.objects.filter(key__startswith=f"recruiting:referral:{pk}:")
            for message in messages:
                message.delete()
            set_change_reason(referral, reason)
            referral.delete()
            deleted += 1
    return deleted


def clinic_set_capacity(
    *,
    clinic: SiteClinic,
    daily_capacity: int,
    weeks_ahead: int,
    acting_user: ActingUser,
    reason: str | None,
) -> SiteClinic:
    """The site sets how many new requests a clinic day takes and how far ahead.

    Lowering the capacity never cancels requests already made; it only stops new ones.
    """
    if not has_perm(acting_user, Perm.REGISTER_PATIENT, trial_site=clinic.trial_site):
        raise PermissionDenied(_("Only the site's coordinators and investigators set this."))
    reason = require_reason(reason)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current = SiteClinic.objects.select_for_update().get(pk=clinic.pk)
        current.daily_capacity = daily_capacity
        current.weeks_ahead = weeks_ahead
        current.full_clean()
        set_change_reason(current, reason)
        current.save()
    return current
