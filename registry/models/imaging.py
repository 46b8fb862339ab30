"""Imaging studies by their DICOM metadata (no pixels are stored centrally)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import Sourced, center_queryset

validate_uid = RegexValidator(
    r"^[0-9]+(\.[0-9]+)*\Z", _("A DICOM UID is digits separated by dots.")
)


class ImagingStudy(Sourced):
    class Modality(models.TextChoices):
        CT = "CT", _("CT")
        MR = "MR", _("MRI")
        US = "US", _("Ultrasound")
        PT = "PT", _("PET")
        OTHER = "OT", _("Other")

    patient = models.ForeignKey(
        "registry.RegistryPatient", on_delete=models.PROTECT, related_name="imaging_studies"
    )
    study_instance_uid = models.CharField(
        _("Study Instance UID"), max_length=64, validators=[validate_uid]
    )
    modality = models.CharField(_("modality"), max_length=2, choices=Modality.choices)
    study_date = models.DateField(_("study date"))
    body_part = models.CharField(_("body part"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    contrast_phases = models.JSONField(_("contrast phases"), default=list, blank=True)
    dicomweb_url = models.URLField(
        _("DICOMweb link"),
        blank=True,
        help_text=_("Where the images are, in the center's own archive."),
    )
    header = models.JSONField(
        _("DICOM header (selected tags)"), default=dict, blank=True, editable=False
    )

    objects = center_queryset("patient__site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "study_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "study_instance_uid"], name="registry_study_uid_unique"
            )
        ]
        verbose_name = _("imaging study")
        verbose_name_plural = _("imaging studies")

    def __str__(self) -> str:
        return f"{self.get_modality_display()} {self.study_date}"


class LiradsObservation(models.Model):
    class Category(models.TextChoices):
        LR1 = "LR-1", _("LR-1 definitely benign")
        LR2 = "LR-2", _("LR-2 probably benign")
        LR3 = "LR-3", _("LR-3 intermediate probability")
        LR4 = "LR-4", _("LR-4 probably HCC")
        LR5 = "LR-5", _("LR-5 definitely HCC")
        LRM = "LR-M", _("LR-M malignant, not HCC-specific")
        LRTIV = "LR-TIV", _("LR-TIV tumour in vein")
        LRNC = "LR-NC", _("LR-NC not categorisable")

    study = models.ForeignKey(ImagingStudy, on_delete=models.PROTECT, related_name="observations")
    label = models.CharField(_("observation"), max_length=20)
    segment = models.PositiveSmallIntegerField(
        _("liver segment"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(8)],
    )
    size_mm = models.PositiveSmallIntegerField(
        _("size (mm)"), null=True, blank=True, validators=[MaxValueValidator(400)]
    )
    category = models.CharField(_("LI-RADS v2018"), max_length=6, choices=Category.choices)
    recist_assessment = models.ForeignKey(
        "patients.TumorAssessment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("RECIST assessment (trial patient)"),
    )

    objects = center_queryset("study__patient__site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["study", "label"]
        verbose_name = _("LI-RADS observation")
        verbose_name_plural = _("LI-RADS observations")

    def __str__(self) -> str:
        return f"{self.label}: {self.category}"
