from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import center_queryset


class ImportJob(models.Model):
    """A CSV bulk import: checked in full first (dry run), written only when clean."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        CHECKED = "checked", _("Checked (dry run)")
        FAILED = "failed", _("Refused: see the report")
        DONE = "done", _("Imported")

    site = models.ForeignKey(
        "trial_sites.Site", on_delete=models.PROTECT, related_name="registry_imports"
    )
    domain = models.CharField(_("domain"), max_length=20)
    source_system = models.CharField(_("source system"), max_length=50)
    file = models.FileField(_("file"), upload_to="registry/imports/%Y/%m/")
    dry_run = models.BooleanField(_("dry run"), default=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = center_queryset("site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("registry import")
        verbose_name_plural = _("registry imports")

    def __str__(self) -> str:
        return f"{self.domain} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def progress(self) -> int:
        return round(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
