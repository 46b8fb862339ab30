"""Diagnosis (the tumour), staging, treatments and follow-up."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from ..codes import morphology_choices, topography_choices
from .base import Response, Sourced, center_queryset


class Category(models.TextChoices):
    HCC = "hcc", _("Hepatocellular carcinoma")
    ICCA = "icca", _("Intrahepatic cholangiocarcinoma")
    PCCA = "pcca", _("Perihilar cholangiocarcinoma")
    DCCA = "dcca", _("Distal cholangiocarcinoma")
    CHCC_CCA = "chcc_cca", _("Combined hepatocellular-cholangiocarcinoma")
    GBC = "gbc", _("Gallbladder carcinoma")


class Tumour(Sourced):
    """A primary hepato-biliary cancer of a registry patient (ICD-O-3 coded)."""

    class Basis(models.TextChoices):
        # IACR / ENCR basis of diagnosis codes
        CLINICAL = "clinical", _("Clinical only")
        IMAGING = "imaging", _("Clinical investigation (imaging)")
        MARKER = "marker", _("Specific tumour marker (e.g. AFP)")
        CYTOLOGY = "cytology", _("Cytology")
        HISTOLOGY_METASTASIS = "histology_met", _("Histology of a metastasis")
        HISTOLOGY = "histology", _("Histology of the primary tumour")
        AUTOPSY = "autopsy", _("Autopsy")

    class Focality(models.TextChoices):
        UNIFOCAL = "unifocal", _("Unifocal")
        MULTIFOCAL = "multifocal", _("Multifocal")

    class VascularInvasion(models.TextChoices):
        NONE = "none", _("None")
        MICRO = "micro", _("Microvascular")
        MACRO_BRANCH = "macro_branch", _("Macrovascular, segmental or sectoral branch")
        MACRO_MAJOR = "macro_major", _("Macrovascular, main portal / hepatic vein or IVC")
        UNKNOWN = "unknown", _("Not assessed")

    class Metastasis(models.TextChoices):
        LUNG = "lung", _("Lung")
        BONE = "bone", _("Bone")
        PERITONEUM = "peritoneum", _("Peritoneum")
        DISTANT_NODES = "distant_nodes", _("Distant lymph nodes")
        ADRENAL = "adrenal", _("Adrenal")
        BRAIN = "brain", _("Brain")
        OTHER = "other", _("Other")

    patient = models.ForeignKey(
        "registry.RegistryPatient", on_delete=models.PROTECT, related_name="tumours"
    )
    category = models.CharField(_("cancer"), max_length=10, choices=Category.choices)
    topography = models.CharField(_("ICD-O-3 topography"), max_length=6, choices=topography_choices)
    morphology = models.CharField(_("ICD-O-3 morphology"), max_length=7, choices=morphology_choices)
    diagnosis_date = models.DateField(_("date of diagnosis"))
    basis = models.CharField(_("basis of diagnosis"), max_length=14, choices=Basis.choices)
    focality = models.CharField(
        _("focality"), max_length=10, choices=Focality.choices, default=Focality.UNIFOCAL
    )
    tumour_count = models.PositiveSmallIntegerField(
        _("number of tumours"), default=1, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    largest_size_mm = models.PositiveIntegerField(
        _("largest tumour size (mm)"), null=True, blank=True, validators=[MaxValueValidator(400)]
    )
    vascular_invasion = models.CharField(
        _("vascular invasion"),
        max_length=12,
        choices=VascularInvasion.choices,
        default=VascularInvasion.UNKNOWN,
    )
    extrahepatic_invasion = models.BooleanField(
        _("direct invasion of adjacent organs"), null=True, blank=True
    )
    peritoneum_perforated = models.BooleanField(
        _("visceral peritoneum perforated"), null=True, blank=True
    )
    nodes_positive = models.BooleanField(_("regional nodes involved"), null=True, blank=True)
    metastatic_sites = models.JSONField(_("distant metastases"), default=list, blank=True)

    objects = center_queryset("patient__site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "diagnosis_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "source_system", "source_id"],
                condition=~models.Q(source_id=""),
                name="registry_tumour_source_unique",
            )
        ]
        verbose_name = _("tumour")
        verbose_name_plural = _("tumours")

    def __str__(self) -> str:
        return f"{self.patient} {self.topography} {self.morphology}"


class StagingRecord(models.Model):
    """One computed stage: the engine's inputs, value and version, and any override."""

    class System(models.TextChoices):
        AJCC8_LIVER = "AJCC8_LIVER", _("AJCC 8th edition, liver")
        AJCC8_ICC = "AJCC8_ICC", _("AJCC 8th edition, intrahepatic bile ducts")
        BCLC = "BCLC", _("BCLC (2022)")
        CNLC = "CNLC", _("CNLC (2022)")
        CHILD_PUGH = "CHILD_PUGH", _("Child-Pugh")
        ALBI = "ALBI", _("ALBI")
        ECOG = "ECOG", _("ECOG performance status")

    tumour = models.ForeignKey(Tumour, on_delete=models.PROTECT, related_name="stagings")
    system = models.CharField(_("system"), max_length=12, choices=System.choices)
    staged_on = models.DateField(_("date"))
    inputs = models.JSONField(_("inputs"), default=dict)
    computed_value = models.CharField(_("computed value"), max_length=20, blank=True)
    engine_version = models.CharField(_("engine version"), max_length=30)
    missing = models.JSONField(_("missing inputs"), default=list, blank=True)
    override_value = models.CharField(_("recorded value (override)"), max_length=20, blank=True)
    override_reason = models.CharField(_("reason for the override"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = center_queryset("tumour__patient__site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["tumour", "system", "-staged_on"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    def __str__(self) -> str:
        return f"{self.get_system_display()}: {self.value or '–'}"

    @property
    def value(self) -> str:
        """What the registry reports: the override when there is one, else the engine's."""
        return self.override_value or self.computed_value

    def inputs_for_engine(self) -> dict[str, object]:
        """The stored inputs without the engine's derived entries (``_points`` …)."""
        return {k: v for k, v in (self.inputs or {}).items() if not k.startswith("_")}


class Treatment(Sourced):
    class Kind(models.TextChoices):
        RESECTION = "resection", _("Resection")
        TRANSPLANT = "transplant", _("Liver transplant")
        RFA = "rfa", _("Radiofrequency ablation")
        MWA = "mwa", _("Microwave ablation")
        CRYOABLATION = "cryoablation", _("Cryoablation")
        TACE = "tace", _("TACE")
        HAIC = "haic", _("HAIC")
        SIRT = "sirt", _("SIRT (radioembolisation)")
        RADIOTHERAPY = "radiotherapy", _("Radiotherapy")
        SYSTEMIC = "systemic", _("Systemic therapy")

    class Intent(models.TextChoices):
        CURATIVE = "curative", _("Curative")
        ADJUVANT = "adjuvant", _("Adjuvant")
        NEOADJUVANT = "neoadjuvant", _("Neoadjuvant")
        BRIDGING = "bridging", _("Bridging to transplant")
        DOWNSTAGING = "downstaging", _("Downstaging")
        PALLIATIVE = "palliative", _("Palliative")

    LOCAL = frozenset({Kind.RFA, Kind.MWA, Kind.CRYOABLATION, Kind.TACE, Kind.HAIC, Kind.SIRT})

    patient = models.ForeignKey(
        "registry.RegistryPatient", on_delete=models.PROTECT, related_name="treatments"
    )
    tumour = models.ForeignKey(
        Tumour, null=True, blank=True, on_delete=models.PROTECT, related_name="treatments"
    )
    kind = models.CharField(_("treatment"), max_length=14, choices=Kind.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    intent = models.CharField(_("intent"), max_length=12, choices=Intent.choices)
    line = models.PositiveSmallIntegerField(
        _("line of systemic therapy"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    regimen = models.CharField(_("regimen"), max_length=200, blank=True)
    drugs = models.JSONField(_("drugs"), default=list, blank=True)
    best_response = models.CharField(
        _("best response"), max_length=2, choices=Response.choices, blank=True
    )

    objects = center_queryset("patient__site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "source_system", "source_id"],
                condition=~models.Q(source_id=""),
                name="registry_treatment_source_unique",
            )
        ]
        verbose_name = _("treatment")
        verbose_name_plural = _("treatments")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start_date}"


class FollowUp(Sourced):
    class VitalStatus(models.TextChoices):
        ALIVE = "alive", _("Alive")
        DEAD = "dead", _("Dead")

    class StatusSource(models.TextChoices):
        VISIT = "visit", _("Clinic visit")
        PHONE = "phone", _("Telephone contact")
        RECORD = "record", _("Hospital record")
        DEATH_REGISTRY = "death_registry", _("Death registry")
        FAMILY = "family", _("Family")

    class Event(models.TextChoices):
        NONE = "none", _("No recurrence or progression")
        RECURRENCE = "recurrence", _("Recurrence")
        PROGRESSION = "progression", _("Progression")

    class Method(models.TextChoices):
        IMAGING = "imaging", _("Imaging")
        PATHOLOGY = "pathology", _("Pathology")
        CLINICAL = "clinical", _("Clinical")
        MARKER = "marker", _("Tumour marker")

    class CauseOfDeath(models.TextChoices):
        CANCER = "cancer", _("This cancer")
        LIVER_FAILURE = "liver_failure", _("Liver failure")
        TREATMENT = "treatment", _("Treatment-related")
        OTHER = "other", _("Other cause")
        UNKNOWN = "unknown", _("Unknown")

    patient = models.ForeignKey(
        "registry.RegistryPatient", on_delete=models.PROTECT, related_name="follow_ups"
    )
    contact_date = models.DateField(_("last contact"))
    vital_status = models.CharField(_("vital status"), max_length=5, choices=VitalStatus.choices)
    status_source = models.CharField(
        _("source of vital status"), max_length=14, choices=StatusSource.choices
    )
    event = models.CharField(
        _("recurrence / progression"), max_length=12, choices=Event.choices, default=Event.NONE
    )
    event_date = models.DateField(_("date of recurrence / progression"), null=True, blank=True)
    event_site = models.CharField(_("site of recurrence / progression"), max_length=100, blank=True)
    event_method = models.CharField(
        _("detected by"), max_length=10, choices=Method.choices, blank=True
    )
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    cause_of_death = models.CharField(
        _("cause of death"), max_length=14, choices=CauseOfDeath.choices, blank=True
    )

    objects = center_queryset("patient__site").as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "contact_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "source_system", "source_id"],
                condition=~models.Q(source_id=""),
                name="registry_followup_source_unique",
            )
        ]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self) -> str:
        return f"{self.patient} {self.contact_date}"
