from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import PatientChildQuerySet


class Enrollment(models.Model):
    """Enrollment and allocation. The arm comes from the concealed allocation sequence
    (domain.randomization) at ``allocation_index`` of the stratum."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="enrollment"
    )
    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="enrollments")
    arm = models.ForeignKey("trials.Arm", on_delete=models.PROTECT, related_name="enrollments")
    enrolled_on = models.DateField(_("enrollment date"))
    first_treatment_date = models.DateField(_("first treatment date"), null=True, blank=True)
    randomization_number = models.CharField(_("randomization number"), max_length=40)
    stratum = models.CharField(_("stratum"), max_length=200, blank=True)
    allocation_index = models.PositiveIntegerField(_("position in stratum sequence"))
    block_number = models.PositiveIntegerField(_("block"), null=True, blank=True)
    block_size = models.PositiveSmallIntegerField(_("block size"), null=True, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    enrolled_by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = PatientChildQuerySet.as_manager()
    history = AuditedHistory()
    # Allocation concealment: ``access.blinding.history_hidden_fields`` keeps the sequence
    # (position, block, block size) off every history page, and the arm from blinded users.

    class Meta:
        ordering = ["patient"]
        # the API list's default ordering (newest/oldest first, id breaking ties)
        indexes = [models.Index(fields=["enrolled_on", "id"], name="enrollment_list_order")]
        constraints = [
            # The database itself guarantees no two patients share a number or a slot.
            models.UniqueConstraint(
                fields=["trial", "randomization_number"],
                name="enrollment_randomization_number_unique",
            ),
            models.UniqueConstraint(
                fields=["trial", "stratum", "allocation_index"],
                name="enrollment_allocation_slot_unique",
            ),
        ]
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")

    def __str__(self) -> str:
        return f"{self.patient} {self.randomization_number}"


class UnblindingQuerySet(PatientChildQuerySet):
    scope_trial_field = "enrollment__patient__trial_site__trial"
    scope_trial_site_field = "enrollment__patient__trial_site"


class UnblindingEvent(models.Model):
    """An emergency unblinding: one subject, one person, a reason, notified."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="unblindings")
    unblinded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    unblinded_by_username = models.CharField(max_length=150)
    reason = models.TextField(_("reason"))
    at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = UnblindingQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["-at"]
        verbose_name = _("emergency unblinding")
        verbose_name_plural = _("emergency unblindings")

    def __str__(self) -> str:
        return f"{self.enrollment.patient} {self.at:%Y-%m-%d %H:%M}"
