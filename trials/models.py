from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from domain.blinding import arm_specific_interventions
from sites.scoping import Scope, ScopedQuerySet
from ui.translated import in_reader_language

from .choices import Language
from .validators import validate_chictr_id, validate_code, validate_nct_id


def _new_seed() -> str:
    return secrets.token_hex(32)


class TrialQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> models.Q:
        return models.Q(pk__in=scope.trial_ids | scope.site_trial_ids)


class Trial(models.Model):
    class Phase(models.TextChoices):
        PHASE1 = "1", _("Phase 1")
        PHASE1_2 = "1/2", _("Phase 1/2")
        PHASE2 = "2", _("Phase 2")
        PHASE2_3 = "2/3", _("Phase 2/3")
        PHASE3 = "3", _("Phase 3")
        PHASE4 = "4", _("Phase 4")

    class Design(models.TextChoices):
        SINGLE_ARM = "single_arm", _("Single-arm")
        RANDOMIZED = "randomized", _("Randomized")

    class Blinding(models.TextChoices):
        OPEN = "open", _("Open-label")
        BLINDED = "blinded", _("Blinded")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RECRUITING = "recruiting", _("Recruiting")
        CLOSED_TO_ACCRUAL = "closed", _("Closed to accrual")
        COMPLETED = "completed", _("Completed")
        TERMINATED = "terminated", _("Terminated")

    TRANSITIONS = {
        Status.DRAFT: {Status.RECRUITING, Status.TERMINATED},
        Status.RECRUITING: {Status.CLOSED_TO_ACCRUAL, Status.TERMINATED},
        Status.CLOSED_TO_ACCRUAL: {Status.RECRUITING, Status.COMPLETED, Status.TERMINATED},
        Status.COMPLETED: set(),
        Status.TERMINATED: set(),
    }

    class ResponseCriteria(models.TextChoices):
        RECIST11 = "recist11", _("RECIST 1.1")
        IRECIST = "irecist", _("iRECIST")

    protocol_code = models.CharField(
        _("protocol code"),
        max_length=20,
        unique=True,
        validators=[validate_code],
        help_text=_("Short code used in subject identifiers, e.g. CRYO-ICC."),
    )
    title = models.CharField(_("title"), max_length=300)
    title_zh = models.CharField(_("title (Chinese)"), max_length=300, blank=True)
    short_title = models.CharField(_("short title"), max_length=100, blank=True)
    short_title_zh = models.CharField(_("short title (Chinese)"), max_length=100, blank=True)
    nct_id = models.CharField(
        _("ClinicalTrials.gov id"), max_length=11, blank=True, validators=[validate_nct_id]
    )
    chictr_id = models.CharField(
        _("ChiCTR id"), max_length=30, blank=True, validators=[validate_chictr_id]
    )
    phase = models.CharField(_("phase"), max_length=3, choices=Phase.choices)
    design = models.CharField(_("design"), max_length=12, choices=Design.choices)
    blinding = models.CharField(
        _("blinding"), max_length=8, choices=Blinding.choices, default=Blinding.OPEN
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    response_criteria = models.CharField(
        _("response criteria"),
        max_length=10,
        choices=ResponseCriteria.choices,
        default=ResponseCriteria.RECIST11,
    )
    planned_followup_months = models.PositiveSmallIntegerField(
        _("planned follow-up (months)"),
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text=_("Per patient, from enrollment; used to check residence permits."),
    )
    imaging_interval_weeks = models.PositiveSmallIntegerField(
        _("imaging interval (weeks)"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
    )
    confirmation_required = models.BooleanField(
        _("confirm CR/PR"),
        default=True,
        help_text=_("RECIST 1.1: confirm CR/PR by a later assessment (non-randomized trials)."),
    )
    confirmation_min_days = models.PositiveSmallIntegerField(
        _("minimum days to confirmation"),
        default=28,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    min_sd_days = models.PositiveSmallIntegerField(
        _("minimum stable-disease duration (days)"),
        default=42,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    # Statistical analysis plan (domain.analysis_settings): stated on every figure,
    # in data.json, the API and every data cut.
    time_origin = models.CharField(
        _("time origin"),
        max_length=16,
        choices=[
            ("randomization", _("randomization date")),
            ("first_treatment", _("first treatment date")),
        ],
        default="randomization",
        help_text=_("Day 0 of PFS, OS and duration of response."),
    )
    ci_band = models.CharField(
        _("confidence band"),
        max_length=8,
        choices=[("log-log", _("log-log")), ("log", _("log")), ("plain", _("plain"))],
        default="log-log",
        help_text=_("Transform of the Kaplan-Meier pointwise band and median CI."),
    )
    orr_null_rate = models.FloatField(
        _("ORR null rate"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.001), MaxValueValidator(0.999)],
        help_text=_("Protocol's null response rate (e.g. 0.05) for the exact binomial test."),
    )
    orr_sided = models.CharField(
        _("ORR test sidedness"),
        max_length=9,
        choices=[("one-sided", _("one-sided")), ("two-sided", _("two-sided"))],
        default="two-sided",
    )
    landmark_months = models.CharField(
        _("landmark times (months)"),
        max_length=60,
        default="6,12,24",
        help_text=_("Comma-separated months for landmark survival rates, e.g. 6,12,24."),
    )
    analysis_population = models.CharField(
        _("analysis population"),
        max_length=12,
        choices=[
            ("itt", _("intention to treat")),
            ("per_protocol", _("per protocol")),
            ("evaluable", _("evaluable")),
        ],
        default="evaluable",
        help_text=_("Denominator of the response rates."),
    )
    nya_handling = models.CharField(
        _("not-yet-assessable patients"),
        max_length=13,
        choices=[
            ("exclude", _("excluded from the denominator, counted apart")),
            ("include_as_ne", _("counted as not evaluable")),
        ],
        default="exclude",
    )
    nya_days = models.PositiveSmallIntegerField(
        _("not-yet-assessable window (days)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(730)],
        help_text=_("Blank: the imaging interval plus 14 days."),
    )
    randomization_block_sizes = models.CharField(
        _("randomization block sizes"),
        max_length=50,
        default="4,6",
        blank=True,
        help_text=_("Comma-separated; each a multiple of the sum of the arm ratios."),
    )
    stratify_by_ecog = models.BooleanField(_("stratify by ECOG"), default=False)
    randomization_seed = models.CharField(
        _("randomization seed"), max_length=64, default=_new_seed, editable=False
    )
    safety_contacts = models.TextField(
        _("safety contacts"),
        blank=True,
        help_text=_("Email addresses notified of serious adverse events, one per line."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = TrialQuerySet.as_manager()
    history = AuditedHistory(excluded_fields=["randomization_seed"])
    # Allocation parameters stay off the history page (site roles can read trial history):
    # ``access.blinding.TRIAL_SEQUENCE_FIELDS``.

    class Meta:
        ordering = ["protocol_code"]
        verbose_name = _("trial")
        verbose_name_plural = _("trials")

    def __str__(self) -> str:
        return f"{self.protocol_code} – {self.display_short_title}"

    @property
    def display_title(self) -> str:
        """The title in the reader's language (Chinese when given)."""
        return in_reader_language(self.title, self.title_zh)

    @property
    def display_short_title(self) -> str:
        return in_reader_language(self.short_title, self.short_title_zh) or self.display_title

    def clean(self) -> None:
        errors = {}
        if self.design == self.Design.SINGLE_ARM and self.blinding == self.Blinding.BLINDED:
            errors["blinding"] = _("A single-arm trial cannot be blinded.")
        try:
            sizes = self.block_sizes()
        except ValueError:
            errors["randomization_block_sizes"] = _(
                "Enter positive whole numbers separated by commas, e.g. 4,6."
            )
        else:
            if self.design == self.Design.RANDOMIZED and not sizes:
                errors["randomization_block_sizes"] = _(
                    "A randomized trial needs at least one block size."
                )
        if self.blinding == self.Blinding.BLINDED and self.pk and "blinding" not in errors:
            differing = self.arm_specific_interventions()
            if differing:
                errors["blinding"] = blinding_refusal(differing)
        try:
            self.landmark_list()
        except ValueError:
            errors["landmark_months"] = _("Enter positive numbers of months separated by commas.")
        if errors:
            raise ValidationError(errors)

    def arm_specific_interventions(
        self, *, arms_of: dict[int, set[str]] | None = None
    ) -> list[str]:
        """Interventions not given in every arm (they would reveal the arm of a blinded
        trial through the causality rows). ``arms_of`` overrides the stored arms of some
        interventions (a form about to save them)."""
        arms = list(self.arms.values_list("code", flat=True))
        given: dict[str, set[str]] = {}
        for iv in self.interventions.prefetch_related("arms"):
            codes = (arms_of or {}).get(iv.pk)
            given[iv.name] = codes if codes is not None else {a.code for a in iv.arms.all()}
        return arm_specific_interventions(arms, given)

    def landmark_list(self) -> list[float]:
        raw = [p.strip() for p in (self.landmark_months or "").split(",") if p.strip()]
        values = [float(p) for p in raw]
        if any(not 0 < v <= 240 for v in values):
            raise ValueError("landmark out of range")
        return values

    def block_sizes(self) -> list[int]:
        raw = [p.strip() for p in (self.randomization_block_sizes or "").split(",") if p.strip()]
        sizes = [int(p) for p in raw]
        if any(s <= 0 or s > 100 for s in sizes):
            raise ValueError("block size out of range")
        return sizes

    @property
    def is_blinded(self) -> bool:
        return self.blinding == self.Blinding.BLINDED


def blinding_refusal(names: list[str]) -> str:
    return _(
        "A blinded trial needs every intervention in every arm, otherwise the causality "
        "assessments of an adverse event reveal the arm. Given in some arms only: "
        "%(names)s. Record a blinded comparison as one intervention given in all arms "
        "(e.g. “study drug or placebo”)."
    ) % {"names": ", ".join(names)}


class Arm(models.Model):
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="arms")
    code = models.CharField(_("code"), max_length=20, validators=[validate_code])
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    allocation_ratio = models.PositiveSmallIntegerField(
        _("allocation ratio"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    is_control = models.BooleanField(_("control arm"), default=False)

    objects = ScopedQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["trial", "code"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "code"], name="arm_code_unique_per_trial")
        ]
        verbose_name = _("arm")
        verbose_name_plural = _("arms")

    def __str__(self) -> str:
        return f"{self.code}: {self.display_name}"

    @property
    def display_name(self) -> str:
        return in_reader_language(self.name, self.name_zh)


class Intervention(models.Model):
    class Kind(models.TextChoices):
        PROCEDURE = "procedure", _("Procedure")
        DRUG = "drug", _("Drug")
        BIOLOGICAL = "biological", _("Biological")

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="interventions")
    arms = models.ManyToManyField(Arm, related_name="interventions", verbose_name=_("arms"))
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    dose = models.CharField(_("dose"), max_length=200, blank=True)
    dose_zh = models.CharField(_("dose (Chinese)"), max_length=200, blank=True)
    route = models.CharField(_("route"), max_length=100, blank=True)
    route_zh = models.CharField(_("route (Chinese)"), max_length=100, blank=True)
    schedule = models.CharField(_("schedule"), max_length=200, blank=True)
    schedule_zh = models.CharField(_("schedule (Chinese)"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)

    objects = ScopedQuerySet.as_manager()
    history = AuditedHistory(m2m_fields=[arms])

    class Meta:
        ordering = ["trial", "name"]
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return in_reader_language(self.name, self.name_zh)

    @property
    def display_dose(self) -> str:
        return in_reader_language(self.dose, self.dose_zh)

    @property
    def display_route(self) -> str:
        return in_reader_language(self.route, self.route_zh)

    @property
    def display_schedule(self) -> str:
        return in_reader_language(self.schedule, self.schedule_zh)


class ProtocolVersion(models.Model):
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="protocol_versions")
    version = models.CharField(_("version"), max_length=20)
    effective_date = models.DateField(_("effective date"))
    ethics_approval_ref = models.CharField(
        _("ethics approval reference"), max_length=100, blank=True
    )
    summary = models.TextField(_("summary of changes"), blank=True)

    objects = ScopedQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["trial", "-effective_date"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "version"], name="protocol_version_unique")
        ]
        verbose_name = _("protocol version")
        verbose_name_plural = _("protocol versions")

    def __str__(self) -> str:
        return f"{self.trial.protocol_code} v{self.version}"


class EligibilityCriterion(models.Model):
    """An inclusion or exclusion criterion: text for people, a rule for the evaluator.

    The rule is declarative JSON interpreted by ``domain.eligibility`` (never
    ``eval``); it is validated against the field catalogue when saved in the admin.
    """

    class Kind(models.TextChoices):
        INCLUSION = "inclusion", _("Inclusion")
        EXCLUSION = "exclusion", _("Exclusion")

    class AppliesTo(models.TextChoices):
        ALL = "all", _("All patients")
        EXPATRIATE = "expatriate", _("Expatriate patients")

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="criteria")
    protocol_version = models.ForeignKey(
        ProtocolVersion,
        on_delete=models.PROTECT,
        related_name="criteria",
        verbose_name=_("protocol version"),
    )
    code = models.CharField(_("code"), max_length=40)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    applies_to = models.CharField(
        _("applies to"), max_length=10, choices=AppliesTo.choices, default=AppliesTo.ALL
    )
    text = models.TextField(_("text"), max_length=1000)
    text_zh = models.TextField(_("text (Chinese)"), max_length=1000, blank=True)
    rule = models.JSONField(_("rule"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = ScopedQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["trial", "protocol_version", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol_version", "code"], name="criterion_code_unique_per_version"
            )
        ]
        verbose_name = _("eligibility criterion")
        verbose_name_plural = _("eligibility criteria")

    def __str__(self) -> str:
        return f"{self.code}: {self.text[:60]}"

    def clean(self) -> None:
        from domain.eligibility import FIELD_CATALOGUE, validate_rule

        problems = validate_rule(self.rule, FIELD_CATALOGUE)
        if problems:
            raise ValidationError({"rule": problems})
        if (
            self.protocol_version_id
            and self.trial_id
            and self.protocol_version.trial_id != self.trial_id
        ):
            raise ValidationError({"protocol_version": _("This version belongs to another trial.")})


class ConsentVersion(models.Model):
    """An ethics-approved informed-consent document in one language."""

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="consent_versions")
    version = models.CharField(_("version"), max_length=20)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices)
    ethics_approval_ref = models.CharField(_("ethics approval reference"), max_length=100)
    approved_on = models.DateField(_("approved on"))
    effective_from = models.DateField(_("effective from"))
    superseded_on = models.DateField(_("superseded on"), null=True, blank=True)
    requires_reconsent = models.BooleanField(
        _("patients on older versions must re-consent"), default=True
    )

    objects = ScopedQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["trial", "language", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "version", "language"], name="consent_version_unique"
            )
        ]
        verbose_name = _("consent version")
        verbose_name_plural = _("consent versions")

    def __str__(self) -> str:
        return f"{self.trial.protocol_code} ICF v{self.version} ({self.get_language_display()})"

    def clean(self) -> None:
        if self.approved_on and self.effective_from and self.effective_from < self.approved_on:
            raise ValidationError(
                {"effective_from": _("A consent version cannot take effect before its approval.")}
            )
        if self.superseded_on and self.effective_from and self.superseded_on < self.effective_from:
            raise ValidationError(
                {"superseded_on": _("Cannot be superseded before it takes effect.")}
            )


