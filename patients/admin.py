from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sites.admin_base import ReasonForChangeForm, ScopedAdmin
from sites.roles import Perm

from . import services
from .models import Patient


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
