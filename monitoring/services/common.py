"""Helpers shared by the monitoring services: resolving a targeted record, its context,
its content hash, and the permission / lock checks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from patients.models import Patient
from sites.roles import Perm
from sites.scoping import has_perm

from ..guard import LockedError, active_lock_for
from ..targets import Target, data_fields, target_for, target_of


@dataclass(frozen=True)
class RecordContext:
    record: Any
    target: Target
    patient: Patient
    content_type: ContentType

    @property
    def trial_site(self) -> Any:
        return self.patient.trial_site

    def targeted(self) -> dict[str, Any]:
        """The fields every ``TargetedRecord`` copies from the record."""
        return {
            "trial_id": self.patient.trial_site.trial_id,
            "trial_site_id": self.patient.trial_site_id,
            "patient": self.patient,
            "content_type": self.content_type,
            "object_id": self.record.pk,
            "record_label": record_label(self.record, self.patient)[:300],
        }


def record_label(record: Any, patient: Patient) -> str:
    name = str(record._meta.verbose_name).capitalize()
    if isinstance(record, Patient):
        return f"{patient.subject_id} · {name}"
    return f"{patient.subject_id} · {name} #{record.pk} · {record}"


def context_for(record: Any) -> RecordContext:
    target = target_of(record)
    if target is None:
        raise ValidationError({"record": _("This kind of record is not monitored.")})
    patient_id = target.patient_id_of(record)
    if patient_id is None:  # as get(pk=None) did
        raise Patient.DoesNotExist("The record belongs to no patient.")
    patient = Patient.objects.select_related("trial_site__trial", "trial_site__site").get(
        pk=patient_id
    )
    return RecordContext(
        record=record,
        target=target,
        patient=patient,
        content_type=ContentType.objects.get_for_model(type(record)),
    )


def resolve_record(*, form: str, object_id: Any, user: Any) -> Any:
    """The record ``form`` (a model label such as ``patients.visit``) / ``object_id`` as
    ``user`` sees it. An unknown form, id or another site's record is the same error, so
    nothing about other sites is confirmed."""
    target = target_for(str(form or "").lower())
    if target is None:
        raise ValidationError({"form": _("Choose one of the monitored forms.")})
    try:
        return target.model.objects.visible_to(user).get(pk=int(object_id))
    except (TypeError, ValueError, target.model.DoesNotExist) as exc:
        raise ValidationError({"object_id": _("No such record.")}) from exc


def check_field(record: Any, field_name: str) -> str:
    field_name = (field_name or "").strip()
    if field_name and field_name not in data_fields(type(record)):
        raise ValidationError(
            {"field_name": _("%(field)s is not a field of this form.") % {"field": field_name}}
        )
    return field_name


def field_label(model: type[models.Model] | None, field_name: str) -> str:
    if not field_name or model is None:
        return ""
    for f in model._meta.concrete_fields:
        if f.attname == field_name or f.name == field_name:
            return str(f.verbose_name)
    return field_name


def require_perm(user: Any, perm: Perm, trial_site: Any) -> None:
    if not has_perm(user, perm, trial_site=trial_site):
        raise PermissionDenied(_("Your role does not allow this."))


def require_text(value: str | None, field: str = "text", limit: int = 4000) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > limit:
        raise ValidationError({field: _("Keep it under %(n)d characters.") % {"n": limit}})
    return text


def refuse_if_locked(patient_id: int, *, freeze_counts: bool) -> None:
    lock = active_lock_for(patient_id=patient_id, freeze_counts=freeze_counts)
    if lock is not None:
        raise LockedError(lock)


def username(user: Any) -> str:
    return user.get_username() if user is not None else ""


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def record_content(record: Any, target: Target | None = None) -> dict[str, Any]:
    """The record's data as signed: every concrete field except bookkeeping ones."""
    target = target or target_of(record)
    skip = target.system_fields if target else frozenset()
    return {
        f.attname: _plain(f.value_from_object(record))
        for f in record._meta.concrete_fields
        if f.attname not in skip
    }


def content_hash(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
