from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import PatientChildQuerySet


class AdverseEvent(models.Model):
    """An adverse event graded by CTCAE v5.0; seriousness by ICH E2A (not intensity)."""

    class SeriousCriterion(models.TextChoices):
        DEATH = "death", _("Results in death")
        LIFE_THREATENING = "life_threatening", _("Life-threatening")
        HOSPITALISATION = "hospitalisation", _("Requires or prolongs hospitalisation")
        DISABILITY = "disability", _("Persistent or significant disability")
        CONGENITAL = "congenital", _("Congenital anomaly / birth defect")
        MEDICALLY_IMPORTANT = "medically_important", _("Other medically important event")

    class Outcome(models.TextChoices):
        RECOVERING = "recovering", _("Recovering / resolving")
        RECOVERED = "recovered", _("Recovered / resolved")
        RECOVERED_SEQUELAE = "sequelae", _("Recovered with sequelae")
        NOT_RECOVERED = "not_recovered", _("Not recovered / not resolved")
        FATAL = "fatal", _("Fatal")
        UNKNOWN = "unknown", _("Unknown")

    class Action(models.TextChoices):
        NONE = "none", _("Dose not changed")
        REDUCED = "reduced", _("Dose reduced")
        INTERRUPTED = "interrupted", _("Drug interrupted")
        WITHDRAWN = "withdrawn", _("Drug withdrawn")
        NOT_APPLICABLE = "na", _("Not applicable")

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="adverse_events"
    )
    visit = models.ForeignKey(
        "patients.Visit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adverse_events",
        verbose_name=_("reported at visit"),
    )
    term = models.CharField(_("adverse event term"), max_length=200)
    ctcae_term = models.ForeignKey(
        "patients.CtcaeTerm",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("CTCAE term"),
        help_text=_('Coded term; leave empty only for "Other, specify".'),
    )
    other_specify = models.CharField(
        _("other, specify"), max_length=200, blank=True, help_text=_("Only when no term fits.")
    )
    other_soc = models.CharField(
        _("system organ class of the other term"), max_length=200, blank=True
    )
    grade = models.PositiveSmallIntegerField(
        _("CTCAE grade"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    serious = models.BooleanField(_("serious"), default=False)
    serious_criteria = models.JSONField(_("seriousness criteria"), default=list, blank=True)
    onset_date = models.DateField(_("onset date"))
    resolution_date = models.DateField(_("resolution date"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices)
    action_taken = models.CharField(_("action taken"), max_length=12, choices=Action.choices)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    # Expedited reporting of serious events (rules: domain/safety.py; kept in step
    # by patients/services/sae.py).
    expected = models.BooleanField(
        _("expected"),
        null=True,
        blank=True,
        help_text=_("Expected per the reference safety information; empty until assessed."),
    )
    awareness_at = models.DateTimeField(_("awareness"), null=True, blank=True)
    initial_report_due = models.DateTimeField(_("initial report due"), null=True, blank=True)
    initial_reported_at = models.DateTimeField(_("initial report sent"), null=True, blank=True)
    susar = models.BooleanField(_("SUSAR"), default=False)
    susar_report_due = models.DateTimeField(_("SUSAR report due"), null=True, blank=True)
    susar_reported_at = models.DateTimeField(_("SUSAR report sent"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    objects = PatientChildQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "-onset_date"]
        # the API list's default ordering (newest/oldest first, id breaking ties)
        indexes = [models.Index(fields=["onset_date", "id"], name="adverse_event_list_order")]
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")

    def __str__(self) -> str:
        return f"{self.patient} – {self.term} (G{self.grade})"


class AdverseEventCausalityQuerySet(PatientChildQuerySet):
    scope_trial_field = "adverse_event__patient__trial_site__trial"
    scope_trial_site_field = "adverse_event__patient__trial_site"


class AdverseEventCausality(models.Model):
    """Relatedness of an adverse event to one intervention of the patient's arm."""

    class Relatedness(models.TextChoices):
        NOT_RELATED = "not_related", _("Not related")
        UNLIKELY = "unlikely", _("Unlikely related")
        POSSIBLE = "possible", _("Possibly related")
        PROBABLE = "probable", _("Probably related")
        DEFINITE = "definite", _("Definitely related")

    RELATED = frozenset({Relatedness.POSSIBLE, Relatedness.PROBABLE, Relatedness.DEFINITE})

    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, related_name="causality"
    )
    intervention = models.ForeignKey(
        "trials.Intervention", on_delete=models.PROTECT, related_name="+"
    )
    relatedness = models.CharField(_("relatedness"), max_length=12, choices=Relatedness.choices)

    objects = AdverseEventCausalityQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["adverse_event", "intervention"], name="ae_causality_unique"
            )
        ]
        verbose_name = _("causality assessment")
        verbose_name_plural = _("causality assessments")

    def __str__(self) -> str:
        return f"{self.adverse_event} / {self.intervention}: {self.get_relatedness_display()}"
