from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import ClinicalRecord


class ConcomitantMedication(ClinicalRecord):
    """A medication other than the study drugs; protocol-prohibited ones are flagged
    (``domain.conmeds``) with the warning stored beside the record."""

    generic_name = models.CharField(_("generic name"), max_length=200)
    indication = models.CharField(_("indication"), max_length=200)
    dose = models.CharField(_("dose"), max_length=60, blank=True)
    route = models.CharField(_("route"), max_length=40, blank=True)
    frequency = models.CharField(_("frequency"), max_length=60, blank=True)
    start_date = models.DateField(_("start date"))
    stop_date = models.DateField(_("stop date"), null=True, blank=True)
    ongoing = models.BooleanField(_("ongoing"), default=False)
    prohibited_category = models.CharField(_("prohibited category"), max_length=40, blank=True)
    warning = models.CharField(_("warning"), max_length=300, blank=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "start_date", "pk"]
        verbose_name = _("concomitant medication")
        verbose_name_plural = _("concomitant medications")

    def __str__(self) -> str:
        return f"{self.generic_name} ({self.indication})"
