"""Source data verification and electronic signatures."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import MonitoringQuerySet, TargetedRecord, user_fk


class SourceVerification(TargetedRecord):
    """A monitor's mark that a record (or some of its fields) matches the source.

    One row per record holds the current state; a later change to a verified field
    resets it (``status = reset``, with what changed, who and when), and the history keeps
    every verification and reset.
    """

    class Status(models.TextChoices):
        VERIFIED = "verified", _("Verified")
        RESET = "reset", _("Reset by a change")

    fields = models.JSONField(
        _("verified fields"), default=list, blank=True, help_text=_("Empty: the whole record.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.VERIFIED
    )
    verified_by = user_fk(verbose_name=_("verified by"))
    verified_by_username = models.CharField(_("verified by"), max_length=150, blank=True)
    verified_at = models.DateTimeField(_("verified"))
    reset_at = models.DateTimeField(_("reset"), null=True, blank=True)
    reset_by_username = models.CharField(_("changed by"), max_length=150, blank=True)
    reset_fields = models.JSONField(_("changed fields"), default=list, blank=True)

    objects = MonitoringQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["-verified_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], name="one_verification_per_record"
            )
        ]
        verbose_name = _("source data verification")
        verbose_name_plural = _("source data verifications")

    def __str__(self) -> str:
        return f"SDV {self.record_label}"

    def covers(self, field_name: str) -> bool:
        return not self.fields or field_name in self.fields


class Signature(TargetedRecord):
    """An electronic signature (21 CFR 11.50 / 11.70 / 11.200).

    Shows the printed name, UTC time and meaning; linked to the record by content type,
    id and a SHA-256 of the signed content, so it cannot be moved to other data. A change
    to signed content afterwards marks it invalidated (who, when, what changed): it is
    never deleted.
    """

    class Level(models.TextChoices):
        CASEBOOK = "casebook", _("Patient casebook")
        RECORD = "record", _("Single record")

    class Meaning(models.TextChoices):
        APPROVED = "approved", _("Reviewed and approved")
        AUTHORED = "authored", _("Authored")
        CAUSALITY = "causality", _("Responsible for causality assessment")

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        INVALIDATED = "invalidated", _("Invalidated by a change")

    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    meaning = models.CharField(_("meaning"), max_length=12, choices=Meaning.choices)
    signer = user_fk(verbose_name=_("signer"))
    signer_username = models.CharField(_("signer user id"), max_length=150)
    printed_name = models.CharField(_("printed name"), max_length=300)
    signed_at = models.DateTimeField(_("signed (UTC)"))
    content_hash = models.CharField(_("SHA-256 of the signed content"), max_length=64)
    second_factor = models.BooleanField(_("second factor used"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.VALID
    )
    invalidated_at = models.DateTimeField(_("invalidated"), null=True, blank=True)
    invalidated_by = user_fk(verbose_name=_("invalidated by"))
    invalidated_by_username = models.CharField(_("changed by"), max_length=150, blank=True)
    invalidation_note = models.TextField(_("what changed"), blank=True)

    objects = MonitoringQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["-signed_at", "-pk"]
        indexes = [models.Index(fields=["patient", "status"])]
        verbose_name = _("electronic signature")
        verbose_name_plural = _("electronic signatures")

    def __str__(self) -> str:
        return f"{self.printed_name} – {self.get_meaning_display()} – {self.record_label}"


class PlanQuerySet(MonitoringQuerySet):
    scope_trial_site_field = None  # trial-level: every member of the trial reads it


class MonitoringPlan(models.Model):
    """Per-trial monitoring settings: the SDV plan and the signing rule."""

    trial = models.OneToOneField(
        "trials.Trial", on_delete=models.PROTECT, related_name="monitoring_plan"
    )
    full_sdv_forms = models.JSONField(
        _("forms verified 100%"),
        default=list,
        blank=True,
        help_text=_(
            "Model labels, e.g. patients.consent, patients.screening, patients.enrollment, "
            "patients.tumorassessment. Serious adverse events are always verified 100%."
        ),
    )
    sample_percent = models.PositiveSmallIntegerField(
        _("sampled percentage of other records"),
        default=20,
        help_text=_("Chosen per record by a stable hash, so about this share per site."),
    )
    allow_signing_with_open_queries = models.BooleanField(
        _("allow signing while queries are open"), default=False
    )

    objects = PlanQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        verbose_name = _("monitoring plan")
        verbose_name_plural = _("monitoring plans")

    def __str__(self) -> str:
        return f"{self.trial}"
