from __future__ import annotations

from django_filters import rest_framework as filters
from rest_framework import viewsets

from api.base import ScopedViewSetMixin
from api.filters import IdMultipleChoiceFilter

from ..models import Arm, Intervention, ProtocolVersion, Trial
from . import serializers


class TrialViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Trials you take part in. Configured by data managers in the admin."""

    queryset = Trial.objects.all()
    serializer_class = serializers.TrialSerializer
    filterset_fields = ["status", "design", "blinding", "phase"]
    ordering_fields = ["protocol_code", "created_at"]
    ordering = ["protocol_code"]


class ArmViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Arm.objects.all()
    serializer_class = serializers.ArmSerializer
    filterset_fields = ["trial"]
    ordering = ["trial", "code"]


class InterventionFilter(filters.FilterSet):
    arms = IdMultipleChoiceFilter(queryset=Arm.objects.all())

    class Meta:
        model = Intervention
        fields = ["trial", "kind", "arms"]


class InterventionViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Intervention.objects.all()
    serializer_class = serializers.InterventionSerializer
    filterset_class = InterventionFilter
    ordering = ["trial", "name"]

    def optimize(self, qs):  # noqa: ANN001, ANN201
        return qs.prefetch_related("arms")


class ProtocolVersionViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ProtocolVersion.objects.all()
    serializer_class = serializers.ProtocolVersionSerializer
    filterset_fields = ["trial"]
    ordering = ["trial", "-effective_date"]
