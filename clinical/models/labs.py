from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from domain.ctcae_labs import CANONICAL_UNITS, Analyte

from .base import ClinicalRecord, SiteReferenceQuerySet


class Panel(models.TextChoices):
    HAEMATOLOGY = "haematology", _("Haematology")
    LIVER = "liver", _("Liver function")
    RENAL = "renal", _("Renal function")
    COAGULATION = "coagulation", _("Coagulation")
    THYROID = "thyroid", _("Thyroid function")
    URINE = "urine", _("Urine protein")
    TUMOUR_MARKERS = "tumour_markers", _("Tumour markers")


class AnalyteChoice(models.TextChoices):
    ALT = Analyte.ALT.value, _("ALT")
    AST = Analyte.AST.value, _("AST")
    ALP = Analyte.ALP.value, _("Alkaline phosphatase")
    GGT = Analyte.GGT.value, _("GGT")
    BILIRUBIN = Analyte.BILIRUBIN.value, _("Total bilirubin")
    ALBUMIN = Analyte.ALBUMIN.value, _("Albumin")
    INR = Analyte.INR.value, _("INR")
    PLATELETS = Analyte.PLATELETS.value, _("Platelet count")
    NEUTROPHILS = Analyte.NEUTROPHILS.value, _("Neutrophil count")
    LYMPHOCYTES = Analyte.LYMPHOCYTES.value, _("Lymphocyte count")
    WBC = Analyte.WBC.value, _("White blood cell count")
    HAEMOGLOBIN = Analyte.HAEMOGLOBIN.value, _("Haemoglobin")
    CREATININE = Analyte.CREATININE.value, _("Creatinine")
    PROTEINURIA_24H = Analyte.PROTEINURIA_24H.value, _("Urine protein (24 h)")
    PROTEINURIA_DIPSTICK = Analyte.PROTEINURIA_DIPSTICK.value, _("Urine protein (dipstick)")
    TSH = Analyte.TSH.value, _("TSH")
    FT4 = Analyte.FT4.value, _("Free T4")
    CA19_9 = Analyte.CA19_9.value, _("CA19-9")
    CEA = Analyte.CEA.value, _("CEA")
    AFP = Analyte.AFP.value, _("AFP")


PANEL_OF: dict[str, str] = {
    **dict.fromkeys(
        ("platelets", "neutrophils", "lymphocytes", "wbc", "haemoglobin"), "haematology"
    ),
    **dict.fromkeys(("alt", "ast", "alp", "ggt", "bilirubin", "albumin"), "liver"),
    "creatinine": "renal",
    "inr": "coagulation",
    **dict.fromkeys(("tsh", "ft4"), "thyroid"),
    **dict.fromkeys(("urine_protein_24h", "urine_protein_dipstick"), "urine"),
    **dict.fromkeys(("ca19_9", "cea", "afp"), "tumour_markers"),
}
CANONICAL_UNIT_OF: dict[str, str] = {a.value: u for a, u in CANONICAL_UNITS.items()}


class LabReferenceRange(models.Model):
    """A site laboratory's reference range for one analyte, in the analyte's canonical
    unit, from ``effective_from`` until ``effective_to`` (open-ended when empty)."""

    class Sex(models.TextChoices):
        ANY = "", _("Any")
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    site = models.ForeignKey(
        "trial_sites.Site", on_delete=models.PROTECT, related_name="lab_reference_ranges"
    )
    laboratory = models.CharField(_("laboratory"), max_length=200, blank=True)
    analyte = models.CharField(_("analyte"), max_length=32, choices=AnalyteChoice.choices)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True, default="")
    lower = models.FloatField(_("lower limit of normal"), null=True, blank=True)
    upper = models.FloatField(_("upper limit of normal"), null=True, blank=True)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until"), null=True, blank=True)

    objects = SiteReferenceQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["site", "analyte", "sex", "-effective_from"]
        indexes = [models.Index(fields=["site", "analyte", "effective_from"])]
        verbose_name = _("laboratory reference range")
        verbose_name_plural = _("laboratory reference ranges")

    def __str__(self) -> str:
        return f"{self.site} {self.get_analyte_display()} {self.lower}-{self.upper}"

    @property
    def unit(self) -> str:
        return CANONICAL_UNIT_OF[self.analyte]


class LabResult(ClinicalRecord):
    """One laboratory value with its reference range, flag and CTCAE v5.0 grade.

    ``value`` / ``unit`` are as reported by the laboratory; ``value_canonical`` is in the
    analyte's canonical unit, in which the range, the flag and the grade are judged. The
    grading inputs (LLN, ULN, baseline) are copied so that a later change of range or
    baseline does not silently re-grade what the investigator saw.
    """

    class Flag(models.TextChoices):
        NONE = "", _("No range")
        LOW = "L", _("Low")
        NORMAL = "N", _("Normal")
        HIGH = "H", _("High")

    class AeProposal(models.TextChoices):
        NONE = "", _("None")
        PROPOSED = "proposed", _("Adverse event proposed")
        RECORDED = "recorded", _("Adverse event recorded")
        DISMISSED = "dismissed", _("Proposal dismissed")

    panel = models.CharField(_("panel"), max_length=16, choices=Panel.choices)
    analyte = models.CharField(_("analyte"), max_length=32, choices=AnalyteChoice.choices)
    collected_on = models.DateField(_("collection date"))
    value = models.FloatField(_("value"), null=True, blank=True)
    value_text = models.CharField(
        _("qualitative result"), max_length=20, blank=True, help_text=_("Dipstick: 1+, 2+ ...")
    )
    unit = models.CharField(_("unit (UCUM)"), max_length=20, blank=True)
    value_canonical = models.FloatField(_("value in canonical unit"), null=True, blank=True)
    reference_range = models.ForeignKey(
        LabReferenceRange, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lln = models.FloatField(_("LLN"), null=True, blank=True)
    uln = models.FloatField(_("ULN"), null=True, blank=True)
    flag = models.CharField(_("flag"), max_length=1, choices=Flag.choices, blank=True)
    baseline_value = models.FloatField(_("baseline value used"), null=True, blank=True)
    ctcae_grade = models.PositiveSmallIntegerField(_("CTCAE grade"), null=True, blank=True)
    ctcae_term = models.CharField(_("CTCAE term"), max_length=100, blank=True)
    ctcae_criterion = models.CharField(_("CTCAE criterion"), max_length=300, blank=True)
    ctcae_basis = models.CharField(_("graded against"), max_length=10, blank=True)
    grading_notes = models.JSONField(_("grading notes"), default=list, blank=True)
    engine_version = models.CharField(max_length=40, blank=True)
    ae_proposal = models.CharField(
        _("adverse event proposal"), max_length=10, choices=AeProposal.choices, blank=True
    )
    adverse_event = models.ForeignKey(
        "patients.AdverseEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lab_results",
        verbose_name=_("adverse event"),
    )

    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "collected_on", "panel", "analyte", "pk"]
        indexes = [models.Index(fields=["patient", "analyte", "collected_on"])]
        verbose_name = _("laboratory result")
        verbose_name_plural = _("laboratory results")

    def __str__(self) -> str:
        shown = self.value_text or f"{self.value} {self.unit}"
        return f"{self.get_analyte_display()} {shown} ({self.collected_on:%Y-%m-%d})"
