"""Informed consent: recording, re-consent and withdrawal.

Rules (DOMAIN.md "Expatriate patients"; ICH E6(R3) 2.8):
- a consent is given on an ethics-approved version of the patient's trial that is in
  effect on the consent date and not superseded;
- a patient consents in a language they understand: when the discussion is not held in
  the patient's preferred language, or the document is not in that language, a
  qualified interpreter and an impartial witness are required and recorded;
- sensitive personal information needs its own, separate consent (PIPL);
- withdrawal ends data collection from its date; what was collected is kept.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.transitions import check_transition
from audit.users import ActingUser
from sites.roles import Perm
from sites.scoping import has_perm
from trials.choices import Language
from trials.models import ConsentVersion
from trials.services import consent_document_for

from ..models import Consent, Patient
from .registration import patient_set_status
from .visits import visits_cancel_after

__all__ = [
    "consent_date",
    "consent_needs_reconsent",
    "consent_record",
    "consent_withdraw",
    "current_consent",
    "patient_is_collecting",
    "site_today",
    "withdrawal_date",
]

#: Statuses in which a patient may re-consent on a newer version.
RECONSENT_STATUSES = frozenset({Patient.Status.CONSENTED, Patient.Status.ON_STUDY})


def site_today(patient: Patient) -> datetime.date:
    """Today at the patient's site (dates are the site's calendar dates)."""
    return patient.trial_site.site.today()


def consent_date(consent: Consent) -> datetime.date:
    """The calendar date of a consent at the patient's site."""
    return consent.patient.trial_site.site.local_date(consent.consented_at)


def current_consent(patient: Patient) -> Consent | None:
    """The patient's latest consent that has not been withdrawn."""
    return (
        Consent.objects.filter(patient=patient, withdrawn_on__isnull=True)
        .select_related("consent_version", "patient__trial_site__site")
        .order_by("-consented_at", "-pk")
        .first()
    )


def _version_in_force(version: ConsentVersion, on: datetime.date) -> str | None:
    """Why ``version`` cannot be used on ``on``, or None if it can."""
    if not (version.ethics_approval_ref or "").strip() or version.approved_on > on:
        return _("Consent version %(v)s was not ethics-approved on %(date)s.") % {
            "v": version.version,
            "date": on.isoformat(),
        }
    if version.effective_from > on:
        return _("Consent version %(v)s only takes effect on %(date)s.") % {
            "v": version.version,
            "date": version.effective_from.isoformat(),
        }
    if version.superseded_on is not None and version.superseded_on <= on:
        return _("Consent version %(v)s was superseded on %(date)s; use the current version.") % {
            "v": version.version,
            "date": version.superseded_on.isoformat(),
        }
    return None


def interpreter_required(*, patient: Patient, language: str, version: ConsentVersion) -> bool:
    """The expatriate rule: a discussion or a document that is not in the patient's
    preferred language needs a qualified interpreter and an impartial witness."""
    preferred = patient.preferred_language
    return language != preferred or version.language != preferred


