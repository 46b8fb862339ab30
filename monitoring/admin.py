"""Admin: edit checks and monitoring plans are configured here (data manager); queries,
verifications, signatures and locks are read-only (their services write them)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from sites.admin_base import ReasonForChangeForm, ScopedAdmin

from .models import DataQuery, EditCheck, Lock, MonitoringPlan, Signature, SourceVerification
from .services.checks import rule_problems
from .targets import labels


class EditCheckForm(ReasonForChangeForm):
    class Meta:
        model = EditCheck
        fields = [
            "trial",
            "code",
            "target",
            "field_name",
            "rule",
            "message",
            "message_zh",
            "active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = [ContentType.objects.get_by_natural_key(*label.split(".")).pk for label in labels()]
        self.fields["target"].queryset = ContentType.objects.filter(pk__in=ids)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        target, rule = data.get("target"), data.get("rule")
        if target is not None and rule is not None:
            label = f"{target.app_label}.{target.model}"
            for problem in rule_problems(rule=rule, label=label):
                self.add_error("rule", problem)
            field_name = data.get("field_name")
            model = target.model_class()
            if field_name and model is not None:
                names = {f.attname for f in model._meta.concrete_fields}
                if field_name not in names:
                    self.add_error("field_name", _("Not a field of this form."))
        return data


@admin.register(EditCheck)
class EditCheckAdmin(ScopedAdmin):
    form = EditCheckForm
    list_display = ("code", "trial", "target", "field_name", "active")
    list_filter = ("trial", "active")
    search_fields = ("code", "message")


class PlanForm(ReasonForChangeForm):
    class Meta:
        model = MonitoringPlan
        fields = ["trial", "full_sdv_forms", "sample_percent", "allow_signing_with_open_queries"]

    def clean_full_sdv_forms(self) -> list[str]:
        value = self.cleaned_data.get("full_sdv_forms") or []
        if not isinstance(value, list) or any(v not in labels() for v in value):
            raise forms.ValidationError(
                _("A list of monitored forms: %(forms)s") % {"forms": ", ".join(labels())}
            )
        return value

    def clean_sample_percent(self) -> int:
        value = self.cleaned_data["sample_percent"]
        if value > 100:
            raise forms.ValidationError(_("At most 100."))
        return value


@admin.register(MonitoringPlan)
class MonitoringPlanAdmin(ScopedAdmin):
    form = PlanForm
    list_display = ("trial", "sample_percent", "allow_signing_with_open_queries")


class ReadOnlyAdmin(ScopedAdmin):
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


@admin.register(DataQuery)
class DataQueryAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "trial_site", "field_name", "status", "origin", "raised_at")
    list_filter = ("status", "origin", "trial")
    search_fields = ("record_label", "text")


@admin.register(SourceVerification)
class SourceVerificationAdmin(ReadOnlyAdmin):
    list_display = ("record_label", "status", "verified_by_username", "verified_at")
    list_filter = ("status", "trial")


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("record_label", "printed_name", "meaning", "signed_at", "status")
    list_filter = ("status", "level", "trial")


@admin.register(Lock)
class LockAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "mode", "locked_by_username", "locked_at", "released_at")
    list_filter = ("level", "mode", "trial")
