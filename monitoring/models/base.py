from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from sites.scoping import ScopedQuerySet


class MonitoringQuerySet(ScopedQuerySet):
    """Monitoring rows carry their trial and trial-site: scoping needs no join."""

    scope_trial_field = "trial"
    scope_trial_site_field = "trial_site"


class TargetedRecord(models.Model):
    """Points at one clinical record (and optionally one of its fields), whatever its model.

    ``trial``, ``trial_site`` and ``patient`` are copied from the record so every list is
    scoped and filtered without touching the record's own table.
    """

    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="+")
    trial_site = models.ForeignKey(
        "trial_sites.TrialSite", on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+", verbose_name=_("patient")
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("form")
    )
    object_id = models.PositiveBigIntegerField(_("record id"))
    record = GenericForeignKey("content_type", "object_id")
    record_label = models.CharField(_("record"), max_length=300, blank=True)

    class Meta:
        abstract = True

    @property
    def display_record_label(self) -> str:
        """The record named in the reader's language: ``record_label`` was written in the
        language of whoever (or whichever job) raised the row; its form name is rebuilt
        now, and the record's own description is kept as it was then."""
        model = ContentType.objects.get_for_id(self.content_type_id).model_class()
        label = self.record_label or ""
        if model is None or " · " not in label:
            return label
        subject = label.split(" · ", 1)[0]
        name = capfirst(str(model._meta.verbose_name))
        marker = f" #{self.object_id} · "
        if marker in label:
            return f"{subject} · {name}{marker}{label.split(marker, 1)[1]}"
        return f"{subject} · {name}"

    @property
    def form_name(self) -> Any:
        model = self.content_type.model_class()
        return model._meta.verbose_name if model else self.content_type.model


def user_fk(related_name: str = "+", verbose_name: Any = None) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name=related_name,
        verbose_name=verbose_name,
    )
