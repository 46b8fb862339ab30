"""``/api/v1/registry/data-requests/``: governed row-level extracts. Submit a request,
the data steward of each center decides (``…/{id}/decide/``), follow the extract
(``…/{id}/extract/``) and download it (``…/{id}/download/``, the requester only, until
it expires)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from api.base import ScopedViewSetMixin

from .. import extracts as svc
from ..models import DataRequest, DataRequestApproval, Extract, ExtractFormat


class ApprovalSerializer(serializers.ModelSerializer):
    center = serializers.CharField(source="site.code", read_only=True)

    class Meta:
        model = DataRequestApproval
        fields = ["center", "decision", "steward_username", "note", "decided_at"]
        read_only_fields = fields


class ExtractSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Extract
        fields = [
            "status",
            "progress",
            "step",
            "patients",
            "persons",
            "excluded_no_consent",
            "genomics_withheld",
            "file_size",
            "sha256",
            "started_at",
            "finished_at",
            "expires_at",
            "error",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, extract: Extract) -> str | None:
        if not extract.is_downloadable:
            return None
        path = f"/api/v1/registry/data-requests/{extract.request_id}/download/"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class DataRequestSerializer(serializers.ModelSerializer):
    centers = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    approvals = ApprovalSerializer(many=True, read_only=True)
    extract = serializers.SerializerMethodField()

    class Meta:
        model = DataRequest
        fields = [
            "id",
            "title",
            "purpose",
            "cohort",
            "cohort_version",
            "criteria",
            "ethics_committee",
            "ethics_approval_number",
            "ethics_approval_date",
            "include_genomics",
            "hgr_approval_number",
            "recontact",
            "formats",
            "centers",
            "status",
            "requested_by_username",
            "created_at",
            "decided_at",
            "approvals",
            "extract",
        ]
        read_only_fields = fields

    @extend_schema_field(ExtractSerializer(allow_null=True))
    def get_extract(self, obj: DataRequest) -> dict[str, Any] | None:
        extract = getattr(obj, "extract", None)
        if extract is None:
            return None
        return ExtractSerializer(extract, context=self.context).data


class DataRequestCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    purpose = serializers.CharField()
    cohort = serializers.PrimaryKeyRelatedField(queryset=svc.requestable_cohorts(None))
    ethics_committee = serializers.CharField(max_length=200)
    ethics_approval_number = serializers.CharField(max_length=100)
    ethics_approval_date = serializers.DateField()
    centers = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=svc.request_centers()
    )
    formats = serializers.ListField(
        child=serializers.ChoiceField(choices=ExtractFormat.choices), required=False
    )
    include_genomics = serializers.BooleanField(required=False, default=False)
    hgr_approval_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    recontact = serializers.BooleanField(required=False, default=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["cohort"].queryset = svc.requestable_cohorts(getattr(request, "user", None))


class DecisionSerializer(serializers.Serializer):
    center = serializers.CharField(max_length=20, help_text="The center code you decide for.")
    decision = serializers.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    note = serializers.CharField(required=False, allow_blank=True, default="")


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class DataRequestViewSet(
    ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Data requests: yours, and for a center's data steward those concerning the center.
    Row-level registry data leave only this way: approved by every center concerned,
    pseudonymised, filtered by consent tier, frozen, downloadable for a limited time."""

    queryset = DataRequest.objects.all()
    serializer_class = DataRequestSerializer
    filterset_fields = ["status"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "head", "options"]

    def optimize(self, qs: Any) -> Any:
        return qs.select_related("extract").prefetch_related("centers", "approvals__site")

    def _detail(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=pk)
        return Response(
            DataRequestSerializer(fresh, context={"request": self.request}).data, status=code
        )

    @extend_schema(request=DataRequestCreateSerializer, responses={201: DataRequestSerializer})
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        if not svc.may_request(request.user):
            raise PermissionDenied
        data = DataRequestCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        created = svc.request_submit(
            acting_user=request.user, request=request, **data.validated_data
        )
        return self._detail(created.pk, status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses={200: DataRequestSerializer})
    @action(detail=True, methods=["post"], serializer_class=DecisionSerializer)
    def decide(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        """The data steward's decision for one center (a rejection needs a ``note``)."""
        data_request = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        approval = (
            data_request.approvals.select_related("site")
            .filter(site__code=data.validated_data["center"])
            .first()
        )
        if approval is None:
            return Response(
                {"center": ["This request does not concern this center."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        svc.request_decide(
            acting_user=request.user,
            data_request=data_request,
            site=approval.site,
            approve=data.validated_data["decision"] == "approve",
            note=data.validated_data["note"],
        )
        return self._detail(data_request.pk)

    @extend_schema(request=WithdrawSerializer, responses={200: DataRequestSerializer})
    @action(detail=True, methods=["post"], serializer_class=WithdrawSerializer)
    def withdraw(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        data_request = self.get_object()
        data = WithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        svc.request_withdraw(
            acting_user=request.user,
            data_request=data_request,
            reason=data.validated_data["reason"],
        )
        return self._detail(data_request.pk)

    @extend_schema(
        request=None,
        responses={
            200: ExtractSerializer,
            404: OpenApiResponse(description="No extract: the request is not approved."),
        },
    )
    @action(detail=True, methods=["get"], serializer_class=ExtractSerializer)
    def extract(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        extract = getattr(self.get_object(), "extract", None)
        if extract is None:
            raise Http404
        return Response(ExtractSerializer(extract, context={"request": request}).data)

    @extend_schema(
        request=None,
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, "The extract."),
            404: OpenApiResponse(description="No extract: the request is not approved."),
            409: OpenApiResponse(description="Not ready yet."),
            410: OpenApiResponse(description="Expired: the file was deleted."),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        extract = getattr(self.get_object(), "extract", None)
        if extract is None:
            raise Http404
        try:
            handle = svc.extract_download(
                extract=extract, user=request.user, request=request, log=request.method == "GET"
            )
        except svc.ExtractUnavailable as exc:
            return Response(
                {"detail": exc.message_dict["status"][0]},
                status=status.HTTP_410_GONE if exc.gone else status.HTTP_409_CONFLICT,
            )
        return FileResponse(
            handle,
            as_attachment=True,
            filename=extract.filename,
            content_type="application/zip",
        )


ROUTES = [("registry/data-requests", DataRequestViewSet, "registry-data-request")]
