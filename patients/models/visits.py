from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import PatientChildQuerySet


class Visit(models.Model):
    """A scheduled (from a VisitDefinition) or unscheduled visit of an enrolled patient."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        COMPLETED = "completed", _("Completed")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        Status.PLANNED: {Status.COMPLETED, Status.MISSED, Status.CANCELLED},
        Status.MISSED: {Status.COMPLETED},
        Status.COMPLETED: set(),
        Status.CANCELLED: set(),
    }

    class VitalStatus(models.TextChoices):
        ALIVE = "alive", _("Alive")
        DEAD = "dead", _("Dead")
        UNKNOWN = "unknown", _("Unknown")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="visits")
    definition = models.ForeignKey(
        "trials.VisitDefinition",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("visit"),
    )
    unscheduled_reason = models.CharField(
        _("reason for unscheduled visit"), max_length=300, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    target_date = models.DateField(_("target date"), null=True, blank=True)
    window_start = models.DateField(_("window opens"), null=True, blank=True)
    window_end = models.DateField(_("window closes"), null=True, blank=True)
    scheduled_date = models.DateField(_("scheduled date"))
    actual_date = models.DateField(_("visit date"), null=True, blank=True)
    vital_status = models.CharField(
        _("vital status"), max_length=8, choices=VitalStatus.choices, blank=True
    )
    ecog = models.PositiveSmallIntegerField(
        _("ECOG performance status"), null=True, blank=True, validators=[MaxValueValidator(5)]
    )
    ae_review_done = models.BooleanField(_("adverse events reviewed"), default=False)
    notes = models.TextField(_("notes"), blank=True, max_length=4000)
    is_deviation = models.BooleanField(_("protocol deviation"), default=False)
    deviation_reason = models.TextField(_("deviation reason"), blank=True, max_length=2000)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by_username = models.CharField(max_length=150, blank=True)

    objects = PatientChildQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "scheduled_date", "pk"]
        indexes = [
            models.Index(fields=["status", "scheduled_date"]),
            # the API list's default ordering (id breaking ties)
            models.Index(fields=["scheduled_date", "id"], name="visit_list_order"),
        ]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")

    def __str__(self) -> str:
        name = self.definition.display_name if self.definition_id else _("Unscheduled visit")
        return f"{self.patient} – {name}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None
