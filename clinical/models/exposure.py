from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from sites.scoping import ScopedQuerySet

from .base import ClinicalRecord


class PlannedRegimenQuerySet(ScopedQuerySet):
    scope_trial_field = "intervention__trial"


class PlannedRegimen(models.Model):
    """The protocol's planned dosing of one drug intervention.

    Weight-banded oral daily dosing (lenvatinib 8 mg below 60 kg, 12 mg at or above) or a
    fixed dose every ``interval_days`` (a PD-1 inhibitor 240 mg IV every 21 days).
    """

    class Route(models.TextChoices):
        ORAL = "oral", _("Oral")
        IV = "iv", _("Intravenous infusion")
        SC = "sc", _("Subcutaneous")

    intervention = models.OneToOneField(
        "trials.Intervention", on_delete=models.PROTECT, related_name="planned_regimen"
    )
    route = models.CharField(_("route"), max_length=4, choices=Route.choices)
    dose_mg = models.DecimalField(
        _("planned dose (mg)"),
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Per day for daily dosing, per administration otherwise; at or above the "
            "weight threshold when weight-banded."
        ),
    )
    weight_threshold_kg = models.DecimalField(
        _("weight threshold (kg)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    dose_below_threshold_mg = models.DecimalField(
        _("planned dose below the weight threshold (mg)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
    )
    interval_days = models.PositiveSmallIntegerField(
        _("interval (days)"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("1 = daily; 21 = every 3 weeks."),
    )

    objects = PlannedRegimenQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        verbose_name = _("planned regimen")
        verbose_name_plural = _("planned regimens")

    def __str__(self) -> str:
        return f"{self.intervention}: {self.dose_mg} mg / {self.interval_days} d"


class Exposure(ClinicalRecord):
    """One dispensing / administration record of a drug, or a change to its dosing.

    Daily oral drugs are recorded as periods at one dose (``start_date`` to ``end_date``);
    infusions as single administrations (``end_date`` empty). Interruptions are periods at
    dose 0; a discontinuation ends the drug for the patient. Every change carries its
    reason and, when it answers to toxicity, the adverse event.
    """

    class Kind(models.TextChoices):
        ADMINISTRATION = "administration", _("Administration / dosing period")
        DISPENSING = "dispensing", _("Dispensing")
        INTERRUPTION = "interruption", _("Interruption")
        DISCONTINUATION = "discontinuation", _("Discontinuation")

    class DoseChange(models.TextChoices):
        NONE = "", _("As planned")
        REDUCED = "reduced", _("Dose reduced")
        INCREASED = "increased", _("Dose re-escalated")

    class Reason(models.TextChoices):
        NONE = "", _("—")
        ADVERSE_EVENT = "adverse_event", _("Adverse event")
        PROGRESSION = "progression", _("Disease progression")
        PATIENT_DECISION = "patient_decision", _("Patient decision")
        PHYSICIAN_DECISION = "physician_decision", _("Physician decision")
        PROCEDURE = "procedure", _("Procedure / surgery")
        OTHER = "other", _("Other")

    intervention = models.ForeignKey(
        "trials.Intervention", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("record"), max_length=16, choices=Kind.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    dose_mg = models.DecimalField(
        _("dose (mg)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    route = models.CharField(
        _("route"), max_length=4, choices=PlannedRegimen.Route.choices, blank=True
    )
    lot_number = models.CharField(_("lot number"), max_length=40, blank=True)
    dose_change = models.CharField(
        _("dose change"), max_length=10, choices=DoseChange.choices, blank=True
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, blank=True)
    reason_detail = models.CharField(_("reason details"), max_length=300, blank=True)
    adverse_event = models.ForeignKey(
        "patients.AdverseEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exposures",
        verbose_name=_("adverse event"),
    )
    weight_kg = models.DecimalField(
        _("weight used (kg)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    expected_dose_mg = models.DecimalField(
        _("expected dose (mg)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    dose_mismatch = models.BooleanField(_("dose differs from the weight-based dose"), default=False)

    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "intervention", "start_date", "pk"]
        verbose_name = _("exposure record")
        verbose_name_plural = _("exposure records")

    def __str__(self) -> str:
        return f"{self.intervention} {self.get_kind_display()} {self.start_date:%Y-%m-%d}"
