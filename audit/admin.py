from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest

from sites.admin_base import is_admin_user

from .models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ("at", "event", "username", "ip", "object_type", "object_id", "path")
    list_filter = ("event",)
    search_fields = ("username", "object_id", "ip")
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> Any:
        # Scoped like every admin page: a staff coordinator sees their own entries only.
        return super().get_queryset(request).visible_to(request.user)

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> Any:
        raise Http404  # another person's entry: a 404, as everywhere else

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

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin_user(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
