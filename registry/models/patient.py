from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from encrypted_fields.fields import EncryptedCharField

from audit.history import AuditedHistory
from patients.identity import DocumentType
from sites.roles import Perm
from sites.scoping import has_perm

from .base import Sourced, center_queryset

RegistryPatientQuerySet = center_queryset("site")


class RegistryPatient(Sourced):
    """One patient at one center. The same person at another center is another record
    with the same ``national_pseudonym`` (a keyed hash of the normalised identity
    document), so records link nationally without either center seeing the other's."""

    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    site = models.ForeignKey(
        "trial_sites.Site",
        on_delete=models.PROTECT,
        related_name="registry_patients",
        verbose_name=_("center"),
    )
    record_number = models.CharField(
        _("registry number"), max_length=40, unique=True, editable=False
    )
    full_name = EncryptedCharField(_("full name"), max_length=200)
    id_document_type = models.CharField(
        _("identity document"), max_length=20, choices=DocumentType.choices
    )
    id_document_number = EncryptedCharField(_("document number"), max_length=40)
    national_pseudonym = models.CharField(
        _("national pseudonym"), max_length=24, db_index=True, editable=False
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"))
    nationality = CountryField(_("nationality"), default="CN")
    is_expatriate = models.BooleanField(_("expatriate patient"), default=False)
    residence_region = models.CharField(
        _("residence region"),
        max_length=100,
        blank=True,
        help_text=_("Province or region of residence (for expatriates: in China)."),
    )
    # Risk factors and aetiology: None = not recorded (the completeness check lists them).
    hbv = models.BooleanField(_("hepatitis B"), null=True, blank=True)
    hcv = models.BooleanField(_("hepatitis C"), null=True, blank=True)
    alcohol = models.BooleanField(_("alcohol-related liver disease"), null=True, blank=True)
    masld = models.BooleanField(
        _("MASLD (metabolic dysfunction-associated steatotic liver disease)"),
        null=True,
        blank=True,
    )
    liver_flukes = models.BooleanField(
        _("liver flukes (Clonorchis / Opisthorchis)"), null=True, blank=True
    )
    psc = models.BooleanField(_("primary sclerosing cholangitis"), null=True, blank=True)
    hepatolithiasis = models.BooleanField(_("hepatolithiasis"), null=True, blank=True)
    cirrhosis = models.BooleanField(_("cirrhosis"), null=True, blank=True)
    # Research consent, by tier (None = not recorded, which a governed extract treats as
    # "no"): what an approved extract may hold (research.extracts).
    consent_research = models.BooleanField(
        _("consent: broad research use"),
        null=True,
        blank=True,
        help_text=_("The patient agreed that their pseudonymised data be used for research."),
    )
    consent_genomic = models.BooleanField(
        _("consent: genomic research"),
        null=True,
        blank=True,
        help_text=_("The patient agreed that their genomic data be used for research."),
    )
    consent_recontact = models.BooleanField(
        _("consent: may be recontacted"),
        null=True,
        blank=True,
        help_text=_("The patient agreed to be contacted again about research studies."),
    )
    consent_date = models.DateField(_("consent date"), null=True, blank=True)

    objects = RegistryPatientQuerySet.as_manager()
    history = AuditedHistory()

    IDENTITY_FIELDS = ("full_name", "id_document_number")
    CONSENT_TIERS = ("consent_research", "consent_genomic", "consent_recontact")
    RISK_FACTORS = (
        "hbv",
        "hcv",
        "alcohol",
        "masld",
        "liver_flukes",
        "psc",
        "hepatolithiasis",
        "cirrhosis",
    )

    class Meta:
        ordering = ["record_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "national_pseudonym"], name="registry_patient_once_per_center"
            ),
            models.UniqueConstraint(
                fields=["site", "source_system", "source_id"],
                condition=~models.Q(source_id=""),
                name="registry_patient_source_unique",
            ),
        ]
        verbose_name = _("registry patient")
        verbose_name_plural = _("registry patients")

    def __str__(self) -> str:
        return self.record_number

    def identity_visible_to(self, user: object) -> bool:
        """Names and documents (pages, API, history): center roles of this center only."""
        return has_perm(user, Perm.VIEW_REGISTRY_IDENTITY, site=self.site)
