from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory

from .base import MonitoringQuerySet


class EditCheckQuerySet(MonitoringQuerySet):
    scope_trial_site_field = None  # trial-level configuration


class EditCheck(models.Model):
    """A data-quality rule, configured per trial in the admin.

    ``rule`` is a rule of the eligibility engine (``domain.eligibility``) over the
    record's fields: it says what must hold. When it is NOT met, a query is raised on
    ``field_name`` of the record; when it is met later, that query closes itself. When
    data it needs is missing, nothing happens.
    """

    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=40)
    target = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("form")
    )
    field_name = models.CharField(_("field the query is raised on"), max_length=100)
    rule = models.JSONField(_("rule (what must hold)"))
    message = models.TextField(_("query text"), max_length=2000)
    message_zh = models.TextField(_("query text (Chinese)"), max_length=2000, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = EditCheckQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["trial", "code"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "code"], name="edit_check_code_per_trial")
        ]
        verbose_name = _("edit check")
        verbose_name_plural = _("edit checks")

    def __str__(self) -> str:
        return f"{self.code}"

    def text(self) -> str:
        lang = (get_language() or "en").lower()
        if lang.startswith("zh") and self.message_zh:
            return self.message_zh
        return self.message
