"""Freezes and locks of a casebook, a trial-site or a whole trial (interim / final lock).

A lock (not a freeze) is refused while queries are open, required SDV is missing or
casebooks of enrolled patients lack a valid signature; the refusal lists them. Unlocking
needs the data manager's ``Perm.LOCK_DATA`` and a reason, and is kept in the history.
Enforcement on clinical data is in ``monitoring.guard``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.users import ActingUser
from patients.models import Patient
from patients.services.common import require_reason
from sites.roles import Perm
from sites.scoping import has_perm

from ..models import DataQuery, Lock, Signature, SourceVerification
from ..targets import all_targets
from .common import username
from .verification import plan_for, sdv_required


@dataclass
class LockProblems:
    open_queries: list[str] = field(default_factory=list)
    missing_sdv: list[str] = field(default_factory=list)
    missing_signatures: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.open_queries or self.missing_sdv or self.missing_signatures)

    def messages(self, limit: int = 50) -> list[str]:
        out = []
        for title, items in (
            (_("Open queries"), self.open_queries),
            (_("Source data verification missing"), self.missing_sdv),
            (_("Casebook signatures missing"), self.missing_signatures),
        ):
            if items:
                shown = ", ".join(items[:limit])
                more = len(items) - limit
                suffix = _(" and %(n)d more") % {"n": more} if more > 0 else ""
                out.append(f"{title} ({len(items)}): {shown}{suffix}")
        return out

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "open_queries": self.open_queries,
            "missing_sdv": self.missing_sdv,
            "missing_signatures": self.missing_signatures,
        }


def _patients(*, trial: Any, trial_site: Any, patient: Any) -> Any:
    qs = Patient.objects.filter(trial_site__trial=trial)
    if trial_site is not None:
        qs = qs.filter(trial_site=trial_site)
    if patient is not None:
        qs = qs.filter(pk=patient.pk)
    return qs


def lock_problems(*, trial: Any, trial_site: Any = None, patient: Any = None) -> LockProblems:
    """What stands in the way of locking this scope."""
    from django.contrib.contenttypes.models import ContentType

    problems = LockProblems()
    patients = _patients(trial=trial, trial_site=trial_site, patient=patient)
    queries = DataQuery.objects.filter(
        trial=trial, patient__in=patients, status__in=DataQuery.UNRESOLVED
    ).order_by("pk")
    problems.open_queries = [f"Q-{q.pk} {q.record_label}" for q in queries]
    plan = plan_for(trial.pk)
    verified = {
        (ct, oid)
        for ct, oid in SourceVerification.objects.filter(
            trial=trial, patient__in=patients, status=SourceVerification.Status.VERIFIED
        ).values_list("content_type_id", "object_id")
    }
    subjects = dict(patients.values_list("pk", "subject_id"))
    for target in all_targets():
        ct = ContentType.objects.get_for_model(target.model)
        rows = target.model._base_manager.filter(**{f"{target.patient_filter}__in": subjects})
        for record in rows.order_by("pk"):
            if (ct.pk, record.pk) in verified or not sdv_required(record, plan, target):
                continue
            subject = subjects.get(target.patient_id_of(record), "?")
            problems.missing_sdv.append(f"{subject} {target.model._meta.verbose_name} #{record.pk}")
    signed = set(
        Signature.objects.filter(
            trial=trial,
            level=Signature.Level.CASEBOOK,
            status=Signature.Status.VALID,
            patient__in=patients,
        ).values_list("patient_id", flat=True)
    )
    for pk, subject in patients.filter(enrollment__isnull=False).values_list("pk", "subject_id"):
        if pk not in signed:
            problems.missing_signatures.append(subject)
    return problems


def _require_lock_perm(user: Any) -> None:
    if not has_perm(user, Perm.LOCK_DATA):
        raise PermissionDenied(_("Only a data manager can lock or unlock data."))


def lock_create(
    *,
    trial: Any,
    level: str,
    mode: str,
    reason: str,
    acting_user: ActingUser,
    trial_site: Any = None,
    patient: Any = None,
    label: str = "",
) -> Lock:
    _require_lock_perm(acting_user)
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the data is locked.")]
    if level not in Lock.Level.values:
        errors["level"] = [_("Choose casebook, site or trial.")]
    if mode not in Lock.Mode.values:
        errors["mode"] = [_("Choose freeze or lock.")]
    if level == Lock.Level.CASEBOOK:
        if patient is None:
            errors["patient"] = [_("Choose the patient whose casebook is locked.")]
        else:
            trial_site = patient.trial_site
    elif level == Lock.Level.SITE:
        patient = None
        if trial_site is None:
            errors["trial_site"] = [_("Choose the trial site.")]
    else:
        patient, trial_site = None, None
    if trial_site is not None and trial_site.trial_id != trial.pk:
        errors["trial_site"] = [_("This site does not take part in the trial.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        Lock.objects.select_for_update().filter(trial=trial, released_at__isnull=True).exists()
        same = Lock.objects.active().filter(
            trial=trial, level=level, trial_site=trial_site, patient=patient
        )
        existing = same.first()
        if existing is not None:
            raise ValidationError(
                {"__all__": [_("%(lock)s is already in force.") % {"lock": existing.describe()}]}
            )
        if mode == Lock.Mode.LOCK:
            problems = lock_problems(trial=trial, trial_site=trial_site, patient=patient)
            if problems:
                raise ValidationError(
                    {"__all__": [_("The data cannot be locked yet."), *problems.messages()]}
                )
        lock = Lock.objects.create(
            trial=trial,
            trial_site=trial_site,
            patient=patient,
            level=level,
            mode=mode,
            label=(label or "").strip()[:200],
            reason=reason,
            locked_by=acting_user,
            locked_by_username=username(acting_user),
            locked_at=timezone.now(),
        )
    return lock


def lock_release(*, lock: Lock, reason: str, acting_user: ActingUser) -> Lock:
    """Unlock: an audited exception, with a reason."""
    _require_lock_perm(acting_user)
    reason = require_reason(reason)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        current = Lock.objects.select_for_update().get(pk=lock.pk)
        if current.released_at is not None:
            raise ValidationError({"__all__": [_("This lock was already released.")]})
        current.released_at = timezone.now()
        current.released_by = acting_user
        current.released_by_username = username(acting_user)
        current.release_reason = reason
        set_change_reason(current, reason)
        current.save()
    return current


def lock_in_force(*, trial: Any) -> Lock | None:
    """The trial-wide lock in force (the data cut records it), if any."""
    return (
        Lock.objects.active()
        .filter(trial=trial, level=Lock.Level.TRIAL)
        .order_by("-locked_at")
        .first()
    )
