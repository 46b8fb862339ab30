"""Saved cohorts (named, shared, versioned criteria) and the log of every cohort query."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.files import ExpiringFileMixin
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
        EXPORT = "export", _("Own-center export")

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


# --- governed row-level extracts (research.extracts) ----------------------------------


class ExtractFormat(models.TextChoices):
    TABLES = "tables", _("Tables (Parquet and CSV)")
    CBIOPORTAL = "cbioportal", _("cBioPortal study")
    OMOP = "omop", _("OMOP CDM 5.4")
    FHIR = "fhir", _("FHIR R4 bundle")


class DataRequestQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> DataRequestQuerySet:
        """Your own requests; a center's data steward also those concerning their center;
        data managers and administrators every one."""
        from sites.scoping import scope_for

        if not getattr(user, "is_authenticated", False):
            return self.none()
        scope = scope_for(user)
        if scope.everything:
            return self.all()
        from sites.roles import Role

        steward_sites = [m.site_id for m in scope.memberships if m.role == Role.CENTER_STEWARD]
        return self.filter(Q(requested_by=user) | Q(centers__in=steward_sites)).distinct()


class DataRequest(models.Model):
    """A researcher's request for pseudonymised row-level data of a cohort, with its
    ethics (and, for genomic data, human genetic resources) approval; decided by the data
    steward of each center concerned. Criteria are frozen at submission."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the centers' decisions")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", pgettext_lazy("data request", "Withdrawn")

    title = models.CharField(_("title"), max_length=200)
    purpose = models.TextField(
        _("purpose"), help_text=_("The research question and why row-level data are needed.")
    )
    ethics_committee = models.CharField(_("ethics committee"), max_length=200)
    ethics_approval_number = models.CharField(_("ethics approval number"), max_length=100)
    ethics_approval_date = models.DateField(_("ethics approval date"))
    include_genomics = models.BooleanField(
        _("include genomic data"),
        default=False,
        help_text=_("Genomic data need the human genetic resources approval number."),
    )
    hgr_approval_number = models.CharField(
        _("human genetic resources approval number"), max_length=100, blank=True
    )
    recontact = models.BooleanField(
        _("for recontact"),
        default=False,
        help_text=_("Only patients who agreed to be recontacted are included."),
    )
    formats = models.JSONField(_("formats"), default=list)
    cohort = models.ForeignKey(
        Cohort, on_delete=models.PROTECT, related_name="data_requests", verbose_name=_("cohort")
    )
    cohort_version = models.PositiveIntegerField(_("cohort version"), editable=False)
    criteria = models.JSONField(_("criteria (frozen)"), editable=False)
    centers = models.ManyToManyField(
        "trial_sites.Site", related_name="data_requests", verbose_name=_("centers")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="data_requests",
        verbose_name=_("requested by"),
    )
    requested_by_username = models.CharField(_("requested by"), max_length=150, editable=False)
    created_at = models.DateTimeField(_("submitted"), auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    objects = DataRequestQuerySet.as_manager()
    history = AuditedHistory(m2m_fields=[centers])

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("data request")
        verbose_name_plural = _("data requests")

    def __str__(self) -> str:
        return f"DR-{self.pk}: {self.title}"

    def format_labels(self) -> list[str]:
        labels = dict(ExtractFormat.choices)
        return [str(labels.get(f, f)) for f in self.formats]


class DataRequestApproval(models.Model):
    """One center's decision on a data request, by that center's data steward."""

    class Decision(models.TextChoices):
        PENDING = "pending", pgettext_lazy("center decision", "Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="approvals")
    site = models.ForeignKey(
        "trial_sites.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("center")
    )
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    steward = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("data steward"),
    )
    steward_username = models.CharField(_("data steward"), max_length=150, blank=True)
    note = models.TextField(_("note"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["site__code"]
        constraints = [
            models.UniqueConstraint(fields=["request", "site"], name="one_decision_per_center")
        ]
        verbose_name = _("center decision")
        verbose_name_plural = _("center decisions")

    def __str__(self) -> str:
        return f"{self.request_id} {self.site_id} {self.decision}"


class Extract(ExpiringFileMixin, models.Model):
    """The frozen extract of an approved request: written once by a background task as a
    ZIP (Parquet + CSV tables and the requested formats, a manifest with every file's
    SHA-256), downloadable by the requester until ``expires_at``, then deleted."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    request = models.OneToOneField(DataRequest, on_delete=models.PROTECT, related_name="extract")
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    step = models.CharField(_("step"), max_length=100, blank=True)
    patients = models.PositiveIntegerField(_("patient records"), default=0)
    persons = models.PositiveIntegerField(_("persons"), default=0)
    excluded_no_consent = models.PositiveIntegerField(
        _("left out (no consent for this use)"), default=0
    )
    genomics_withheld = models.PositiveIntegerField(
        _("genomic data left out (no genomic consent)"), default=0
    )
    file_path = models.CharField(_("file"), max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    manifest = models.JSONField(_("manifest"), default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    started_at = models.DateTimeField(_("started (data cut-off)"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("download until"), null=True, blank=True, db_index=True)

    history = AuditedHistory(excluded_fields=["progress", "step"])

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("research extract")
        verbose_name_plural = _("research extracts")

    def __str__(self) -> str:
        return f"Extract of DR-{self.request_id} ({self.get_status_display()})"


class ExtractDownload(models.Model):
    """Every download of an extract: who, when, from where."""

    extract = models.ForeignKey(Extract, on_delete=models.CASCADE, related_name="downloads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("username"), max_length=150)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    at = models.DateTimeField(_("when"), auto_now_add=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("extract download")
        verbose_name_plural = _("extract downloads")

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"


# --- the research search table (research.facts) ------------------------------------------


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