class VisitForm(models.TextChoices):
    """Forms a visit of the protocol can require (``VisitDefinition.required_forms``)."""

    LABS = "labs", _("Laboratory results")
    VITALS = "vitals", _("Vital signs")
    DOSING = "dosing", _("Dosing / exposure")
    PROCEDURE = "procedure", _("Procedure")
    IMAGING = "imaging", _("Imaging (tumour assessment)")
    AE_REVIEW = "ae_review", _("Adverse-event review")
    CONMEDS = "conmeds", _("Concomitant medications")


def validate_visit_forms(value: object) -> None:
    if not isinstance(value, list) or any(v not in VisitForm.values for v in value):
        raise ValidationError(
            _("Choose among: %(forms)s.") % {"forms": ", ".join(VisitForm.values)}
        )


class VisitDefinition(models.Model):
    """A visit of the protocol schedule, placed relative to enrollment or first treatment."""

    class Anchor(models.TextChoices):
        ENROLLMENT = "enrollment", _("Enrollment")
        FIRST_TREATMENT = "first_treatment", _("First treatment")

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="visit_definitions")
    code = models.CharField(_("code"), max_length=20, validators=[validate_code])
    name = models.CharField(_("name"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    anchor = models.CharField(
        _("counted from"), max_length=16, choices=Anchor.choices, default=Anchor.ENROLLMENT
    )
    day_offset = models.SmallIntegerField(
        _("day"),
        validators=[MinValueValidator(-60), MaxValueValidator(3650)],
        help_text=_("Days after the anchor (0 = the anchor day)."),
    )
    window_before = models.PositiveSmallIntegerField(
        _("window before (days)"), default=3, validators=[MaxValueValidator(60)]
    )
    window_after = models.PositiveSmallIntegerField(
        _("window after (days)"), default=3, validators=[MaxValueValidator(60)]
    )
    tumor_assessment = models.BooleanField(_("tumor assessment"), default=False)
    labs = models.BooleanField(_("laboratory tests"), default=True)
    ae_review = models.BooleanField(_("adverse-event review"), default=True)
    required_forms = models.JSONField(
        _("required forms"),
        default=list,
        blank=True,
        validators=[validate_visit_forms],
        help_text=_("Forms that must be entered before the visit is complete."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = ScopedQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["trial", "order", "day_offset"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "code"], name="visit_definition_code_unique")
        ]
        verbose_name = _("visit definition")
        verbose_name_plural = _("visit definitions")

    def __str__(self) -> str:
        return f"{self.code} – {self.display_name}"

    @property
    def display_name(self) -> str:
        return in_reader_language(self.name, self.name_zh)


from .consent_documents import ConsentDocument  # noqa: E402 - registered with this app

__all__ = [
    "Arm",
    "ConsentDocument",
    "ConsentVersion",
    "EligibilityCriterion",
    "Intervention",
    "ProtocolVersion",
    "Trial",
    "VisitDefinition",
]
