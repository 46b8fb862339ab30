"""Exports in the API: POST requests an export (202 + status resource), GET polls it,
``download`` streams the file once it is ready."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import IdempotentCreateMixin, ScopedViewSetMixin
from trials.models import Trial

from . import services
from .models import ExportJob

IDEMPOTENCY_PARAM = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string; a retry with the same key returns the first response "
    "and queues no second export.",
)


@extend_schema_field(
    {
        "type": "string",
        "description": "`csv` (CSV bundle) or `odm` (CDISC ODM 1.3.2); both come as a zip",
    }
)
class KindOutField(serializers.CharField):
    """The export's format. Documented as a string: the request's ``kind`` enum is the
    one ``kind`` enum component, so its name does not collide with other models'."""


class ExportJobSerializer(serializers.ModelSerializer):
    """An export and its progress. ``download_url`` is set once the file is ready and
    until it expires."""

    trial_code = serializers.CharField(source="trial.protocol_code", read_only=True)
    kind = KindOutField(read_only=True)
    requested_by = serializers.CharField(source="requested_by_username", read_only=True)
    download_url = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "trial",
            "trial_code",
            "kind",
            "status",
            "progress",
            "rows_done",
            "rows_total",
            "pseudonymised",
            "arm_hidden",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "file_size",
            "sha256",
            "error",
            "status_url",
            "download_url",
        ]
        read_only_fields = fields

    def _url(self, name: str, job: ExportJob) -> str:
        request = self.context.get("request")
        path = f"/api/v1/exports/{job.pk}/" + ("download/" if name == "download" else "")
        return request.build_absolute_uri(path) if request is not None else path

    def get_download_url(self, job: ExportJob) -> str | None:
        return self._url("download", job) if job.is_downloadable else None

    def get_status_url(self, job: ExportJob) -> str:
        return self._url("status", job)


class ExportRequestSerializer(serializers.Serializer):
    trial = serializers.PrimaryKeyRelatedField(queryset=Trial.objects.none())
    kind = serializers.ChoiceField(choices=ExportJob.Kind.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        self.fields["trial"].queryset = Trial.objects.visible_to(user)


class ExportJobViewSet(
    ScopedViewSetMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Data exports (CSV bundle or CDISC ODM 1.3.2). POST queues an export and answers
    202 with its status resource; poll it until ``status`` is ``done`` and follow
    ``download_url``. You see your own exports (data managers see all)."""

    queryset = ExportJob.objects.all()
    serializer_class = ExportJobSerializer
    filterset_fields = ["trial", "kind", "status"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def optimize(self, qs: Any) -> Any:
        return qs.select_related("trial")

    @extend_schema(
        request=ExportRequestSerializer,
        responses={202: ExportJobSerializer},
        parameters=[IDEMPOTENCY_PARAM],
    )
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        def handler() -> Response:
            data = ExportRequestSerializer(data=request.data, context={"request": request})
            data.is_valid(raise_exception=True)
            job = services.export_request(
                trial=data.validated_data["trial"],
                acting_user=request.user,
                kind=data.validated_data["kind"],
                request=request,
            )
            body = ExportJobSerializer(job, context={"request": request}).data
            return Response(
                body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]}
            )

        return self.idempotent(request, handler)

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, "The export file."),
            409: OpenApiResponse(description="Not ready yet."),
            410: OpenApiResponse(description="Expired: the file was deleted."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        job = self.get_object()
        try:
            path = services.export_download(job=job, user=request.user, request=request)
        except services.ExportUnavailable as exc:
            return Response(
                {"detail": exc.message_dict["status"][0]},
                status=status.HTTP_410_GONE if exc.gone else status.HTTP_409_CONFLICT,
            )
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=job.filename,
            content_type="application/zip",
        )
