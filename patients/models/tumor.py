from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import PatientChildQuerySet

MAX_MM = 500  # larger is not a plausible lesion diameter


class TumorAssessment(models.Model):
    """One imaging time point: the baseline scan or a follow-up (RECIST 1.1 / iRECIST)."""

    class Method(models.TextChoices):
        CT = "CT", _("CT")
        MRI = "MRI", _("MRI")

    class NonTarget(models.TextChoices):
        CR = "CR", _("Complete response (all non-target lesions gone)")
        NON_CR_NON_PD = "NON_CR_NON_PD", _("Non-CR / non-PD")
        PD = "PD", _("Unequivocal progression")
        NE = "NE", _("Not evaluated")
        NONE = "NONE", _("No non-target lesions at baseline")

    class NewLesions(models.TextChoices):
        NONE = "none", _("None")
        EQUIVOCAL = "equivocal", _("Equivocal")
        UNEQUIVOCAL = "unequivocal", _("Unequivocal")

    class RecordedResponse(models.TextChoices):
        CR = "CR", _("CR")
        PR = "PR", _("PR")
        SD = "SD", _("SD")
        NON_CR_NON_PD = "NON_CR_NON_PD", _("Non-CR / non-PD")
        PD = "PD", _("PD")
        NE = "NE", _("NE")

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="tumor_assessments"
    )
    visit = models.ForeignKey(
        "patients.Visit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tumor_assessments",
        verbose_name=_("visit"),
    )
    is_baseline = models.BooleanField(_("baseline"), default=False)
    assessment_date = models.DateField(_("scan date"))
    method = models.CharField(_("imaging method"), max_length=3, choices=Method.choices)
    non_target_status = models.CharField(
        _("non-target lesions"), max_length=14, choices=NonTarget.choices, blank=True
    )
    new_lesions = models.CharField(
        _("new lesions"), max_length=12, choices=NewLesions.choices, default=NewLesions.NONE
    )
    new_lesions_increased = models.BooleanField(
        _("new lesions grew or increased in number (iRECIST)"), default=False
    )
    nontarget_increased = models.BooleanField(
        _("further non-target increase (iRECIST)"), default=False
    )
    recorded_response = models.CharField(
        _("recorded response"),
        max_length=14,
        choices=RecordedResponse.choices,
        blank=True,
        help_text=_("A response given by central review, used as is instead of measurements."),
    )
    recorded_response_source = models.CharField(
        _("source of the recorded response"), max_length=200, blank=True
    )
    notes = models.TextField(_("notes"), blank=True, max_length=4000)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = PatientChildQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "assessment_date", "pk"]
        # the API list's default ordering (newest/oldest first, id breaking ties)
        indexes = [models.Index(fields=["assessment_date", "id"], name="assessment_list_order")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(is_baseline=True),
                name="one_baseline_assessment_per_patient",
            )
        ]
        verbose_name = _("tumour assessment")
        verbose_name_plural = _("tumour assessments")

    def __str__(self) -> str:
        kind = _("baseline") if self.is_baseline else _("follow-up")
        return f"{self.patient} {kind} {self.assessment_date:%Y-%m-%d}"


class LesionQuerySet(PatientChildQuerySet):
    pass


class Lesion(models.Model):
    """A lesion recorded at baseline; followed by measurements at each follow-up."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="lesions"
    )
    code = models.CharField(_("lesion"), max_length=10, help_text=_("e.g. T1, T2, NT1"))
    organ = models.CharField(_("organ"), max_length=60)
    location = models.CharField(_("location"), max_length=200, blank=True)
    nodal = models.BooleanField(_("lymph node"), default=False)
    target = models.BooleanField(_("target lesion"), default=True)
    ablated = models.BooleanField(
        _("previously ablated or irradiated"),
        default=False,
        help_text=_("Treated before baseline: not measurable, cannot be a target."),
    )
    ablated_on_study = models.BooleanField(
        _("ablated on study"),
        default=False,
        help_text=_("Treated by the trial's cryoablation after baseline."),
    )
    baseline_mm = models.FloatField(
        _("baseline diameter (mm)"),
        validators=[MinValueValidator(0), MaxValueValidator(MAX_MM)],
        help_text=_("Longest diameter; short axis for lymph nodes."),
    )

    objects = LesionQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "code"]
        indexes = [models.Index(fields=["patient", "code", "id"], name="lesion_list_order")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "code"], name="lesion_code_unique_per_patient"
            )
        ]
        verbose_name = _("lesion")
        verbose_name_plural = _("lesions")

    def __str__(self) -> str:
        return f"{self.code} {self.organ}"


class MeasurementQuerySet(PatientChildQuerySet):
    scope_trial_field = "assessment__patient__trial_site__trial"
    scope_trial_site_field = "assessment__patient__trial_site"


class LesionMeasurement(models.Model):
    class State(models.TextChoices):
        MEASURED = "measured", _("Measured")
        TOO_SMALL = "too_small", _("Too small to measure (counts 5 mm)")
        DISAPPEARED = "disappeared", _("Disappeared")
        MERGED = "merged", _("Merged into another lesion")
        NOT_EVALUATED = "not_evaluated", _("Not evaluated")

    assessment = models.ForeignKey(
        TumorAssessment, on_delete=models.PROTECT, related_name="measurements"
    )
    lesion = models.ForeignKey(Lesion, on_delete=models.PROTECT, related_name="measurements")
    state = models.CharField(
        _("state"), max_length=14, choices=State.choices, default=State.MEASURED
    )
    diameter_mm = models.FloatField(
        _("diameter (mm)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_MM)],
    )
    fragments_mm = models.JSONField(_("fragments of a split lesion (mm)"), default=list, blank=True)
    merged_into = models.ForeignKey(
        Lesion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("merged into"),
    )

    objects = MeasurementQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["assessment", "lesion__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "lesion"], name="one_measurement_per_lesion"
            )
        ]
        verbose_name = _("lesion measurement")
        verbose_name_plural = _("lesion measurements")

    def __str__(self) -> str:
        return f"{self.lesion.code}: {self.diameter_mm or self.get_state_display()}"


class ResponseSummary(models.Model):
    """A patient's response outcome as computed by ``domain.analysis``, including
    each time point's sum of diameters, % changes and overall response.

    Recomputed in the same transaction as any change to the patient's imaging, enrollment
    or survival dates, so dashboards aggregate stored outcomes instead of re-reading every
    measurement. ``outcome`` is exactly what ``patient_outcome`` returns.
    """

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="response_summary"
    )
    bor = models.CharField(_("best overall response"), max_length=16)
    best_change_pct = models.FloatField(null=True, blank=True)
    evaluable = models.BooleanField(default=False)
    outcome = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)

    objects = PatientChildQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        verbose_name = _("response summary")
        verbose_name_plural = _("response summaries")

    def __str__(self) -> str:
        return f"{self.patient} {self.bor}"
