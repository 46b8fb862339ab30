from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from .admin_base import ReasonForChangeForm, ScopedAdmin, StatusTransitionForm, is_admin_user
from .models import WEEKDAYS, Membership, Site, TrialSite
from .roles import Perm
from .scoping import has_perm


class SiteForm(ReasonForChangeForm):
    clinic_weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=Site._meta.get_field("clinic_weekdays").verbose_name,
    )

    class Meta:
        model = Site
        fields = "__all__"


@admin.register(Site)
class SiteAdmin(ScopedAdmin):
    form = SiteForm
    list_display = ("code", "name", "city", "country", "time_zone")
    search_fields = ("code", "name", "city")


class TrialSiteForm(StatusTransitionForm):
    class Meta:
        model = TrialSite
        fields = "__all__"


@admin.register(TrialSite)
class TrialSiteAdmin(ScopedAdmin):
    form = TrialSiteForm
    list_display = (
        "trial",
        "site",
        "status",
        "activation_date",
        "enrollment_target",
        "enrollment_cap",
    )
    list_filter = ("trial", "status")
    search_fields = ("site__code", "site__name")


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    edit_perm = Perm.MANAGE_STAFF
    list_display = ("user", "role", "trial", "trial_site", "site", "is_active")
    list_filter = ("role", "is_active", "trial", "site")
    search_fields = ("user__username", "user__email")


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(UserAdmin):
    """Accounts are managed by administrators; changes land in the audit trail."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin_user(request) and has_perm(request.user, Perm.MANAGE_STAFF)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    has_change_permission = has_view_permission
    has_add_permission = has_module_permission

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: audit rows keep pointing at the account
