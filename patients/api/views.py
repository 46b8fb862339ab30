from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from api.base import IdempotentCreateMixin, ScopedViewSetMixin

from .. import services
from ..identity import document_hash
from ..models import Patient
from . import serializers
from .records import IdFilter

IDEMPOTENCY_PARAM = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string; a retry with the same key returns the first response "
    "and writes nothing again.",
)
REASON_NOTE = "Editing saved data requires `reason`, which is kept in the record's history."


class PatientFilter(filters.FilterSet):
    document_number = filters.CharFilter(
        method="filter_document", label="Identity document number (exact)"
    )
    registered_after = filters.DateFilter(field_name="registered_at", lookup_expr="date__gte")
    registered_before = filters.DateFilter(field_name="registered_at", lookup_expr="date__lte")
    trial = IdFilter(field_name="trial_site__trial", label="Trial id")

    class Meta:
        model = Patient
        fields = ["trial_site", "status", "is_expatriate", "nationality", "trial"]

    def filter_document(self, qs: Any, name: str, value: str) -> Any:
        return qs.filter(id_document_hash=document_hash("", value))


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

    @extend_schema(exclude=True)
    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)
