from __future__ import annotations

from django.conf import settings
from django.core.validators import EmailValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from encrypted_fields.fields import EncryptedCharField

from audit.history import AuditedHistory
from sites.scoping import ScopedQuerySet
from trials.choices import Language

from ..identity import DocumentType


class PatientQuerySet(ScopedQuerySet):
    scope_trial_field = "trial_site__trial"
    scope_trial_site_field = "trial_site"


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    class Status(models.TextChoices):
        SCREENING = "screening", _("Screening")
        ELIGIBLE = "eligible", _("Eligible")
        SCREEN_FAILED = "screen_failed", _("Screen failed")
        CONSENTED = "consented", _("Consented")
        ON_STUDY = "on_study", _("On study")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        LOST = "lost", _("Lost to follow-up")
        DIED = "died", _("Died")

    TRANSITIONS = {
        Status.SCREENING: {Status.ELIGIBLE, Status.SCREEN_FAILED, Status.WITHDRAWN},
        Status.SCREEN_FAILED: {Status.SCREENING},
        Status.ELIGIBLE: {Status.CONSENTED, Status.SCREENING, Status.WITHDRAWN},
        Status.CONSENTED: {Status.ON_STUDY, Status.SCREENING, Status.WITHDRAWN},
        Status.ON_STUDY: {Status.COMPLETED, Status.WITHDRAWN, Status.LOST, Status.DIED},
        Status.LOST: {Status.ON_STUDY, Status.DIED},
        Status.COMPLETED: {Status.DIED},
        Status.WITHDRAWN: set(),
        Status.DIED: set(),
    }

    class Coverage(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        UNKNOWN = "unknown", _("Not known")

    trial_site = models.ForeignKey(
        "trial_sites.TrialSite",
        on_delete=models.PROTECT,
        related_name="patients",
        verbose_name=_("trial site"),
    )
    subject_seq = models.PositiveIntegerField(_("sequence at site"), editable=False)
    subject_id = models.CharField(_("subject id"), max_length=50, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=14, choices=Status.choices, default=Status.SCREENING
    )

    # Identity: encrypted at rest (django-fernet-encrypted-fields).
    full_name = EncryptedCharField(_("full name"), max_length=200)
    phone = EncryptedCharField(
        _("phone"),
        max_length=40,
        blank=True,
        null=True,
        validators=[
            RegexValidator(
                r"^\+?[0-9 ()\-]{5,40}\Z",
                _("Enter a phone number: digits, spaces, +, - and brackets."),
            )
        ],
    )
    email = EncryptedCharField(
        _("email"), max_length=254, blank=True, null=True, validators=[EmailValidator()]
    )
    id_document_type = models.CharField(
        _("identity document"), max_length=20, choices=DocumentType.choices
    )
    id_document_number = EncryptedCharField(_("document number"), max_length=40)
    id_document_hash = models.CharField(max_length=64, db_index=True, editable=False)

    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"))
    nationality = CountryField(_("nationality"))
    is_expatriate = models.BooleanField(
        _("expatriate patient"),
        default=False,
        help_text=_("A foreign national living in China."),
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=Language.choices, default=Language.ZH
    )
    interpreter_needed = models.BooleanField(_("interpreter needed"), default=False)
    residence_permit_expiry = models.DateField(_("residence permit expiry"), null=True, blank=True)
    insurance_provider = models.CharField(_("insurance provider"), max_length=200, blank=True)
    insurance_covers_trial = models.CharField(
        _("own insurance covers trial treatment"),
        max_length=8,
        choices=Coverage.choices,
        default=Coverage.UNKNOWN,
    )
    trial_injury_insurance = models.BooleanField(
        _("covered by the trial-injury insurance"), default=False
    )

    death_date = models.DateField(_("date of death"), null=True, blank=True)
    last_known_alive_date = models.DateField(_("last known alive"), null=True, blank=True)

    registered_at = models.DateTimeField(_("registered"), auto_now_add=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    registered_by_username = models.CharField(max_length=150, blank=True, editable=False)

    objects = PatientQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["subject_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial_site", "subject_seq"], name="patient_seq_unique_per_site"
            ),
            # One person, one record per trial-site (registration checks this under the
            # trial-site lock; this makes it true whatever the code path).
            models.UniqueConstraint(
                fields=["trial_site", "id_document_hash"],
                condition=~models.Q(id_document_hash=""),
                name="patient_document_unique_per_site",
            ),
        ]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")

    IDENTITY_FIELDS = ("full_name", "phone", "email", "id_document_number")
    HISTORY_HIDDEN_FIELDS = ("id_document_hash",)

    def __str__(self) -> str:
        return self.subject_id

    def identity_visible_to(self, user: object) -> bool:
        from sites.roles import Perm
        from sites.scoping import has_perm

        return has_perm(user, Perm.VIEW_IDENTITY, trial_site=self.trial_site)

    @property
    def age_years(self) -> int | None:
        from django.utils import timezone

        if not self.birth_date:
            return None
        today = timezone.localdate()
        years = today.year - self.birth_date.year
        return years - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))
