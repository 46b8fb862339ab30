"""``/api/v1/registry/cohorts/``: saved cohorts (yours and the shared ones), their counts
as an aggregate role may see them (suppressed, throttled, logged) and the rows of your own
center."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import ApiViewMixin
from registry.api.serializers import RegistryPatientSerializer
from sites.roles import Perm
from sites.scoping import has_perm

from .. import cohorts as svc
from .. import queries
from ..models import Cohort, CohortQuery, ExtractFormat
from . import serializers as s


class CohortViewSet(
    ApiViewMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Cohorts: named, shared, versioned criteria over every registry domain (no SQL).

    ``POST …/count/`` counts an unsaved criteria tree; ``GET …/{id}/counts/`` a saved
    cohort. Counts are per center with the total of persons (a patient of two centers is
    one person); cells below the threshold are shown as ``< 5`` with secondary
    suppression. Repeated near-identical queries are refused with 429.
    """

    queryset = Cohort.objects.all()
    serializer_class = s.CohortSerializer
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        return Cohort.objects.visible_to(self.request.user).order_by("id")

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not (svc.may_query_aggregates(request.user) or svc.row_centers(request.user)):
            raise PermissionDenied
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        cohort = svc.cohort_create(acting_user=request.user, **data)
        return Response(self.get_serializer(cohort).data, status=status.HTTP_201_CREATED)

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        cohort = self.get_object()
        if cohort.owner_id != request.user.pk:
            raise PermissionDenied
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(cohort, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        cohort = svc.cohort_update(
            cohort=cohort, acting_user=request.user, **dict(serializer.validated_data)
        )
        return Response(self.get_serializer(cohort).data)

    def _counts(self, **kwargs: Any) -> Response:
        try:
            counts = svc.cohort_counts(acting_user=self.request.user, **kwargs)
        except svc.Throttled as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        return Response(counts.as_dict())

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["get"])
    def counts(self, request: Any, pk: Any = None, **kwargs: Any) -> Response:
        return self._counts(cohort=self.get_object())

    @extend_schema(request=None, responses={200: RegistryPatientSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def rows(self, request: Any, pk: Any = None, **kwargs: Any) -> Response:
        """The cohort's records of your own center(s), row by row (center staff only)."""
        cohort = self.get_object()
        if not has_perm(request.user, Perm.VIEW_REGISTRY):
            raise PermissionDenied
        qs = svc.cohort_patients(cohort, request.user).select_related("site").order_by("id")
        svc.log_query(
            user=request.user,
            kind=CohortQuery.Kind.ROWS,
            tree=cohort.criteria,
            cohort=cohort,
            result={"records": qs.count()},
        )
        page = self.paginate_queryset(qs)
        data = RegistryPatientSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter(
                "kind",
                str,
                enum=[c[0] for c in ExtractFormat.choices],
                required=True,
                description="tables (Parquet + CSV), cbioportal, omop or fhir",
            )
        ],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, "The export."),
            400: OpenApiResponse(description="Unknown format."),
        },
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Any, pk: Any = None, **kwargs: Any) -> Any:
        """The cohort's records of your own center(s), pseudonymised, in one format (a ZIP
        with a manifest of SHA-256 checksums; center staff only; logged)."""
        from django.http import HttpResponse

        from .. import extracts

        cohort = self.get_object()
        content, name = extracts.own_center_export(
            cohort=cohort, acting_user=request.user, fmt=request.query_params.get("kind", "")
        )
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["get"])
    def analysis(self, request: Any, pk: Any = None, **kwargs: Any) -> Response:
        """Characterisation and Kaplan-Meier: ``?anchor=diagnosis|treatment|test``,
        ``&endpoint=os|rfs|pfs``, ``&split=<cohort id>`` (inside vs outside it)."""
        cohort = self.get_object()
        if not svc.may_query_aggregates(request.user):
            raise PermissionDenied
        params = queries.AnalysisParams.from_query(request.query_params, user=request.user)
        try:
            result = queries.cohort_analysis(cohort=cohort, params=params, acting_user=request.user)
        except svc.Throttled as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        return Response(result)

    @extend_schema(request=s.CriteriaSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], serializer_class=s.CriteriaSerializer)
    def count(self, request: Any, **kwargs: Any) -> Response:
        if not svc.may_query_aggregates(request.user):
            raise PermissionDenied
        serializer = s.CriteriaSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._counts(criteria=serializer.validated_data["criteria"])


ROUTES = [("registry/cohorts", CohortViewSet, "registry-cohort")]
