from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from access import blinding
from access.views import get_visible_or_404
from api.base import ApiViewMixin

from ..views import PROJECT_APPS, history_entries


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field's name, e.g. date_of_birth")
    label = serializers.CharField(help_text="The field's label in your language")
    old = serializers.CharField()
    new = serializers.CharField()


class HistoryEntrySerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    date = serializers.DateTimeField(help_text="UTC")
    user = serializers.CharField()
    type = serializers.CharField(help_text="Created, Changed or Deleted")
    reason = serializers.CharField(allow_null=True)
    origin = serializers.CharField(help_text="web, api, admin, shell or task")
    ip = serializers.CharField(allow_null=True)
    request_id = serializers.CharField()
    changes = FieldChangeSerializer(many=True)


class HistoryView(ApiViewMixin, APIView):
    """The audit trail of any record you can see: who, when (UTC), why, and what changed."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "label",
                str,
                OpenApiParameter.PATH,
                description="app_label.model_name, e.g. patients.patient",
            ),
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="The record's id."),
        ],
        responses={200: HistoryEntrySerializer(many=True)},
    )
    def get(self, request: Any, label: str, pk: int) -> Response:
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError) as exc:
            raise Http404 from exc
        if model._meta.app_label not in PROJECT_APPS or not hasattr(model, "history"):
            raise Http404
        if not hasattr(model.objects, "visible_to"):  # e.g. a many-to-many history table
            raise Http404
        obj = get_visible_or_404(model, request.user, pk=pk)
        if not blinding.history_visible(obj, request.user):
            raise Http404
        masked = set()
        if hasattr(obj, "identity_visible_to") and not obj.identity_visible_to(request.user):
            masked = set(getattr(model, "IDENTITY_FIELDS", ()))
        entries = history_entries(
            obj, hidden=blinding.history_hidden_fields(obj, request.user), masked=masked
        )
        return Response(
            [
                {
                    "history_id": e["record"].history_id,
                    "date": e["record"].history_date,
                    "user": e["record"].history_username,
                    "type": e["record"].get_history_type_display(),
                    "reason": e["record"].history_change_reason,
                    "origin": e["record"].history_origin,
                    "ip": e["record"].history_ip,
                    "request_id": e["record"].history_request_id,
                    "changes": e["changes"],
                }
                for e in entries
            ]
        )
