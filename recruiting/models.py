"""Public recruiting data.

Public texts (trial summary, site address and hours, pre-screening questions) are data per
language through django-modeltranslation (``translation.py`` registers the fields and their
history). Identity of a person asking for an appointment is encrypted like a patient's.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import EmailValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from encrypted_fields.fields import EncryptedCharField, EncryptedJSONField

from audit.history import AuditedHistory
from sites.scoping import ScopedQuerySet


class TrialPublicPageQuerySet(ScopedQuerySet):
    scope_trial_field = "trial"

    def published(self) -> TrialPublicPageQuerySet:
        return self.filter(is_published=True, trial__status="recruiting")


class TrialPublicPage(models.Model):
    """What the public reads about a recruiting trial (translated per language)."""

    trial = models.OneToOneField(
        "trials.Trial", on_delete=models.PROTECT, related_name="public_page"
    )
    is_published = models.BooleanField(_("published"), default=False)
    title = models.CharField(_("plain-language title"), max_length=200)
    summary = models.TextField(_("plain-language summary"))
    participation = models.TextField(
        _("what taking part involves"),
        blank=True,
        help_text=_("Visits, imaging, treatments; one item per line."),
    )
    who_can_join = models.TextField(_("who can join"), blank=True)

    objects = TrialPublicPageQuerySet.as_manager()

    class Meta:
        verbose_name = _("public trial page")
        verbose_name_plural = _("public trial pages")

    def __str__(self) -> str:
        return f"{self.trial.protocol_code} (public)"

    def participation_items(self) -> list[str]:
        return [line.strip() for line in (self.participation or "").splitlines() if line.strip()]


class SiteClinicQuerySet(ScopedQuerySet):
    scope_trial_field = "trial_site__trial"
    scope_trial_site_field = "trial_site"


class SiteClinic(models.Model):
    """A trial-site's public clinic: where, when, whom to call, and how many new
    appointment requests it takes per clinic day. Clinic days are the site's
    ``clinic_weekdays``."""

    trial_site = models.OneToOneField(
        "trial_sites.TrialSite", on_delete=models.PROTECT, related_name="clinic"
    )
    accepts_requests = models.BooleanField(_("accepts appointment requests"), default=True)
    city = models.CharField(_("city"), max_length=100)
    address = models.CharField(_("address"), max_length=300)
    clinic_name = models.CharField(_("clinic"), max_length=200, blank=True)
    doctor = models.CharField(_("doctor"), max_length=200, blank=True)
    opens_at = models.TimeField(_("clinic opens"), default=datetime.time(8, 30))
    closes_at = models.TimeField(_("clinic closes"), default=datetime.time(12, 0))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    daily_capacity = models.PositiveSmallIntegerField(
        _("new appointment requests per clinic day"),
        default=4,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    weeks_ahead = models.PositiveSmallIntegerField(
        _("weeks offered ahead"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )

    objects = SiteClinicQuerySet.as_manager()

    class Meta:
        ordering = ["trial_site__site__code"]
        verbose_name = _("site clinic")
        verbose_name_plural = _("site clinics")

    def __str__(self) -> str:
        return f"{self.trial_site} clinic"


class CriterionQuerySet(ScopedQuerySet):
    scope_trial_field = "criterion__trial"


class CriterionPlainText(models.Model):
    """An eligibility criterion in words a patient understands ("the trial is for adults
    aged 18 to 75"), shown as the reason of a pre-screening answer."""

    criterion = models.OneToOneField(
        "trials.EligibilityCriterion", on_delete=models.CASCADE, related_name="plain_text"
    )
    text = models.CharField(_("plain-language text"), max_length=300)

    objects = CriterionQuerySet.as_manager()

    class Meta:
        verbose_name = _("criterion in plain language")
        verbose_name_plural = _("criteria in plain language")

    def __str__(self) -> str:
        return self.text


class PrescreenQuestion(models.Model):
    """A patient-worded question that answers one field of a criterion's rule.

    ``field`` names a raw field of the eligibility engine's catalogue; the answer is put
    into the screening data the engine reads, so the self pre-screening uses the very
    rules the coordinator's screening uses. "I don't know" leaves the field missing.
    """

    class Kind(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no / don't know")
        CHOICE = "choice", _("One of several answers")
        AGE = "age", _("Age in years")
        DATE = "date", _("A date")

    criterion = models.ForeignKey(
        "trials.EligibilityCriterion", on_delete=models.CASCADE, related_name="prescreen_questions"
    )
    field = models.CharField(_("screening field"), max_length=60)
    kind = models.CharField(_("kind of answer"), max_length=8, choices=Kind.choices)
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("explanation"), max_length=300, blank=True)
    expatriate_only = models.BooleanField(_("only for foreign nationals"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = CriterionQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("pre-screening question")
        verbose_name_plural = _("pre-screening questions")

    def __str__(self) -> str:
        return self.text


class OptionQuerySet(ScopedQuerySet):
    scope_trial_field = "question__criterion__trial"


class PrescreenOption(models.Model):
    """An answer of a choice question and the screening values it stands for."""

    question = models.ForeignKey(
        PrescreenQuestion, on_delete=models.CASCADE, related_name="options"
    )
    label = models.CharField(_("answer"), max_length=200)
    values = models.JSONField(
        _("screening values"),
        default=dict,
        blank=True,
        help_text=_('Field values this answer stands for, e.g. {"ecog": 1}; empty = unknown.'),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = OptionQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("pre-screening answer")
        verbose_name_plural = _("pre-screening answers")

    def __str__(self) -> str:
        return self.label


class ReferralQuerySet(ScopedQuerySet):
    scope_trial_field = "trial_site__trial"
    scope_trial_site_field = "trial_site"


class Referral(models.Model):
    """A person's request for an appointment at a site's trial clinic.

    Identity and the pre-screening answers (health data) are encrypted at rest, so their
    historical copies are encrypted too. Requests that never become a patient are
    deleted after ``REFERRAL_RETENTION_DAYS``.
    """

    class Status(models.TextChoices):
        NEW = "new", _("New")
        PROPOSED = "proposed", _("Another day proposed")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        CONVERTED = "converted", _("Registered as patient")

    TRANSITIONS = {
        Status.NEW: {Status.ACCEPTED, Status.PROPOSED, Status.DECLINED},
        Status.PROPOSED: {Status.ACCEPTED, Status.PROPOSED, Status.DECLINED},
        Status.ACCEPTED: {Status.CONVERTED, Status.PROPOSED, Status.DECLINED},
        Status.DECLINED: set(),
        Status.CONVERTED: set(),
    }
    #: Statuses that hold a place on a clinic day.
    HOLDS_PLACE = (Status.NEW, Status.PROPOSED, Status.ACCEPTED)

    trial_site = models.ForeignKey(
        "trial_sites.TrialSite",
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("trial site"),
    )
    reference = models.CharField(_("reference number"), max_length=20, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="new")
    requested_date = models.DateField(_("requested clinic day"))
    appointment_date = models.DateField(
        _("appointment day"),
        help_text=_("The requested day, or the day the site proposed."),
    )
    language = models.CharField(_("preferred language"), max_length=10)
    full_name = EncryptedCharField(_("full name"), max_length=200)
    phone = EncryptedCharField(_("phone"), max_length=40, blank=True, null=True)
    email = EncryptedCharField(
        _("email"), max_length=254, blank=True, null=True, validators=[EmailValidator()]
    )
    nationality = CountryField(_("nationality"))
    interpreter_needed = models.BooleanField(_("interpreter needed"), default=False)
    prescreen_answers = EncryptedJSONField(_("pre-screening answers"), default=dict, blank=True)
    prescreen_result = EncryptedJSONField(_("pre-screening result"), default=dict, blank=True)
    personal_information_consent_at = models.DateTimeField(
        _("consent to processing (PIPL) given at")
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    patient = models.OneToOneField(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referral",
        verbose_name=_("registered patient"),
    )
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ReferralQuerySet.as_manager()
    history = AuditedHistory()

    IDENTITY_FIELDS = ("full_name", "phone", "email", "prescreen_answers", "prescreen_result")

    class Meta:
        ordering = ["appointment_date", "created_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [models.Index(fields=["trial_site", "appointment_date", "status"])]

    def __str__(self) -> str:
        return self.reference

    def identity_visible_to(self, user: object) -> bool:
        from sites.roles import Perm
        from sites.scoping import has_perm

        return has_perm(user, Perm.VIEW_IDENTITY, trial_site=self.trial_site)

    @property
    def is_expatriate(self) -> bool:
        return bool(self.nationality) and self.nationality.code != "CN"


class PrescreenEventQuerySet(ScopedQuerySet):
    scope_trial_field = "trial"


class PrescreenEvent(models.Model):
    """One completed self pre-screening: the trial, the day and the verdict, nothing
    about the person. Append-only (counted in the screening log's conversion figures),
    so it needs no history."""

    trial = models.ForeignKey("trials.Trial", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    verdict = models.CharField(_("answer"), max_length=20)

    objects = PrescreenEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("pre-screening")
        verbose_name_plural = _("pre-screenings")
        indexes = [models.Index(fields=["trial", "day"])]

    def __str__(self) -> str:
        return f"{self.trial_id} {self.day} {self.verdict}"
