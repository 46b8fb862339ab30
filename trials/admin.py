from django.contrib import admin

from sites.admin_base import ScopedAdmin, StatusTransitionForm

from .models import Arm, Intervention, ProtocolVersion, Trial


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


@admin.register(Arm)
class ArmAdmin(ScopedAdmin):
    list_display = ("trial", "code", "name", "allocation_ratio", "is_control")
    list_filter = ("trial",)


@admin.register(Intervention)
class InterventionAdmin(ScopedAdmin):
    list_display = ("trial", "name", "kind", "dose", "schedule")
    list_filter = ("trial", "kind")
    filter_horizontal = ("arms",)


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(ScopedAdmin):
    list_display = ("trial", "version", "effective_date", "ethics_approval_ref")
    list_filter = ("trial",)
