from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from patients.models.base import PatientChildQuerySet

from .base import ClinicalRecord


class Procedure(ClinicalRecord):
    """A local therapy: the trial's cryoablation, or any other ablation / embolisation."""

    class Kind(models.TextChoices):
        CRYOABLATION = "cryoablation", _("Cryoablation")
        RFA = "rfa", _("Radiofrequency ablation")
        MWA = "mwa", _("Microwave ablation")
        TACE = "tace", _("Transarterial chemoembolisation")
        RADIOTHERAPY = "radiotherapy", _("Radiotherapy")
        SURGERY = "surgery", _("Surgery")
        OTHER = "other", _("Other")

    class Approach(models.TextChoices):
        PERCUTANEOUS_CT = "percutaneous_ct", _("Percutaneous, CT guided")
        PERCUTANEOUS_US = "percutaneous_us", _("Percutaneous, ultrasound guided")
        LAPAROSCOPIC = "laparoscopic", _("Laparoscopic")
        OPEN = "open", _("Open")
        ENDOVASCULAR = "endovascular", _("Endovascular")
        OTHER = "other", _("Other")

    ABLATIVE = frozenset({Kind.CRYOABLATION, Kind.RFA, Kind.MWA, Kind.RADIOTHERAPY})

    kind = models.CharField(_("procedure"), max_length=14, choices=Kind.choices)
    procedure_date = models.DateField(_("procedure date"))
    approach = models.CharField(_("approach"), max_length=16, choices=Approach.choices)
    probes = models.PositiveSmallIntegerField(
        _("number of probes"), null=True, blank=True, validators=[MaxValueValidator(30)]
    )
    freeze_thaw_cycles = models.PositiveSmallIntegerField(
        _("freeze-thaw cycles"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    ice_ball_margin_mm = models.DecimalField(
        _("ice-ball margin (mm)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(50)],
    )
    technical_success = models.BooleanField(_("technical success"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=4000)

    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "procedure_date", "pk"]
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.procedure_date:%Y-%m-%d}"


class ProcedureChildQuerySet(PatientChildQuerySet):
    scope_trial_field = "procedure__patient__trial_site__trial"
    scope_trial_site_field = "procedure__patient__trial_site"


class ProcedureLesion(models.Model):
    """A RECIST lesion treated by the procedure."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="treated")
    lesion = models.ForeignKey("patients.Lesion", on_delete=models.PROTECT, related_name="+")

    objects = ProcedureChildQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["procedure", "lesion"], name="procedure_lesion_unique")
        ]
        verbose_name = _("treated lesion")
        verbose_name_plural = _("treated lesions")

    def __str__(self) -> str:
        return f"{self.procedure} / {self.lesion}"


class ProcedureComplication(models.Model):
    """A complication graded by Clavien-Dindo (Dindo D et al., Ann Surg 2004;240:205-13),
    linked to the adverse event that records it."""

    class ClavienDindo(models.TextChoices):
        I = "I", _("I: any deviation from the normal course without specific treatment")  # noqa: E741
        II = "II", _("II: requiring drugs beyond those allowed for grade I, transfusion")
        IIIA = "IIIa", _("IIIa: intervention not under general anaesthesia")
        IIIB = "IIIb", _("IIIb: intervention under general anaesthesia")
        IVA = "IVa", _("IVa: life-threatening, single organ dysfunction")
        IVB = "IVb", _("IVb: life-threatening, multi-organ dysfunction")
        V = "V", _("V: death of the patient")

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="complications")
    description = models.CharField(_("complication"), max_length=200)
    clavien_dindo = models.CharField(
        _("Clavien-Dindo grade"), max_length=4, choices=ClavienDindo.choices
    )
    adverse_event = models.ForeignKey(
        "patients.AdverseEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="procedure_complications",
        verbose_name=_("adverse event"),
    )

    objects = ProcedureChildQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        verbose_name = _("procedure complication")
        verbose_name_plural = _("procedure complications")

    def __str__(self) -> str:
        return f"{self.description} (Clavien-Dindo {self.clavien_dindo})"