def consent_record(
    *,
    patient: Patient,
    acting_user: ActingUser,
    consent_version: ConsentVersion,
    consented_at: datetime.datetime,
    language: str,
    personal_information_consent: bool,
    interpreter_used: bool = False,
    interpreter_name: str = "",
    interpreter_qualification: str = "",
    witness_name: str = "",
    samples_consent: bool = False,
    reason: str | None = None,
) -> Consent:
    """Record a consent (first consent, or re-consent on a newer version).

    A first consent moves the patient from *eligible* to *consented*; a re-consent keeps
    the status. Everything is checked before anything is written.
    """
    if not has_perm(acting_user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not record consent at this site."))
    interpreter_name = (interpreter_name or "").strip()
    interpreter_qualification = (interpreter_qualification or "").strip()
    witness_name = (witness_name or "").strip()
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if consented_at is None:
        add("consented_at", _("Enter the date and time of consent."))
    else:
        if timezone.is_naive(consented_at):
            consented_at = timezone.make_aware(consented_at, patient.trial_site.site.zone)
        if consented_at > timezone.now():
            add("consented_at", _("The time of consent cannot be in the future."))
    if language not in Language.values:
        add("language", _("Choose the language in which consent was discussed."))

    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        previous = current_consent(locked)
        on = locked.trial_site.site.local_date(consented_at) if consented_at else None

        if consent_version.trial_id != locked.trial_site.trial_id:
            add("consent_version", _("This consent version belongs to another trial."))
        elif on is not None:
            problem = _version_in_force(consent_version, on)
            if problem:
                add("consent_version", problem)

        if locked.status == Patient.Status.WITHDRAWN:
            add(
                "patient",
                _("The patient has withdrawn from the study: no new consent can be recorded."),
            )
        elif previous is None or locked.status == Patient.Status.ELIGIBLE:
            # First consent, or a fresh one after re-screening found the patient
            # eligible again (the earlier consent stays on record).
            if locked.status != Patient.Status.ELIGIBLE:
                add(
                    "patient",
                    _(
                        "Consent can only be recorded for an eligible patient; this patient "
                        "is “%(status)s”."
                    )
                    % {"status": locked.get_status_display()},
                )
        else:
            if locked.status not in RECONSENT_STATUSES:
                add(
                    "patient",
                    _("A patient who is “%(status)s” cannot re-consent.")
                    % {"status": locked.get_status_display()},
                )
            if previous.consent_version_id == consent_version.pk:
                add(
                    "consent_version",
                    _("The patient has already consented on this version."),
                )
            elif consent_version.effective_from < previous.consent_version.effective_from:
                add(
                    "consent_version",
                    _("This version is older than the one the patient already signed (v%(v)s).")
                    % {"v": previous.consent_version.version},
                )
            if on is not None and consented_at < previous.consented_at:
                add(
                    "consented_at",
                    _("A re-consent cannot be dated before the previous consent (%(date)s).")
                    % {"date": consent_date(previous).isoformat()},
                )

        if language in Language.values and interpreter_required(
            patient=locked, language=language, version=consent_version
        ):
            needed = _(
                "The patient's preferred language is %(lang)s and consent was not discussed "
                "and documented in it: a qualified interpreter and an impartial witness are "
                "required."
            ) % {"lang": locked.get_preferred_language_display()}
            if not interpreter_used:
                add("interpreter_used", needed)
            if not interpreter_name:
                add("interpreter_name", _("Enter the name of the qualified interpreter."))
            if not witness_name:
                add("witness_name", _("Enter the name of the impartial witness."))
        if interpreter_used and not interpreter_name and "interpreter_name" not in errors:
            add("interpreter_name", _("Enter the name of the interpreter."))
        if not personal_information_consent:
            add(
                "personal_information_consent",
                _("Separate consent to process sensitive personal information (PIPL) is required."),
            )
        if errors:
            raise ValidationError(errors)

        # The document signed: the version's approved PDF in effect that day (its language
        # is the version's), named with its hash in the consent record.
        document = consent_document_for(consent_version=consent_version, on_date=on)
        first = locked.status == Patient.Status.ELIGIBLE
        why = reason or (_("Informed consent") if first else _("Re-consent"))
        with audit_context(user=acting_user, reason=why):
            consent = Consent(
                patient=locked,
                consent_version=consent_version,
                consent_document=document,
                consent_document_sha256=document.sha256 if document else "",
                language=language,
                consented_at=consented_at,
                interpreter_used=interpreter_used,
                interpreter_name=interpreter_name,
                interpreter_qualification=interpreter_qualification,
                witness_name=witness_name,
                personal_information_consent=True,
                samples_consent=samples_consent,
                obtained_by=acting_user,
                obtained_by_username=acting_user.get_username(),
            )
            consent.save()
            if first:
                patient_set_status(
                    patient=locked,
                    status=Patient.Status.CONSENTED,
                    acting_user=acting_user,
                    reason=why,
                )
                patient.status = locked.status
    return consent


def consent_needs_reconsent(
    patient: Patient, *, consent: Consent | None | object = ...
) -> ConsentVersion | None:
    """The newer version the patient must re-consent on, if any.

    A version counts when it is of the patient's trial, in the language of the current
    consent (its document or its discussion), in effect today, newer than the signed
    one and marked ``requires_reconsent``. ``consent``: the patient's
    :func:`current_consent` when the caller has already read it (one query less).
    """
    if consent is ...:
        consent = current_consent(patient)
    if not isinstance(consent, Consent):
        return None
    today = site_today(patient)
    signed = consent.consent_version
    candidates = (
        ConsentVersion.objects.filter(
            trial_id=signed.trial_id,
            language__in={signed.language, consent.language},
            requires_reconsent=True,
            effective_from__gt=signed.effective_from,
            effective_from__lte=today,
            approved_on__lte=today,
        )
        .exclude(ethics_approval_ref="")
        .exclude(superseded_on__lte=today)
        .order_by("-effective_from", "-pk")
    )
    return candidates.first()


def consent_withdraw(
    *,
    consent: Consent,
    acting_user: ActingUser,
    withdrawn_on: datetime.date,
    reason: str,
) -> Consent:
    """The patient withdraws consent: the patient is withdrawn from the study, data
    collection ends on ``withdrawn_on``, everything collected before is kept.

    Every consent of the patient still active is closed on the same date, so no consent
    is left that would allow data entry.
    """
    patient = consent.patient
    if not has_perm(acting_user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not record a withdrawal at this site."))
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Give the reason for withdrawal (or “not given by the patient”).")]
    elif len(reason) > 1000:
        errors["reason"] = [_("Keep the reason under 1000 characters.")]
    with transaction.atomic():
        locked_patient = Patient.objects.select_for_update().get(pk=patient.pk)
        current = Consent.objects.select_related("patient__trial_site__site").get(pk=consent.pk)
        if current.withdrawn_on is not None:
            errors.setdefault("withdrawn_on", []).append(
                _("This consent was already withdrawn on %(date)s.")
                % {"date": current.withdrawn_on.isoformat()}
            )
        if withdrawn_on is None:
            errors.setdefault("withdrawn_on", []).append(_("Enter the date of withdrawal."))
        else:
            if withdrawn_on > site_today(locked_patient):
                errors.setdefault("withdrawn_on", []).append(
                    _("The date of withdrawal cannot be in the future.")
                )
            if withdrawn_on < consent_date(current):
                errors.setdefault("withdrawn_on", []).append(
                    _("The date of withdrawal cannot precede the consent (%(date)s).")
                    % {"date": consent_date(current).isoformat()}
                )
        if "withdrawn_on" not in errors:
            try:
                check_transition(
                    choices=Patient.Status,
                    table=Patient.TRANSITIONS,
                    current=locked_patient.status,
                    target=Patient.Status.WITHDRAWN,
                )
            except ValidationError:
                errors.setdefault("patient", []).append(
                    _("A patient who is “%(status)s” cannot withdraw consent.")
                    % {"status": locked_patient.get_status_display()}
                )
        if errors:
            raise ValidationError(errors)

        with audit_context(user=acting_user, reason=reason):
            active = Consent.objects.filter(patient=locked_patient, withdrawn_on__isnull=True)
            for item in active:
                item.withdrawn_on = withdrawn_on
                item.withdrawal_reason = reason
                set_change_reason(item, reason)
                item.save(update_fields=["withdrawn_on", "withdrawal_reason"])
                if item.pk == current.pk:
                    current = item
            patient_set_status(
                patient=locked_patient,
                status=Patient.Status.WITHDRAWN,
                acting_user=acting_user,
                reason=reason,
            )
            # No visit can take place from the withdrawal date on.
            visits_cancel_after(
                patient=locked_patient,
                acting_user=acting_user,
                after=withdrawn_on - datetime.timedelta(days=1),
                reason=reason,
            )
    patient.status = locked_patient.status
    consent.withdrawn_on = current.withdrawn_on
    consent.withdrawal_reason = current.withdrawal_reason
    return current


def withdrawal_date(patient: Patient) -> datetime.date | None:
    """The earliest date on which the patient withdrew consent, if they did."""
    return (
        Consent.objects.filter(patient=patient, withdrawn_on__isnull=False)
        .order_by("withdrawn_on")
        .values_list("withdrawn_on", flat=True)
        .first()
    )


def patient_is_collecting(patient: Patient, on_date: datetime.date) -> bool:
    """May data dated ``on_date`` still be entered for this patient?

    False from the date consent was withdrawn onwards (earlier data stays enterable, so a
    visit done before the withdrawal can still be completed). A patient withdrawn before
    ever consenting is not collecting at all; a patient withdrawn from the study without
    withdrawing consent keeps their consent (the status services limit dates there).
    Other services call this before writing clinical data.
    """
    withdrawn = withdrawal_date(patient)
    if withdrawn is not None:
        return on_date < withdrawn
    status = Patient.objects.values_list("status", flat=True).get(pk=patient.pk)
    if status == Patient.Status.WITHDRAWN:
        # Withdrawn from the study (not consent): earlier data may still be entered,
        # unless the patient never consented at all.
        return Consent.objects.filter(patient=patient).exists()
    return True
