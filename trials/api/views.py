from __future__ import annotations

from typing import Any

from rest_framework import viewsets

from access import blinding
from api.base import ScopedViewSetMixin
from api.filters import ApiFilterSet, IdMultipleChoiceFilter

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


class InterventionFilter(ApiFilterSet):
    arms = IdMultipleChoiceFilter(method="filter_arms", label="Arm ids")

    class Meta:
        model = Intervention
        fields = ["trial", "kind", "arms"]

    def filter_arms(self, qs: Any, name: str, value: Any) -> Any:
        # Which interventions an arm gets would reveal the allocation of a blinded trial.
        if not value:
            return qs
        hidden = blinding.trials_with_hidden_arms(self.request.user)
        return qs.filter(arms__in=value).exclude(trial__in=hidden).distinct()


class InterventionViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Intervention.objects.all()
    serializer_class = serializers.InterventionSerializer
    filterset_class = InterventionFilter
    ordering = ["trial", "name"]

    def optimize(self, qs):  # noqa: ANN001, ANN201
        return qs.select_related("trial").prefetch_related("arms")


class ProtocolVersionViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ProtocolVersion.objects.all()
    serializer_class = serializers.ProtocolVersionSerializer
    filterset_fields = ["trial"]
    ordering = ["trial", "-effective_date"]
