from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sites.admin_base import is_admin_user

from .models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ("at", "event", "username", "ip", "object_type", "object_id", "path")
    list_filter = ("event",)
    search_fields = ("username", "object_id", "ip")
    date_hierarchy = "at"

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
