"""The admin goes through the same scoping as every other page.

``ScopedAdmin`` restricts querysets with ``visible_to``, answers 404 for another site's
record (Django would redirect with "does not exist", simple-history would fall back to
the historical row), asks for a reason whenever a saved record is changed, and maps
admin permissions onto the project's roles rather than Django model permissions.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from access.views import sealed
from audit.context import audit_context
from audit.transitions import check_transition

from .roles import Perm
from .scoping import has_perm


class ReasonForChangeForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Required when changing a saved record; kept in the audit trail."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            self.instance.pk
            and self.has_changed()
            and not (data.get("change_reason") or "").strip()
        ):
            self.add_error(
                "change_reason", _("A reason for change is required when editing saved data.")
            )
        return data


def is_admin_user(request: HttpRequest) -> bool:
    """Staff accounts may open the admin; what they see there is still scoped."""
    user = request.user
    return bool(user.is_active and user.is_staff)


class StatusTransitionForm(ReasonForChangeForm):
    """Refuses a status change the model's TRANSITIONS table does not allow."""

    def clean_status(self) -> str:
        target = self.cleaned_data["status"]
        if self.instance.pk:
            current = (
                type(self.instance)
                .objects.values_list("status", flat=True)
                .get(pk=self.instance.pk)
            )
            try:
                check_transition(
                    choices=type(self.instance).Status,
                    table=type(self.instance).TRANSITIONS,
                    current=current,
                    target=target,
                )
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["status"]) from exc
        return target


class ScopedAdmin(SimpleHistoryAdmin):
    form = ReasonForChangeForm
    edit_perm: Perm = Perm.CONFIGURE_TRIAL

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        sealed(cls, ScopedAdmin, ("get_queryset",))  # scoping is not a subclass's choice

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).visible_to(request.user)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if "change_reason" in fields:
            fields.remove("change_reason")
        if obj is not None and self.has_change_permission(request, obj):
            fields.append("change_reason")
        return fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin_user(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request) and has_perm(request.user, self.edit_perm)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # audited records are never deleted; statuses close them

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> Any:
        """A service refusing the save (e.g. a lock, ``monitoring.guard.LockedError``)
        is shown as a message on the same page, not a 500."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            from django.contrib import messages
            from django.http import HttpResponseRedirect

            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(request.get_full_path())

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> Any:
        raise Http404

    def _require_visible(self, request: HttpRequest, object_id: str) -> None:
        try:
            visible = self.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, TypeError):
            visible = False
        if not visible:
            raise Http404

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        self._require_visible(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        self._require_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> Any:
        self._require_visible(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        reason = (form.cleaned_data.get("change_reason") or "").strip()
        if change:
            obj._change_reason = reason
        with audit_context(user=request.user, reason=reason or None):
            super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        reason = (form.cleaned_data.get("change_reason") or "").strip()
        with audit_context(user=request.user, reason=reason or None):
            super().save_related(request, form, formsets, change)
