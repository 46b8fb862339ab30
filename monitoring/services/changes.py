"""What a change to a clinical record does to monitoring (called by ``monitoring.watcher``
from the history signal, inside the transaction of the change).

- SDV of a verified field (or of a record verified as a whole) is reset, saying which
  fields changed, by whom and when;
- valid signatures covering the record (its own, the patient's casebook) are marked
  invalidated with who, when and what changed; the record is back on the investigator's
  to-sign list;
- the trial's edit checks on that form are re-run on the record.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.users import ActingUser

from ..models import Signature, SourceVerification
from ..targets import Target
from .common import field_label, username
from .signatures import signatures_covering


def _describe(model: Any, changes: list[tuple[str, Any, Any]] | None, label: str) -> str:
    if changes is None:
        return _("%(record)s was added") % {"record": label}
    parts = [
        f"{field_label(model, name)}: {'—' if old in (None, '') else old} → "
        f"{'—' if new in (None, '') else new}"
        for name, old, new in changes
    ]
    return f"{label}: " + "; ".join(parts)


def record_changed(
    *,
    target: Target,
    instance: Any,
    changes: list[tuple[str, Any, Any]] | None,
    acting_user: ActingUser,
) -> None:
    """``changes``: (field, old, new) of an update; None for a new record."""
    patient_id = target.patient_id_of(instance)
    if patient_id is None:
        return
    content_type = ContentType.objects.get_for_model(type(instance))
    now = timezone.now()
    model = type(instance)
    label = f"{model._meta.verbose_name} #{instance.pk}"
    note = _describe(model, changes, label)[:2000]
    with audit_context(reason=note[:1000]):
        if changes is not None:
            changed = {name for name, _old, _new in changes}
            for row in SourceVerification.objects.filter(
                content_type=content_type,
                object_id=instance.pk,
                status=SourceVerification.Status.VERIFIED,
            ):
                hit = sorted(changed if not row.fields else changed & set(row.fields))
                if not hit:
                    continue
                row.status = SourceVerification.Status.RESET
                row.reset_at = now
                row.reset_by_username = username(acting_user)
                row.reset_fields = hit
                row.save()
        for signature in signatures_covering(
            patient_id=patient_id, content_type=content_type, object_id=instance.pk
        ):
            signature.status = Signature.Status.INVALIDATED
            signature.invalidated_at = now
            signature.invalidated_by = acting_user
            signature.invalidated_by_username = username(acting_user)
            signature.invalidation_note = note
            signature.save()
    from .checks import edit_checks_run_record

    edit_checks_run_record(record=instance, target=target, patient_id=patient_id)
