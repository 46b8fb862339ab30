"""Writes on patients. Views, forms, the admin and the API call these; nothing else
saves a Patient."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.transitions import check_transition
from audit.users import ActingUser
from sites.models import TrialSite
from sites.roles import Perm
from sites.scoping import has_perm
from trials.models import Trial

from ..identity import FOREIGNER_DOCUMENTS, document_hash, validate_document
from ..models import Patient
from .common import require_reason

# Fields a coordinator enters at registration and may later correct (with a reason).
EDITABLE_FIELDS = (
    "full_name",
    "phone",
    "email",
    "id_document_type",
    "id_document_number",
    "sex",
    "birth_date",
    "nationality",
    "is_expatriate",
    "preferred_language",
    "interpreter_needed",
    "residence_permit_expiry",
    "insurance_provider",
    "insurance_covers_trial",
    "trial_injury_insurance",
)


class PossibleDuplicate(ValidationError):
    """The document is already registered at another site; the user must confirm."""


def _validate_rules(patient: Patient) -> None:
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if patient.birth_date:
        if patient.birth_date > today:
            add("birth_date", _("The date of birth cannot be in the future."))
        elif patient.birth_date < today - datetime.timedelta(days=366 * 120):
            add("birth_date", _("The date of birth is more than 120 years ago."))
    if patient.is_expatriate:
        if patient.id_document_type and patient.id_document_type not in FOREIGNER_DOCUMENTS:
            add(
                "id_document_type",
                _(
                    "An expatriate patient is identified by passport or foreigner's permanent residence card."
                ),
            )
        if patient.nationality and patient.nationality.code == "CN":  # type: ignore[attr-defined]  # django-stubs types a CountryField as its CharField's str; the value is a django_countries Country
            add("nationality", _("An expatriate patient's nationality cannot be China."))
        if not patient.residence_permit_expiry and patient.id_document_type == "passport":
            add(
                "residence_permit_expiry",
                _("Record the residence permit expiry: follow-up must be covered by it."),
            )
    elif (
        patient.id_document_type in FOREIGNER_DOCUMENTS
        and patient.nationality
        and patient.nationality.code != "CN"  # type: ignore[attr-defined]  # django-stubs types a CountryField as its CharField's str; the value is a django_countries Country
    ):
        add(
            "is_expatriate",
            _(
                "A foreign national with a passport or permanent residence card is an expatriate patient: tick the box."
            ),
        )
    if patient.death_date:
        if patient.death_date > today:
            add("death_date", _("The date of death cannot be in the future."))
        if patient.birth_date and patient.death_date < patient.birth_date:
            add("death_date", _("The date of death cannot precede the date of birth."))
    if patient.id_document_type:
        try:
            patient.id_document_number = validate_document(
                patient.id_document_type, patient.id_document_number
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for m in messages:
                    add(field, m)
    if errors:
        raise ValidationError(errors)


def patient_rule_errors(*, patient: Patient) -> dict[str, list[str]]:
    """The registration rules on an unsaved copy, as a dict (nothing raised, nothing
    written): forms call it when their own field checks already failed, so every problem
    is shown in one round. ``patient_register`` / ``patient_update`` still enforce them."""
    try:
        _validate_rules(patient)
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _check_duplicates(patient: Patient, *, confirm_duplicate: bool) -> None:
    others = Patient.objects.filter(id_document_hash=patient.id_document_hash).exclude(
        pk=patient.pk
    )
    same_site = others.filter(trial_site_id=patient.trial_site_id).first()
    if same_site is not None:
        raise ValidationError(
            {
                "id_document_number": _(
                    "This document is already registered at this site as %(subject)s."
                )
                % {"subject": same_site.subject_id}
            }
        )
    if others.exists() and not confirm_duplicate:
        # Deliberately says nothing about where: the other site's record stays private.
        raise PossibleDuplicate(
            {
                "id_document_number": _(
                    "A patient with this identity document is already registered at another "
                    "site of the network. Check with the patient whether they take part "
                    "elsewhere; to register anyway, tick “Register anyway”."
                )
            },
            code="possible_duplicate",
        )


def _full_clean(patient: Patient) -> None:
    errors: dict[str, Any] = {}
    try:
        patient.full_clean(exclude=["subject_seq", "subject_id", "id_document_hash", "trial_site"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        _validate_rules(patient)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, [])
            errors[field] += [m for m in messages if m not in errors[field]]
    if errors:
        raise ValidationError(errors)


def patient_register(
    *,
    trial_site: TrialSite,
    acting_user: ActingUser,
    confirm_duplicate: bool = False,
    **data: Any,
) -> Patient:
    """Register a patient for screening at ``trial_site`` and give them a subject id.

    The subject id is ``<trial>-<site>-<NNNN>``; the trial-site row is locked so
    concurrent registrations at one site never take the same number.
    """
    if not has_perm(acting_user, Perm.REGISTER_PATIENT, trial_site=trial_site):
        raise PermissionDenied(_("You may not register patients at this site."))
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: _("Unknown field.") for f in sorted(unknown)})
    if trial_site.status != TrialSite.Status.ACTIVE:
        raise ValidationError(
            {
                "trial_site": _(
                    "This site's participation is not active; patients cannot be registered."
                )
            }
        )
    if trial_site.trial.status != Trial.Status.RECRUITING:
        raise ValidationError({"trial_site": _("The trial is not recruiting.")})
    patient = Patient(trial_site=trial_site, **data)
    _full_clean(patient)
    patient.id_document_hash = document_hash(patient.id_document_type, patient.id_document_number)
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Registration")):
        locked = (
            TrialSite.objects.select_for_update()
            .select_related("trial", "site")
            .get(pk=trial_site.pk)
        )
        # Under the trial-site lock: a concurrent registration of the same document at
        # this site has either committed (and is seen here) or waits for us. The partial
        # unique constraint ``patient_document_unique_per_site`` backs this check.
        _check_duplicates(patient, confirm_duplicate=confirm_duplicate)
        last = locked.patients.aggregate(m=Max("subject_seq"))["m"] or 0
        patient.trial_site = locked
        patient.subject_seq = last + 1
        patient.subject_id = (
            f"{locked.trial.protocol_code}-{locked.site.code}-{patient.subject_seq:04d}"
        )
        patient.registered_by = acting_user
        patient.registered_by_username = acting_user.get_username()
        _save_unique(patient)
    return patient


def _save_unique(patient: Patient) -> None:
    """Save; the database's uniqueness on (trial-site, document) is reported like the
    check above, never as a 500 (a write that bypassed the lock lost a race)."""
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:
        if "patient_document_unique_per_site" not in str(exc) and "id_document_hash" not in str(
            exc
        ):
            raise
        raise ValidationError(
            {"id_document_number": _("This document is already registered at this site.")}
        ) from exc


def patient_update(
    *,
    patient: Patient,
    acting_user: ActingUser,
    reason: str | None,
    confirm_duplicate: bool = False,
    **changes: Any,
) -> Patient:
    """Correct registration data; every change needs a reason, kept in the history."""
    if not has_perm(acting_user, Perm.EDIT_PATIENT, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not edit patients at this site."))
    reason = require_reason(reason)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in sorted(unknown)})
    with transaction.atomic():
        current = Patient.objects.select_for_update().get(pk=patient.pk)
        for field, value in changes.items():
            setattr(current, field, value)
        _full_clean(current)
        new_hash = document_hash(current.id_document_type, current.id_document_number)
        if new_hash != current.id_document_hash:
            current.id_document_hash = new_hash
            _check_duplicates(current, confirm_duplicate=confirm_duplicate)
        with audit_context(user=acting_user, reason=reason):
            set_change_reason(current, reason)
            _save_unique(current)
    return current


def patient_set_status(
    *, patient: Patient, status: str, acting_user: ActingUser, reason: str
) -> Patient:
    """Move a patient along the status table; illegal moves are refused."""
    check_transition(
        choices=Patient.Status, table=Patient.TRANSITIONS, current=patient.status, target=status
    )
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        patient.status = status
        set_change_reason(patient, reason)
        patient.save(update_fields=["status"])
    return patient
