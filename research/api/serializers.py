"""Cohort API serializers: criteria are JSON checked by ``research.criteria.validate``."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..cohorts import criteria_errors
from ..models import Cohort


class CriteriaField(serializers.JSONField):
    """A criteria tree; every problem is reported at once with the path of its field."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        errors = criteria_errors(value)
        if errors:
            raise serializers.ValidationError(errors["criteria"])
        return value


class CohortSerializer(serializers.ModelSerializer):
    criteria = CriteriaField()
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True)

    class Meta:
        model = Cohort
        fields = [
            "id",
            "name",
            "description",
            "criteria",
            "is_shared",
            "version",
            "owner_username",
            "created_at",
            "updated_at",
            "reason",
        ]
        read_only_fields = ["version", "owner_username", "created_at", "updated_at"]


class CriteriaSerializer(serializers.Serializer):
    criteria = CriteriaField()
