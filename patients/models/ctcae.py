from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from sites.scoping import Scope, ScopedQuerySet


class CtcaeTermQuerySet(ScopedQuerySet):
    """A public terminology: every signed-in user may read it."""

    def scope_q(self, scope: Scope) -> models.Q:
        return models.Q()


class CtcaeTerm(models.Model):
    """A CTCAE term with its MedDRA lowest-level-term code, system organ class and grade
    definitions, as NCI publishes them (CTCAE v5.0, MedDRA 20.1).

    Loaded from ``patients/data/ctcae_v5_terms.json`` by migration and replaceable by the
    full NCI list with ``manage.py load_ctcae_terms <CTCAE_v5.0 csv>``.
    """

    meddra_code = models.CharField(_("MedDRA code"), max_length=10, unique=True)
    term = models.CharField(_("CTCAE term"), max_length=200)
    term_zh = models.CharField(_("CTCAE term (Chinese)"), max_length=200, blank=True)
    soc = models.CharField(_("system organ class"), max_length=200)
    soc_zh = models.CharField(_("system organ class (Chinese)"), max_length=200, blank=True)
    grades = models.JSONField(
        _("grade definitions"), default=dict, blank=True, help_text=_('{"1": "...", ...}')
    )
    definition = models.TextField(_("definition"), blank=True)
    version = models.CharField(_("CTCAE version"), max_length=10, default="5.0")
    active = models.BooleanField(_("active"), default=True)

    objects = CtcaeTermQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["soc", "term"]
        verbose_name = _("CTCAE term")
        verbose_name_plural = _("CTCAE terms")

    def __str__(self) -> str:
        return f"{self.term} ({self.meddra_code})"
