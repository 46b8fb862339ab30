from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import PatientChildQuerySet


class Screening(models.Model):
    """One eligibility screening. Re-screening adds a new row; earlier ones are kept."""

    class Result(models.TextChoices):
        ELIGIBLE = "eligible", _("Eligible")
        NOT_ELIGIBLE = "not_eligible", _("Not eligible")
        INCOMPLETE = "incomplete", _("Incomplete")

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="screenings"
    )
    protocol_version = models.ForeignKey(
        "trials.ProtocolVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("protocol version"),
    )
    screening_date = models.DateField(_("screening date"))
    data = models.JSONField(_("screening data"), default=dict)
    result = models.CharField(_("result"), max_length=14, choices=Result.choices)
    # The per-criterion decision as shown to the coordinator: list of
    # {code, kind, text, status, satisfied, reason, missing_fields}.
    criteria_results = models.JSONField(_("criteria results"), default=list)
    failed_codes = models.JSONField(_("failed criteria"), default=list)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    screened_by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = PatientChildQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "-created_at"]
        # the API list's default ordering (newest/oldest first, id breaking ties)
        indexes = [models.Index(fields=["screening_date", "id"], name="screening_list_order")]
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")

    def __str__(self) -> str:
        return f"{self.patient} {self.screening_date:%Y-%m-%d} {self.get_result_display()}"
