"""Source data verification: marking records verified, and the per-trial SDV plan.

The plan (``MonitoringPlan``) names the forms verified 100% (default: consent,
screening/eligibility, enrollment, tumour assessments; serious adverse events always);
of every other record a stable ``sample_percent`` is required, chosen by a hash of trial,
form and record id, so the sample is the same on every page and about that share at
each site.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.users import ActingUser
from sites.roles import Perm

from ..models import MonitoringPlan, SourceVerification
from ..targets import Target, data_fields, target_of
from .common import context_for, refuse_if_locked, require_perm, username

DEFAULT_FULL_SDV = [
    "patients.consent",
    "patients.screening",
    "patients.enrollment",
    "patients.tumorassessment",
]
DEFAULT_SAMPLE_PERCENT = 20


def plan_for(trial_id: int) -> MonitoringPlan:
    """The trial's plan; an unsaved default when none is configured."""
    plan = MonitoringPlan.objects.filter(trial_id=trial_id).first()
    if plan is None:
        plan = MonitoringPlan(
            trial_id=trial_id,
            full_sdv_forms=list(DEFAULT_FULL_SDV),
            sample_percent=DEFAULT_SAMPLE_PERCENT,
        )
    return plan


def in_sample(trial_id: int, label: str, pk: int, percent: int) -> bool:
    digest = hashlib.sha256(f"{trial_id}:{label}:{pk}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def sdv_required(record: Any, plan: MonitoringPlan, target: Target | None = None) -> bool:
    target = target or target_of(record)
    if target is None:
        return False
    if target.label in (plan.full_sdv_forms or []):
        return True
    if target.always_full_sdv is not None and target.always_full_sdv(record):
        return True
    return in_sample(plan.trial_id, target.label, record.pk, plan.sample_percent)


def sdv_verify(
    *, record: Any, acting_user: ActingUser, fields: Iterable[str] | None = None
) -> SourceVerification:
    """Mark ``record`` (or the given fields) verified against the source document."""
    from django.core.exceptions import ValidationError

    ctx = context_for(record)
    require_perm(acting_user, Perm.VERIFY_SOURCE, ctx.trial_site)
    chosen = sorted(set(fields or []))
    known = set(data_fields(type(record)))
    unknown = [f for f in chosen if f not in known]
    if unknown:
        raise ValidationError(
            {"fields": _("Not fields of this form: %(f)s") % {"f": ", ".join(unknown)}}
        )
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Source data verified")):
        refuse_if_locked(ctx.patient.pk, freeze_counts=False)
        row = (
            SourceVerification.objects.select_for_update()
            .filter(content_type=ctx.content_type, object_id=record.pk)
            .first()
        )
        if row is None:
            row = SourceVerification(**ctx.targeted())
        row.fields = chosen
        row.status = SourceVerification.Status.VERIFIED
        row.verified_by = acting_user
        row.verified_by_username = username(acting_user)
        row.verified_at = timezone.now()
        row.reset_at = None
        row.reset_by_username = ""
        row.reset_fields = []
        row.record_label = ctx.targeted()["record_label"]
        row.save()
    return row
