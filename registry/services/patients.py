from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.users import ActingUser
from patients.identity import FOREIGNER_DOCUMENTS, validate_document

from ..identity import national_pseudonym
from ..models import RegistryPatient
from .common import require_registry_perm, save_record

EDITABLE_FIELDS = (
    "full_name",
    "id_document_type",
    "id_document_number",
    "sex",
    "birth_date",
    "nationality",
    "is_expatriate",
    "residence_region",
    *RegistryPatient.RISK_FACTORS,
    *RegistryPatient.CONSENT_TIERS,
    "consent_date",
)


def _rules(patient: RegistryPatient) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if patient.birth_date:
        if patient.birth_date > today:
            errors["birth_date"] = [_("The date of birth cannot be in the future.")]
        elif patient.birth_date < today - datetime.timedelta(days=366 * 120):
            errors["birth_date"] = [_("The date of birth is more than 120 years ago.")]
    if patient.id_document_type and patient.id_document_number:
        try:
            patient.id_document_number = validate_document(
                patient.id_document_type, patient.id_document_number
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if patient.consent_date and patient.consent_date > today:
        errors["consent_date"] = [_("The consent date cannot be in the future.")]
    answered = [getattr(patient, tier) is not None for tier in RegistryPatient.CONSENT_TIERS]
    if any(answered) and not patient.consent_date:
        errors["consent_date"] = [_("Give the date the patient signed the research consent.")]
    if not patient.consent_research and (patient.consent_genomic or patient.consent_recontact):
        errors["consent_research"] = [
            _("Genomic research and recontact come on top of consent to research use.")
        ]
    if patient.consent_date and not any(answered):
        errors["consent_date"] = [_("Record what the patient agreed to, or leave the date empty.")]
    if patient.is_expatriate and patient.id_document_type not in FOREIGNER_DOCUMENTS:
        errors.setdefault("id_document_type", []).append(
            _(
                "An expatriate patient is identified by passport or foreigner's permanent residence card."
            )
        )
    if not errors.get("id_document_number") and patient.id_document_number:
        patient.national_pseudonym = national_pseudonym(
            patient.id_document_type, patient.id_document_number
        )
        clash = RegistryPatient.objects.filter(
            site_id=patient.site_id, national_pseudonym=patient.national_pseudonym
        ).exclude(pk=patient.pk)
        if clash.exists():
            errors.setdefault("id_document_number", []).append(
                _("This person already has a registry record at this center.")
            )
    return errors


def registry_patient_register(
    *,
    site: Any,
    acting_user: ActingUser,
    source_system: str = "",
    source_id: str = "",
    **fields: Any,
) -> RegistryPatient:
    """Register a patient at ``site``; the national pseudonym links the same person at
    other centers (``selectors.other_centers_count``) without revealing those records."""
    require_registry_perm(acting_user, site)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: [_("Unknown field.")] for f in sorted(unknown)})
    with transaction.atomic():
        # the registry number is allocated under a lock on the center (no duplicates)
        type(site).objects.select_for_update().filter(pk=site.pk).exists()
        seq = RegistryPatient.objects.filter(site=site).count() + 1
        patient = RegistryPatient(
            site=site,
            record_number=f"{site.code}-R{seq:06d}",
            source_system=source_system,
            source_id=source_id,
        )
        while RegistryPatient.objects.filter(record_number=patient.record_number).exists():
            seq += 1
            patient.record_number = f"{site.code}-R{seq:06d}"
        return save_record(
            patient,
            fields=fields,
            site=site,
            acting_user=acting_user,
            rules=_rules,
            created_reason=_("Registry registration"),
        )


def registry_patient_update(
    *, patient: RegistryPatient, acting_user: ActingUser, reason: str, **fields: Any
) -> RegistryPatient:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: [_("Unknown field.")] for f in sorted(unknown)})
    return save_record(
        patient,
        fields=fields,
        site=patient.site,
        acting_user=acting_user,
        reason=reason,
        rules=_rules,
    )
