from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.files import ExpiringFileMixin
from audit.history import AuditedHistory
from sites.scoping import ScopedQuerySet, scope_for


class ExportJobQuerySet(ScopedQuerySet):
    """An export is personal: users see the jobs they requested; data managers and
    administrators (global roles) see every job. Downloading is checked again by
    ``exports.services.export_download``."""

    scope_trial_field = "trial"

    def visible_to(self, user: Any) -> ExportJobQuerySet:
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if scope_for(user).everything:
            return self.all()
        return self.filter(requested_by=user)


class ExportJob(ExpiringFileMixin, models.Model):
    """One requested export of a trial's data, produced by a background task.

    The file lives under ``MEDIA_ROOT/exports/<pk>/`` and is never served by the web
    server directly: downloads go through a view that checks access and logs them.
    Progress (``progress``, ``rows_done``) is written often and on its own, without a
    history row per tick; every status change is a normal save with history.
    """

    class Kind(models.TextChoices):
        CSV = "csv", _("CSV bundle")
        ODM = "odm", _("CDISC ODM 1.3.2 XML")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    TRANSITIONS = {
        Status.QUEUED: {Status.RUNNING, Status.FAILED},
        # A task redelivered after a worker died finds its job still running.
        Status.RUNNING: {Status.DONE, Status.FAILED},
        # A bounded retry runs a failed job again.
        Status.FAILED: {Status.RUNNING, Status.EXPIRED},
        Status.DONE: {Status.EXPIRED},
        Status.EXPIRED: set(),
    }
    ACTIVE = frozenset({Status.QUEUED, Status.RUNNING})

    trial = models.ForeignKey(
        "trials.Trial",
        on_delete=models.PROTECT,
        related_name="export_jobs",
        verbose_name=_("trial"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_by_username = models.CharField(_("requested by"), max_length=150)
    kind = models.CharField(_("format"), max_length=8, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    rows_done = models.PositiveBigIntegerField(_("rows written"), default=0)
    rows_total = models.PositiveBigIntegerField(_("rows to write"), default=0)
    pseudonymised = models.BooleanField(
        _("pseudonymised"),
        default=True,
        help_text=_("Names, contacts and document numbers are left out."),
    )
    arm_hidden = models.BooleanField(
        _("allocation hidden"),
        default=False,
        help_text=_("Blinded trial: the arm and the names of study treatments are left out."),
    )
    file_path = models.CharField(_("file"), max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started (data cut-off)"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, db_index=True)

    objects = ExportJobQuerySet.as_manager()
    history = AuditedHistory(excluded_fields=["progress", "rows_done"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
