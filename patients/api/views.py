from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from api.base import IdempotentCreateMixin, ScopedViewSetMixin
from api.filters import ApiFilterSet, IdFilter

from .. import selectors, services
from ..models import Patient
from . import serializers

IDEMPOTENCY_PARAM = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string; a retry with the same key returns the first response "
    "and writes nothing again.",
)
REASON_NOTE = "Editing saved data requires `reason`, which is kept in the record's history."


class PatientFilter(ApiFilterSet):
    registered_after = filters.DateFilter(field_name="registered_at", lookup_expr="date__gte")
    registered_before = filters.DateFilter(field_name="registered_at", lookup_expr="date__lte")
    trial = IdFilter(field_name="trial_site__trial", label="Trial id")

    class Meta:
        model = Patient
        fields = ["trial_site", "status", "is_expatriate", "nationality", "trial"]


class PatientViewSet(
    ScopedViewSetMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Patients of your sites. POST registers a patient (subject id assigned by the
    server); PATCH corrects registration data with a reason."""

    queryset = Patient.objects.all()
    serializer_class = serializers.PatientSerializer
    filterset_class = PatientFilter
    ordering_fields = ["subject_id", "registered_at"]
    ordering = ["subject_id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def optimize(self, qs: Any) -> Any:
        return qs.select_related("trial_site__site")

    @extend_schema(
        request=serializers.PatientRegisterSerializer,
        responses={201: serializers.PatientSerializer},
        parameters=[IDEMPOTENCY_PARAM],
    )
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        def handler() -> Response:
            data = serializers.PatientRegisterSerializer(
                data=request.data, context={"request": request}
            )
            data.is_valid(raise_exception=True)
            values = dict(data.validated_data)
            patient = services.patient_register(
                trial_site=values.pop("trial_site"),
                acting_user=request.user,
                confirm_duplicate=values.pop("confirm_duplicate"),
                **values,
            )
            return Response(
                serializers.PatientSerializer(patient, context={"request": request}).data,
                status=status.HTTP_201_CREATED,
            )

        return self.idempotent(request, handler)

    @extend_schema(
        request=serializers.PatientUpdateSerializer,
        responses={200: serializers.PatientSerializer},
        description=REASON_NOTE,
    )
    def partial_update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        data = serializers.PatientUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        patient = services.patient_update(
            patient=patient,
            acting_user=request.user,
            reason=values.pop("reason", None),
            confirm_duplicate=values.pop("confirm_duplicate", False),
            **values,
        )
        return Response(serializers.PatientSerializer(patient, context={"request": request}).data)

    @extend_schema(
        request=serializers.DocumentLookupSerializer,
        responses={200: serializers.PatientSerializer(many=True)},
        description="Find patients by identity document number (exact). POST, so the "
        "number never appears in a URL or an access log. Only roles that may see identity "
        "(403 for pseudonymised roles); answers only for the sites where you may.",
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def lookup(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        if not selectors.may_look_up_identity(request.user):
            raise PermissionDenied(_("Your role sees pseudonymised data: search by subject id."))
        data = serializers.DocumentLookupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = selectors.patient_find_by_document(
            user=request.user, document_number=data.validated_data["document_number"]
        )
        return Response(
            serializers.PatientSerializer(found, many=True, context={"request": request}).data
        )

    @extend_schema(exclude=True)
    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)
