from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied

from access import blinding
from sites.admin_base import ReasonForChangeForm, ScopedAdmin, StatusTransitionForm
from sites.roles import Perm
from sites.scoping import has_perm

from .admin_setup import SETUP_INLINES
from .models import (
    Arm,
    ConsentDocument,
    ConsentVersion,
    Intervention,
    ProtocolVersion,
    Trial,
    VisitDefinition,
    blinding_refusal,
)


class TrialForm(StatusTransitionForm):
    class Meta:
        model = Trial
        fields = "__all__"


@admin.register(Trial)
class TrialAdmin(ScopedAdmin):
    form = TrialForm
    list_display = ("protocol_code", "short_title", "phase", "design", "blinding", "status")
    list_filter = ("status", "design", "blinding", "phase")
    search_fields = ("protocol_code", "title", "nct_id", "chictr_id")
    # Setup in one flow: arms, protocol versions, visits, consent versions, then
    # interventions and criteria, on the trial's own page (trials/admin_setup.py).
    inlines = SETUP_INLINES

    # The allocation parameters are for trial configurators only: a site role with
    # admin access must not learn the block sizes (the seed is never in a form at all).
    CONCEALED_FIELDS = blinding.TRIAL_SEQUENCE_FIELDS

    def _sees_allocation_config(self, request: Any) -> bool:
        return has_perm(request.user, Perm.CONFIGURE_TRIAL)

    def get_fields(self, request: Any, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if not self._sees_allocation_config(request):
            fields = [f for f in fields if f not in self.CONCEALED_FIELDS]
        return fields

    def history_view(self, request: Any, object_id: str, extra_context: Any = None) -> Any:
        if not self._sees_allocation_config(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: Any, object_id: str, version_id: str, extra_context: Any = None
    ) -> Any:
        if not self._sees_allocation_config(request):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(Arm)
class ArmAdmin(ScopedAdmin):
    list_display = ("trial", "code", "name", "allocation_ratio", "is_control")
    list_filter = ("trial",)


class InterventionForm(ReasonForChangeForm):
    # A reason-for-change form like every audited admin form: ScopedAdmin asks for
    # ``change_reason`` when a saved intervention is edited (a plain ModelForm 500ed).
    class Meta:
        model = Intervention
        fields = [
            "trial",
            "arms",
            "kind",
            "name",
            "name_zh",
            "dose",
            "route",
            "schedule",
            "description",
        ]

    def clean(self) -> dict[str, Any]:
        """A blinded trial's interventions are given in every arm (see Trial.clean)."""
        data = super().clean()
        trial, arms = data.get("trial"), data.get("arms")
        if trial is not None and arms is not None and blinding.allocation_concealed(trial):
            every = set(trial.arms.values_list("code", flat=True))
            if {a.code for a in arms} != every:
                self.add_error("arms", blinding_refusal([data.get("name") or "?"]))
        return data


@admin.register(Intervention)
class InterventionAdmin(ScopedAdmin):
    form = InterventionForm
    list_display = ("trial", "name", "kind", "dose", "schedule")
    list_filter = ("trial", "kind")
    filter_horizontal = ("arms",)


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(ScopedAdmin):
    list_display = ("trial", "version", "effective_date", "ethics_approval_ref")
    list_filter = ("trial",)


@admin.register(ConsentVersion)
class ConsentVersionAdmin(ScopedAdmin):
    list_display = (
        "trial",
        "version",
        "language",
        "ethics_approval_ref",
        "approved_on",
        "effective_from",
        "superseded_on",
        "requires_reconsent",
    )
    list_filter = ("trial", "language", "requires_reconsent")
    search_fields = ("version", "ethics_approval_ref")


@admin.register(VisitDefinition)
class VisitDefinitionAdmin(ScopedAdmin):
    """The protocol visit schedule: enrollment generates each patient's visits from it."""

    list_display = (
        "trial",
        "code",
        "name",
        "anchor",
        "day_offset",
        "window_before",
        "window_after",
        "tumor_assessment",
        "labs",
        "ae_review",
    )
    list_filter = ("trial", "anchor", "tumor_assessment")
    search_fields = ("code", "name")
    ordering = ("trial", "day_offset", "order", "code")


# Eligibility criteria: their admin (rule edited as validated JSON) lives in its own module.
from . import admin_criteria  # noqa: E402, F401


class ConsentDocumentForm(forms.ModelForm):
    class Meta:
        model = ConsentDocument
        fields = (
            "consent_version",
            "document_version",
            "file",
            "ethics_approval_ref",
            "approved_on",
        )


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(ScopedAdmin):
    """Upload only: a document once approved and signed on is never replaced; a corrected
    one is a new document version."""

    form = ConsentDocumentForm
    list_display = ("consent_version", "document_version", "approved_on", "sha256")
    readonly_fields = ("sha256",)

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        from .services import consent_document_upload

        data = form.cleaned_data
        saved = consent_document_upload(
            consent_version=data["consent_version"],
            file=data["file"],
            document_version=data["document_version"],
            ethics_approval_ref=data["ethics_approval_ref"],
            approved_on=data["approved_on"],
            acting_user=request.user,
        )
        obj.pk = saved.pk
