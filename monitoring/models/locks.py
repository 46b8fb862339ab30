from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from sites.scoping import Scope

from .base import MonitoringQuerySet, user_fk


class LockQuerySet(MonitoringQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        q = super().scope_q(scope)
        if scope.site_trial_ids:  # site roles see the trial-wide locks of their trials
            q |= Q(trial_site__isnull=True, trial__in=scope.site_trial_ids)
        return q

    def active(self) -> LockQuerySet:
        return self.filter(released_at__isnull=True)


class Lock(models.Model):
    """A freeze or lock of a casebook, a trial-site or the whole trial.

    Freeze: clinical data cannot change; queries can still be answered. Lock: nothing
    changes, queries included. Released by a data manager with a reason; never deleted.
    """

    class Level(models.TextChoices):
        CASEBOOK = "casebook", _("Patient casebook")
        SITE = "site", _("Trial site")
        TRIAL = "trial", _("Whole trial")

    class Mode(models.TextChoices):
        FREEZE = "freeze", _("Frozen (queries only)")
        LOCK = "lock", _("Locked")

    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="+")
    trial_site = models.ForeignKey(
        "trial_sites.TrialSite", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    mode = models.CharField(_("kind"), max_length=10, choices=Mode.choices, default=Mode.LOCK)
    label = models.CharField(
        _("label"), max_length=200, blank=True, help_text=_("e.g. Interim analysis 1, Final lock")
    )
    reason = models.TextField(_("reason"), max_length=2000)
    locked_by = user_fk(verbose_name=_("locked by"))
    locked_by_username = models.CharField(_("locked by"), max_length=150, blank=True)
    locked_at = models.DateTimeField(_("locked"))
    released_by = user_fk(verbose_name=_("unlocked by"))
    released_by_username = models.CharField(_("unlocked by"), max_length=150, blank=True)
    released_at = models.DateTimeField(_("unlocked"), null=True, blank=True)
    release_reason = models.TextField(_("reason for unlocking"), blank=True, max_length=2000)

    objects = LockQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["-locked_at", "-pk"]
        verbose_name = _("lock")
        verbose_name_plural = _("locks")

    def __str__(self) -> str:
        return str(self.describe())

    @property
    def is_active(self) -> bool:
        return self.released_at is None

    def describe(self) -> Any:
        from django.utils.translation import gettext

        where = {
            self.Level.CASEBOOK: lambda: (
                gettext("casebook %(subject)s")
                % {"subject": self.patient.subject_id if self.patient_id else "?"}
            ),
            self.Level.SITE: lambda: (
                gettext("site %(site)s")
                % {"site": self.trial_site.site.code if self.trial_site_id else "?"}
            ),
            self.Level.TRIAL: lambda: (
                gettext("trial %(trial)s") % {"trial": self.trial.protocol_code}
            ),
        }[self.level]()
        text = gettext("%(mode)s %(where)s") % {"mode": self.get_mode_display(), "where": where}
        if self.label:
            text = f"{text} ({self.label})"
        return f"L-{self.pk} {text}"
