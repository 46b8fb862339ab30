"""Clinical records: list / retrieve (scoped) and create (one service call each).

``POST`` on the collection takes the patient in the body. Roles that may not enter
clinical data anywhere are refused (403) before the input is read; a patient of another
site is not a choice (400 naming ``patient``), never a confirmation that it exists.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from api.base import IdempotentCreateMixin
from api.docs import IDEMPOTENCY_PARAM
from patients.api.workflows import PatientRecordViewSet, validated
from sites.roles import Perm
from sites.scoping import has_perm

from .. import services
from ..models import (
    ConcomitantMedication,
    Exposure,
    LabResult,
    Procedure,
    ProcedureComplication,
    ProcedureLesion,
    VitalSigns,
)
from . import serializers as s


class ClinicalViewSet(IdempotentCreateMixin, PatientRecordViewSet):
    http_method_names = ["get", "post", "head", "options"]
    input_class: Any = None

    def write(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        if not has_perm(request.user, Perm.ENTER_CLINICAL_DATA):
            raise exceptions.PermissionDenied(_("You may not enter clinical data."))

        def handler() -> Response:
            data = validated(self.input_class, request)
            result = self.write(data)
            fresh = self.get_queryset().get(pk=result.pk)
            return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

        return self.idempotent(request, handler)


def _with_user(data: dict[str, Any], request: Any) -> dict[str, Any]:
    return {**data, "acting_user": request.user}


class LabResultViewSet(ClinicalViewSet):
    """Laboratory results with unit conversion, reference range, flag and CTCAE v5.0
    grade. ``POST`` records the values of one collection date (all or none); a grade >= 3
    comes back with ``ae_proposal: proposed``."""

    queryset = LabResult.objects.all()
    serializer_class = s.LabResultSerializer
    filterset_class = s.LabResultFilter
    input_class = s.LabResultsInput
    ordering_fields = ["collected_on", "id"]
    ordering = ["-collected_on", "id"]

    @extend_schema(request=s.LabResultsInput, parameters=[IDEMPOTENCY_PARAM])
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        if not has_perm(request.user, Perm.ENTER_CLINICAL_DATA):
            raise exceptions.PermissionDenied(_("You may not enter clinical data."))

        def handler() -> Response:
            data = validated(self.input_class, request)
            rows = services.lab_results_record(
                patient=data["patient"],
                visit=data.get("visit"),
                collected_on=data["collected_on"],
                values=[dict(v) for v in data["values"]],
                acting_user=request.user,
            )
            fresh = self.optimize(LabResult.objects.filter(pk__in=[r.pk for r in rows]))
            return Response(
                {"results": self.get_serializer(fresh.order_by("pk"), many=True).data},
                status=status.HTTP_201_CREATED,
            )

        return self.idempotent(request, handler)


class VitalSignsViewSet(ClinicalViewSet):
    """Vital signs and weight per visit."""

    queryset = VitalSigns.objects.all()
    serializer_class = s.VitalSignsSerializer
    filterset_class = s.VitalSignsFilter
    input_class = s.VitalSignsInput
    ordering_fields = ["measured_on", "id"]
    ordering = ["-measured_on", "id"]

    @extend_schema(request=s.VitalSignsInput, parameters=[IDEMPOTENCY_PARAM])
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def write(self, data: dict[str, Any]) -> Any:
        return services.vital_signs_record(**_with_user(data, self.request))


class ExposureViewSet(ClinicalViewSet):
    """Treatment exposure records: dosing periods / administrations, dispensing,
    interruptions, discontinuation; weight-based expected dose and mismatch flag."""

    queryset = Exposure.objects.all()
    serializer_class = s.ExposureSerializer
    filterset_class = s.ExposureFilter
    input_class = s.ExposureInput
    ordering_fields = ["start_date", "id"]
    ordering = ["-start_date", "id"]

    @extend_schema(request=s.ExposureInput, parameters=[IDEMPOTENCY_PARAM])
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def write(self, data: dict[str, Any]) -> Any:
        return services.exposure_record(**_with_user(data, self.request))


class ProcedureViewSet(ClinicalViewSet):
    """Procedures (cryoablation, other local therapy) with treated lesions and
    Clavien-Dindo complications; treated lesions become ``ablated_on_study``."""

    queryset = Procedure.objects.all()
    serializer_class = s.ProcedureSerializer
    filterset_class = s.ProcedureFilter
    input_class = s.ProcedureInput
    ordering_fields = ["procedure_date", "id"]
    ordering = ["-procedure_date", "id"]

    def optimize(self, qs: Any) -> Any:
        return qs.select_related("patient__trial_site__site").prefetch_related(
            Prefetch("treated", queryset=ProcedureLesion.objects.order_by("lesion_id")),
            Prefetch("complications", queryset=ProcedureComplication.objects.order_by("pk")),
        )

    @extend_schema(request=s.ProcedureInput, parameters=[IDEMPOTENCY_PARAM])
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def write(self, data: dict[str, Any]) -> Any:
        data = dict(data)
        data["complications"] = [dict(c) for c in data.get("complications") or []]
        return services.procedure_record(**_with_user(data, self.request))


class ConcomitantMedicationViewSet(ClinicalViewSet):
    """Concomitant medications with the protocol's prohibited-medication warning."""

    queryset = ConcomitantMedication.objects.all()
    serializer_class = s.ConcomitantMedicationSerializer
    filterset_class = s.ConmedFilter
    input_class = s.ConmedInput
    ordering_fields = ["start_date", "id"]
    ordering = ["-start_date", "id"]

    @extend_schema(request=s.ConmedInput, parameters=[IDEMPOTENCY_PARAM])
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def write(self, data: dict[str, Any]) -> Any:
        return services.conmed_record(**_with_user(data, self.request))
