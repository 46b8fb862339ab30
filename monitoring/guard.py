"""The one place that enforces locks: a ``pre_save`` / ``pre_delete`` receiver for every
registered clinical model (``monitoring.targets``).

Why here and not in each service: every write of a clinical record, whatever its path
(the coordinator's forms, the API, the admin, a management command, a Celery task, a
service added next year by another app), ends in ``Model.save()`` or ``Model.delete()``,
and Django sends these signals from there. A check in each service would be forgotten in
the next one. The receiver raises :class:`LockedError`, a ``ValidationError``: the web
forms already put a service's ``ValidationError`` on the form (``apply_errors``), the API
turns it into a 400 (``api.base.exception_handler``) and the admin's change view is
wrapped by ``monitoring.admin_guard`` to show it as a message. The only writes that do
not pass here are ``QuerySet.update()`` / ``bulk_create``, which the project forbids on
tracked models.

Writing only a target's ``system_fields`` (SAE deadlines and escalation stamps, the
last-known-alive date) stays possible: reporting obligations continue under a lock.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.db.models.signals import pre_delete, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from .targets import Target, target_of


class LockedError(ValidationError):
    """A write refused because the data is frozen or locked; the message names the lock."""

    def __init__(self, lock: Any) -> None:
        self.lock = lock
        message = _(
            "%(lock)s: this data cannot be changed (by %(user)s on %(date)s: %(reason)s). "
            "A data manager can unlock it with a reason."
        ) % {
            "lock": lock.describe(),
            "user": lock.locked_by_username or "?",
            "date": lock.locked_at.strftime("%Y-%m-%d %H:%M UTC"),
            "reason": lock.reason,
        }
        super().__init__({NON_FIELD_ERRORS: [message]}, code="locked")


def active_lock_for(
    *, patient_id: int | None = None, trial_site_id: int | None = None, freeze_counts: bool = True
) -> Any:
    """The lock in force on a patient's casebook (or on a trial-site), or None.

    One query when there is none (the usual case): casebook, site and trial locks are
    looked up together through joins; a second one loads the lock found.
    ``freeze_counts=False`` ignores freezes (query answers are allowed while frozen).
    """
    from .models import Lock

    qs = Lock.objects.filter(released_at__isnull=True)
    if not freeze_counts:
        qs = qs.filter(mode=Lock.Mode.LOCK)
    if patient_id is not None:
        q = (
            Q(level=Lock.Level.CASEBOOK, patient_id=patient_id)
            | Q(level=Lock.Level.SITE, trial_site__patients=patient_id)
            | Q(level=Lock.Level.TRIAL, trial__trial_sites__patients=patient_id)
        )
    elif trial_site_id is not None:
        q = Q(level=Lock.Level.SITE, trial_site_id=trial_site_id) | Q(
            level=Lock.Level.TRIAL, trial__trial_sites=trial_site_id
        )
    else:
        return None
    # Almost always there is none: ask for its id first (a much cheaper query to build
    # than one that joins what the message names), and load the lock only if there is one.
    found = qs.filter(q).order_by("locked_at", "pk").values_list("pk", flat=True).first()
    if found is None:
        return None
    return qs.filter(pk=found).select_related("trial", "trial_site__site", "patient").first()


def lock_for_instance(instance: Any, target: Target | None = None) -> Any:
    target = target or target_of(instance)
    if target is None:
        return None
    patient_id = target.patient_id_of(instance)
    if patient_id is None and not target.patient_path:  # a patient being registered
        return active_lock_for(trial_site_id=getattr(instance, "trial_site_id", None))
    return active_lock_for(patient_id=patient_id)


def _only_system_fields(instance: Any, target: Target) -> bool:
    if not target.system_fields or instance.pk is None:
        return False
    model = type(instance)
    names = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    old = model._base_manager.filter(pk=instance.pk).values(*names).first()
    if old is None:
        return False
    changed = {n for n in names if old[n] != getattr(instance, n)}
    return changed <= target.system_fields


@receiver(pre_save, dispatch_uid="monitoring_lock_guard_save")
def refuse_locked_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw:  # loaddata
        return
    target = target_of(sender)
    if target is None:
        return
    lock = lock_for_instance(instance, target)
    if lock is not None and not _only_system_fields(instance, target):
        raise LockedError(lock)


@receiver(pre_delete, dispatch_uid="monitoring_lock_guard_delete")
def refuse_locked_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    target = target_of(sender)
    if target is None:
        return
    lock = lock_for_instance(instance, target)
    if lock is not None:
        raise LockedError(lock)
