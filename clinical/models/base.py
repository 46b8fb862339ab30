from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patients.models.base import PatientChildQuerySet
from sites.scoping import Scope, ScopedQuerySet


class ClinicalRecord(models.Model):
    """Common fields of a patient's clinical record: the patient, the visit it was
    collected at (optional: unscheduled data), who entered it and when.

    Plain ``patient`` and ``visit`` foreign keys so that monitoring (queries, SDV,
    signatures) can register every subclass as a target without adapters.
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="clinical_%(class)ss"
    )
    visit = models.ForeignKey(
        "patients.Visit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clinical_%(class)ss",
        verbose_name=_("visit"),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = PatientChildQuerySet.as_manager()

    class Meta:
        abstract = True


class SiteReferenceQuerySet(ScopedQuerySet):
    """Reference data of a hospital (its laboratory's ranges): visible to whoever sees
    the site."""

    def scope_q(self, scope: Scope) -> Q:
        from sites.models import TrialSite

        return Q(
            site__in=TrialSite.objects.filter(
                Q(trial__in=scope.trial_ids) | Q(pk__in=scope.trial_site_ids)
            ).values("site")
        )
