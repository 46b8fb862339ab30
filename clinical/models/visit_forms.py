from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from patients.models.base import PatientChildQuerySet
from trials.models import VisitForm


class VisitFormNoteQuerySet(PatientChildQuerySet):
    scope_trial_field = "visit__patient__trial_site__trial"
    scope_trial_site_field = "visit__patient__trial_site"


class VisitFormNote(models.Model):
    """A required form answered without records: "nothing to report" (no concomitant
    medication, no dosing because treatment is interrupted) or "not done" with a reason.
    Either makes the form count as entered; "not done" stays visible on the visit."""

    class Status(models.TextChoices):
        NONE_TO_REPORT = "none", _("Nothing to report")
        NOT_DONE = "not_done", _("Not done")

    visit = models.ForeignKey(
        "patients.Visit", on_delete=models.PROTECT, related_name="clinical_form_notes"
    )
    form = models.CharField(_("form"), max_length=12, choices=VisitForm.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = VisitFormNoteQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["visit", "form"], name="visit_form_note_unique")
        ]
        verbose_name = _("visit form note")
        verbose_name_plural = _("visit form notes")

    def __str__(self) -> str:
        return f"{self.visit}: {self.get_form_display()} {self.get_status_display()}"
