from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import EncryptedBlankCharField, PatientChildQuerySet


class Consent(models.Model):
    """Informed consent given by a patient on one ethics-approved consent version.

    Withdrawal ends data collection from its date; what was collected is kept."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consents"
    )
    consent_version = models.ForeignKey(
        "trials.ConsentVersion",
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("consent version"),
    )
    # The document signed (issue 16): the approved PDF of the version and its hash at
    # signing, so a later re-upload can never change what the record says was signed.
    consent_document = models.ForeignKey(
        "trials.ConsentDocument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("document signed"),
    )
    consent_document_sha256 = models.CharField(
        _("SHA-256 of the document signed"), max_length=64, blank=True
    )
    language = models.CharField(_("language of the consent discussion"), max_length=5)
    consented_at = models.DateTimeField(_("consented at"))
    interpreter_used = models.BooleanField(_("qualified interpreter used"), default=False)
    # Names of third persons: identity, encrypted at rest and hidden from pseudonymised
    # roles like the patient's own (IDENTITY_FIELDS).
    interpreter_name = EncryptedBlankCharField(_("interpreter name"), max_length=200, blank=True)
    interpreter_qualification = models.CharField(
        _("interpreter qualification"), max_length=200, blank=True
    )
    witness_name = EncryptedBlankCharField(_("impartial witness name"), max_length=200, blank=True)
    personal_information_consent = models.BooleanField(
        _("separate consent to process sensitive personal information (PIPL)"), default=False
    )
    samples_consent = models.BooleanField(_("consent to biological samples"), default=False)
    obtained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("obtained by"),
    )
    obtained_by_username = models.CharField(max_length=150, blank=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = PatientChildQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["patient", "-consented_at"]
        # the API list's default ordering (newest/oldest first, id breaking ties)
        indexes = [models.Index(fields=["consented_at", "id"], name="consent_list_order")]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    IDENTITY_FIELDS = ("interpreter_name", "witness_name")

    def __str__(self) -> str:
        return f"{self.patient} – {self.consent_version}"

    def identity_visible_to(self, user: object) -> bool:
        return self.patient.identity_visible_to(user)

    @property
    def is_active(self) -> bool:
        return self.withdrawn_on is None
