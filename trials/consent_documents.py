"""The ethics-approved consent document (PDF) of a consent version, in that version's
language, stored with its SHA-256 so a consent record can name exactly what was signed.

Additive to ``ConsentVersion`` (a version is one language already): a version may get a
corrected document later (a new ``document_version``); consents keep the one they signed.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from sites.scoping import ScopedQuerySet


class ConsentDocumentQuerySet(ScopedQuerySet):
    scope_trial_field = "consent_version__trial"


class ConsentDocument(models.Model):
    consent_version = models.ForeignKey(
        "trials.ConsentVersion",
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name=_("consent version"),
    )
    document_version = models.CharField(_("document version"), max_length=40)
    file = models.FileField(_("PDF document"), upload_to="consent-documents/%Y/")
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    ethics_approval_ref = models.CharField(_("ethics approval reference"), max_length=100)
    approved_on = models.DateField(_("approved on"))
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects = ConsentDocumentQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["consent_version", "-approved_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["consent_version", "document_version"],
                name="consent_document_version_unique",
            )
        ]
        verbose_name = _("consent document")
        verbose_name_plural = _("consent documents")

    def __str__(self) -> str:
        return f"{self.consent_version} – {self.document_version}"
