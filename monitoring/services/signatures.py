"""Electronic signatures (21 CFR 11.50, 11.70, 11.200).

Signing re-asks both identification components, the user id and the password, every
time (11.200(a)(1)): a signature is never implied by the session. The signature stores
the signer, printed name, UTC time, meaning and a SHA-256 of the signed content; a later
change to that content invalidates it (``services.changes``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.users import ActingUser
from patients.models import Patient
from sites.roles import Perm

from ..models import DataQuery, Signature
from ..second_factor import check_second_factor
from ..targets import all_targets
from .common import content_hash, context_for, record_content, require_perm, username
from .verification import plan_for


def casebook_content(patient: Patient) -> dict[str, list[dict[str, Any]]]:
    """Every monitored record of the patient, by form, in id order."""
    content: dict[str, list[dict[str, Any]]] = {}
    for target in all_targets():
        rows = target.model._base_manager.filter(**{target.patient_filter: patient.pk})
        content[target.label] = [record_content(r, target) for r in rows.order_by("pk")]
    return content


def signed_hash(*, level: str, record: Any) -> str:
    if level == Signature.Level.CASEBOOK:
        return content_hash(casebook_content(record))
    return content_hash(record_content(record))


def open_queries_on(*, level: str, record: Any, patient: Patient) -> Any:
    qs = DataQuery.objects.filter(patient=patient, status__in=DataQuery.UNRESOLVED)
    if level == Signature.Level.RECORD:
        ctx = context_for(record)
        qs = qs.filter(content_type=ctx.content_type, object_id=record.pk)
    return qs


def signature_sign(
    *,
    record: Any,
    level: str,
    meaning: str,
    username_entered: str,
    password: str,
    acting_user: ActingUser,
    otp_token: str = "",
) -> Signature:
    """Sign a patient's casebook (``record`` is the Patient) or one signable record.

    With ``SIGNATURE_SECOND_FACTOR`` on, a TOTP code of the signer's confirmed
    authenticator (``otp_token``) is required as well; it is checked last, so a wrong
    password does not use the code up."""
    ctx = context_for(record)
    require_perm(acting_user, Perm.SIGN_OFF, ctx.trial_site)
    errors: dict[str, list[str]] = {}
    if level not in Signature.Level.values:
        errors["level"] = [_("Choose casebook or record.")]
    elif level == Signature.Level.CASEBOOK and not isinstance(record, Patient):
        errors["level"] = [_("A casebook signature is given on the patient.")]
    elif level == Signature.Level.RECORD and not ctx.target.signable:
        errors["level"] = [_("This form is signed as part of the casebook.")]
    if meaning not in Signature.Meaning.values:
        errors["meaning"] = [_("Choose the meaning of the signature.")]
    if (username_entered or "").strip() != acting_user.get_username():
        errors["username"] = [_("Enter your own user id.")]
    if not password or not acting_user.check_password(password):
        errors["password"] = [_("The password is not correct.")]
    if errors:
        raise ValidationError(errors)
    second_factor = check_second_factor(user=acting_user, token=otp_token)
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Electronic signature")):
        if not plan_for(ctx.patient.trial_site.trial_id).allow_signing_with_open_queries:
            pending = list(open_queries_on(level=level, record=record, patient=ctx.patient)[:20])
            if pending:
                raise ValidationError(
                    {
                        "__all__": [
                            _("Resolve the open queries first: %(list)s")
                            % {"list": ", ".join(f"Q-{q.pk}" for q in pending)}
                        ]
                    }
                )
        already = Signature.objects.filter(
            content_type=ctx.content_type,
            object_id=record.pk,
            level=level,
            meaning=meaning,
            signer=acting_user,
            status=Signature.Status.VALID,
        ).exists()
        if already:
            raise ValidationError({"__all__": [_("You have already signed this content.")]})
        signature = Signature.objects.create(
            **ctx.targeted(),
            level=level,
            meaning=meaning,
            signer=acting_user,
            signer_username=username(acting_user),
            printed_name=acting_user.get_full_name() or username(acting_user),
            signed_at=timezone.now(),
            content_hash=signed_hash(level=level, record=record),
            second_factor=second_factor,
        )
    return signature


def signatures_covering(*, patient_id: int, content_type: Any, object_id: int) -> Any:
    """Valid signatures whose content includes the record: its own and the casebook's."""
    return Signature.objects.filter(status=Signature.Status.VALID, patient_id=patient_id).filter(
        Q(level=Signature.Level.CASEBOOK)
        | Q(level=Signature.Level.RECORD, content_type=content_type, object_id=object_id)
    )
