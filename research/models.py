"""Saved cohorts (named, shared, versioned criteria) and the log of every cohort query."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from sites.roles import Perm
from sites.scoping import has_perm


class CohortQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> CohortQuerySet:
        """Your own cohorts and the shared ones, for anyone who may query the registry."""
        if not (
            has_perm(user, Perm.VIEW_REGISTRY_AGGREGATES) or has_perm(user, Perm.VIEW_REGISTRY)
        ):
            return self.none()
        return self.filter(Q(owner=user) | Q(is_shared=True))


class Cohort(models.Model):
    """A named criteria tree (``research.criteria``). Each change is a new ``version``; the
    history keeps every earlier version's criteria."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    criteria = models.JSONField(_("criteria"))
    is_shared = models.BooleanField(
        _("shared"), default=False, help_text=_("Other registry researchers may use it.")
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="cohorts",
        verbose_name=_("owner"),
    )
    owner_username = models.CharField(_("owner (username)"), max_length=150, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CohortQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class CohortQueryQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> CohortQueryQuerySet:
        """Data stewards (and data managers) review every query; anyone sees their own."""
        from sites.roles import Role
        from sites.scoping import scope_for

        scope = scope_for(user)
        if scope.everything or any(m.role == Role.CENTER_STEWARD for m in scope.memberships):
            return self.all()
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(user=user)


class CohortQuery(models.Model):
    """One cohort query: who, which criteria, what was returned (as shown, after
    suppression), or that it was refused by the repeat throttle."""

    class Kind(models.TextChoices):
        COUNT = "count", _("Counts")
        CHARACTERISATION = "characterisation", _("Characterisation")
        SURVIVAL = "survival", _("Survival")
        ROWS = "rows", _("Own-center rows")
        FEASIBILITY = "feasibility", _("Trial feasibility")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("username"), max_length=150)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.SET_NULL, related_name="queries"
    )
    cohort_version = models.PositiveIntegerField(_("cohort version"), null=True, blank=True)
    criteria = models.JSONField(_("criteria"))
    criteria_hash = models.CharField(max_length=64, db_index=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    result = models.JSONField(_("returned"), default=dict, blank=True)
    throttled = models.BooleanField(_("refused (repeated query)"), default=False)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    objects = CohortQueryQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "fingerprint", "created_at"])]
        verbose_name = _("cohort query")
        verbose_name_plural = _("cohort queries")

    def __str__(self) -> str:
        return f"{self.username} {self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


class RegistryFacts(models.Model):
    """The flattened search table: one row per registry record with what the
    characterisation and survival read of it (``research.facts``), so that they scan one
    narrow table instead of aggregating tumours, treatments, tests and follow-ups per
    query. Derived data, rebuilt by ``research.facts.facts_refresh`` (no history: the
    registry's own tables keep it: exempted in tests/audit/test_history.py); read only
    while no registry write came after it."""

    patient = models.OneToOneField(
        "registry.RegistryPatient",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # rebuilt wholesale; never blocks a registry write
        related_name="+",
    )
    first_dx = models.DateField(null=True)
    category = models.CharField(max_length=10, blank=True)  # of the earliest tumour
    first_treatment = models.DateField(null=True)
    first_test = models.DateField(null=True)
    last_contact = models.DateField(null=True)
    death = models.DateField(null=True)
    recurrence = models.DateField(null=True)
    progression = models.DateField(null=True)
    # the first three treatments, a repeat of the same kind counted once
    treatment_1 = models.CharField(max_length=14, null=True)  # noqa: DJ001 (NULL = none)
    treatment_2 = models.CharField(max_length=14, null=True)  # noqa: DJ001
    treatment_3 = models.CharField(max_length=14, null=True)  # noqa: DJ001

    def __str__(self) -> str:
        return f"facts of registry record {self.pk}"


class RegistryStage(models.Model):
    """The search table's stages: the recorded value (override, else computed) of the
    latest stage of each tumour and system (by date, then id), when it has one."""

    patient = models.ForeignKey(
        "registry.RegistryPatient",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    system = models.CharField(max_length=12)
    value = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"{self.system} {self.value} of registry record {self.patient_id}"


class RegistryFactsState(models.Model):
    """When the search table was rebuilt and the registry history it was rebuilt from
    (the highest history id of each table it reads): a later history row means a write
    since, and the queries read the live tables until the next refresh."""

    refreshed_at = models.DateTimeField()
    marks = models.JSONField(default=dict)
    seconds = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"search table refreshed {self.refreshed_at:%Y-%m-%d %H:%M}"
