from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from access import blinding
from sites.admin_base import ReasonForChangeForm, ScopedAdmin
from sites.roles import Perm

from . import services
from .models import Consent, Enrollment, Patient, UnblindingEvent


class PatientAdminForm(ReasonForChangeForm):
    class Meta:
        model = Patient
        fields = services.EDITABLE_FIELDS


@admin.register(Patient)
class PatientAdmin(ScopedAdmin):
    """Read-mostly: registration happens in the coordinator's form; corrections go
    through the same service, with a reason."""

    form = PatientAdminForm
    edit_perm = Perm.EDIT_PATIENT
    list_display = ("subject_id", "trial_site", "status", "is_expatriate", "registered_at")
    list_filter = ("status", "is_expatriate", "trial_site__trial")
    search_fields = ("subject_id",)
    readonly_fields = ("subject_id", "status")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [f for f in super().get_fields(request, obj) if f not in Patient.IDENTITY_FIELDS]
        if obj is not None and obj.identity_visible_to(request.user):
            fields = list(super().get_fields(request, obj))
        return fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.patient_update(
            patient=obj,
            acting_user=request.user,
            reason=form.cleaned_data.get("change_reason"),
            confirm_duplicate=True,
            **{f: form.cleaned_data[f] for f in form.changed_data if f in services.EDITABLE_FIELDS},
        )


class ReadOnlyScopedAdmin(ScopedAdmin):
    """Consent, enrollment and unblinding records are written by their services only;
    the admin shows them and never reverts them from history."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> Any:
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyScopedAdmin):
    list_display = ("patient", "consent_version", "language", "consented_at", "withdrawn_on")
    list_filter = ("language", "patient__trial_site__trial")
    search_fields = ("patient__subject_id",)


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyScopedAdmin):
    """The arm of a blinded trial shows only to users allowed to see it; the position in
    the allocation sequence and the block are never shown (they would let a reader
    predict the next allocations)."""

    list_display = ("patient", "trial", "randomization_number", "stratum", "enrolled_on")
    list_filter = ("trial",)
    search_fields = ("patient__subject_id", "randomization_number")
    CONCEALED = blinding.SEQUENCE_FIELDS

    @admin.display(description=_("arm"))
    def arm_blinded(self, obj: Enrollment) -> str:
        return str(_("Blinded"))

    def _arm_field(self, request: HttpRequest, obj: Any) -> str:
        if obj is not None and blinding.arm_visible_to(request.user, obj):
            return "arm"
        return "arm_blinded"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [
            "patient",
            "trial",
            self._arm_field(request, obj),
            "randomization_number",
            "stratum",
            "enrolled_on",
            "first_treatment_date",
            "enrolled_by_username",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("arm", *self.CONCEALED)


@admin.register(UnblindingEvent)
class UnblindingEventAdmin(ReadOnlyScopedAdmin):
    list_display = ("enrollment", "unblinded_by_username", "at")
    fields = ("enrollment", "unblinded_by_username", "reason", "at")
    readonly_fields = fields
