from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import ClinicalRecord


class VitalSigns(ClinicalRecord):
    """Vital signs and body weight at a visit (weight drives the lenvatinib dose; blood
    pressure is followed for lenvatinib hypertension)."""

    measured_on = models.DateField(_("date measured"))
    systolic_bp = models.PositiveSmallIntegerField(
        _("systolic blood pressure (mmHg)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(50), MaxValueValidator(300)],
    )
    diastolic_bp = models.PositiveSmallIntegerField(
        _("diastolic blood pressure (mmHg)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(20), MaxValueValidator(200)],
    )
    heart_rate = models.PositiveSmallIntegerField(
        _("heart rate (/min)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(20), MaxValueValidator(250)],
    )
    temperature_c = models.DecimalField(
        _("temperature (°C)"),
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(30), MaxValueValidator(45)],
    )
    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(20), MaxValueValidator(300)],
    )
    height_cm = models.DecimalField(
        _("height (cm)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(100), MaxValueValidator(250)],
    )

    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "measured_on", "pk"]
        verbose_name = _("vital signs")
        verbose_name_plural = _("vital signs")

    def __str__(self) -> str:
        return f"{self.patient} {self.measured_on:%Y-%m-%d}"
