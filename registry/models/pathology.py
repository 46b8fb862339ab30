"""Synoptic pathology reports: the elements a protocol version asks for are data
(``registry/data/pathology_protocols.json``), checked by ``services.pathology``."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from ..codes import morphology_choices
from .base import Sourced, center_queryset


class PathologyReport(Sourced):
    class Protocol(models.TextChoices):
        CAP_HCC = "CAP_HCC", _("CAP hepatocellular carcinoma")
        CAP_ICC = "CAP_ICC", _("CAP intrahepatic bile ducts")

    class Specimen(models.TextChoices):
        RESECTION = "resection", _("Resection")
        EXPLANT = "explant", _("Explant (transplant)")
        BIOPSY = "biopsy", _("Biopsy")

    class Grade(models.TextChoices):
        G1 = "G1", _("G1, well differentiated")
        G2 = "G2", _("G2, moderately differentiated")
        G3 = "G3", _("G3, poorly differentiated")
        G4 = "G4", _("G4, undifferentiated")
        GX = "GX", _("GX, cannot be assessed")

    class Subtype(models.TextChoices):
        LARGE_DUCT = "large_duct", _("Large duct type")
        SMALL_DUCT = "small_duct", _("Small duct type")

    class Margin(models.TextChoices):
        NEGATIVE = "negative", _("Negative (R0)")
        POSITIVE = "positive", _("Positive (R1)")
        NOT_ASSESSABLE = "not_assessable", _("Cannot be assessed")

    class Invasion(models.TextChoices):
        NOT_IDENTIFIED = "no", _("Not identified")
        PRESENT = "yes", _("Present")
        NOT_ASSESSABLE = "na", _("Cannot be determined")

    tumour = models.ForeignKey(
        "registry.Tumour", on_delete=models.PROTECT, related_name="pathology_reports"
    )
    protocol = models.CharField(_("protocol"), max_length=8, choices=Protocol.choices)
    protocol_version = models.CharField(_("protocol version"), max_length=20)
    report_date = models.DateField(_("report date"))
    specimen = models.CharField(_("specimen"), max_length=10, choices=Specimen.choices)
    histologic_type = models.CharField(
        _("histologic type"), max_length=7, choices=morphology_choices
    )
    grade = models.CharField(_("histologic grade"), max_length=2, choices=Grade.choices)
    icca_subtype = models.CharField(
        _("iCCA subtype"), max_length=10, choices=Subtype.choices, blank=True
    )
    margin = models.CharField(_("margin"), max_length=14, choices=Margin.choices, blank=True)
    margin_distance_mm = models.DecimalField(
        _("closest margin (mm)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    nodes_examined = models.PositiveSmallIntegerField(
        _("lymph nodes examined"), null=True, blank=True, validators=[MaxValueValidator(200)]
    )
    nodes_positive = models.PositiveSmallIntegerField(
        _("lymph nodes positive"), null=True, blank=True, validators=[MaxValueValidator(200)]
    )
    perineural_invasion = models.CharField(
        _("perineural invasion"), max_length=3, choices=Invasion.choices, blank=True
    )
    vascular_invasion = models.CharField(
        _("vascular invasion"), max_length=3, choices=Invasion.choices, blank=True
    )
    pt = models.CharField(_("pT"), max_length=6, blank=True)
    pn = models.CharField(_("pN"), max_length=4, blank=True)
    ihc = models.JSONField(
        _("immunohistochemistry"), default=dict, blank=True, help_text=_("marker: result")
    )
    elements = models.JSONField(_("further protocol elements"), default=dict, blank=True)

    objects = center_queryset("tumour__patient__site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["tumour", "report_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["tumour", "source_system", "source_id"],
                condition=~models.Q(source_id=""),
                name="registry_pathology_source_unique",
            )
        ]
        verbose_name = _("pathology report")
        verbose_name_plural = _("pathology reports")

    def __str__(self) -> str:
        return f"{self.get_protocol_display()} {self.protocol_version} {self.report_date}"
