"""Trial setup in one flow: the trial's admin page carries its arms, interventions,
protocol versions, visit schedule, consent versions and eligibility criteria as inlines.

A data manager creates a two-arm trial on one page: the trial with its arms, protocol
version, visits and consent versions on the first save; the interventions (which arms
get them) and the criteria (which protocol version they belong to) once those exist —
the page stays open after the first save ("Save and continue editing"). Each row is
saved by the admin's model save, so history records it like any admin change.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from sites.admin_base import is_admin_user
from sites.roles import Perm
from sites.scoping import has_perm

from .admin_criteria import EligibilityCriterionForm
from .models import (
    Arm,
    ConsentVersion,
    EligibilityCriterion,
    Intervention,
    ProtocolVersion,
    VisitDefinition,
)


class SetupInline(admin.TabularInline):
    """Scoped like the trial page: trial configurators edit, nobody deletes (audited
    configuration is closed by its status or superseded, never removed)."""

    extra = 1

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request) and has_perm(request.user, Perm.CONFIGURE_TRIAL)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        self._parent = obj  # the trial being edited (None while it is being created)
        return super().get_formset(request, obj, **kwargs)


class ArmInline(SetupInline):
    model = Arm
    extra = 2  # a two-arm trial by default
    fields = ("code", "name", "name_zh", "allocation_ratio", "is_control")


class ProtocolVersionInline(SetupInline):
    model = ProtocolVersion
    fields = ("version", "effective_date", "ethics_approval_ref")


class VisitDefinitionInline(SetupInline):
    model = VisitDefinition
    extra = 3
    fields = (
        "code",
        "name",
        "name_zh",
        "anchor",
        "day_offset",
        "window_before",
        "window_after",
        "tumor_assessment",
        "order",
    )


class ConsentVersionInline(SetupInline):
    model = ConsentVersion
    fields = (
        "version",
        "language",
        "ethics_approval_ref",
        "approved_on",
        "effective_from",
        "requires_reconsent",
    )


class InterventionInlineForm(forms.ModelForm):
    class Meta:
        model = Intervention
        fields = (
            "kind",
            "name",
            "name_zh",
            "arms",
            "dose",
            "dose_zh",
            "route",
            "route_zh",
            "schedule",
            "schedule_zh",
        )

    def clean(self) -> dict[str, Any]:
        from access import blinding

        from .models import blinding_refusal

        data = super().clean()
        trial = getattr(self.instance, "trial", None) if self.instance.trial_id else None
        arms = data.get("arms")
        if trial is not None and arms is not None and blinding.allocation_concealed(trial):
            every = set(trial.arms.values_list("code", flat=True))
            if {a.code for a in arms} != every:
                self.add_error("arms", blinding_refusal([data.get("name") or "?"]))
        return data


class InterventionInline(SetupInline):
    model = Intervention
    form = InterventionInlineForm
    extra = 2
    fields = (
        "kind",
        "name",
        "name_zh",
        "arms",
        "dose",
        "dose_zh",
        "route",
        "route_zh",
        "schedule",
        "schedule_zh",
    )
    verbose_name_plural = _("interventions (after the arms are saved)")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "arms":
            parent = getattr(self, "_parent", None)
            kwargs["queryset"] = (
                Arm.objects.filter(trial=parent) if parent is not None else Arm.objects.none()
            )
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and super().has_add_permission(request, obj)


class CriterionInlineForm(EligibilityCriterionForm):
    class Meta(EligibilityCriterionForm.Meta):
        exclude = ()
        fields = ("protocol_version", "code", "kind", "applies_to", "text", "text_zh", "rule")


class CriterionInline(admin.StackedInline):
    model = EligibilityCriterion
    form = CriterionInlineForm
    fk_name = "trial"
    extra = 1
    fields = (
        "protocol_version",
        "code",
        "kind",
        "applies_to",
        "text",
        "text_zh",
        "rule",
        "change_reason",
    )
    verbose_name_plural = _("eligibility criteria (after a protocol version is saved)")

    has_view_permission = SetupInline.has_view_permission
    has_change_permission = SetupInline.has_change_permission
    has_delete_permission = SetupInline.has_delete_permission

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        self._parent = obj
        return super().get_formset(request, obj, **kwargs)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and SetupInline.has_change_permission(self, request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "protocol_version":
            parent = getattr(self, "_parent", None)
            kwargs["queryset"] = (
                ProtocolVersion.objects.filter(trial=parent)
                if parent is not None
                else ProtocolVersion.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


SETUP_INLINES = [
    ArmInline,
    ProtocolVersionInline,
    VisitDefinitionInline,
    ConsentVersionInline,
    InterventionInline,
    CriterionInline,
]
