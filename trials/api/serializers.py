from __future__ import annotations

from typing import Any

from rest_framework import serializers

from access import blinding

from ..models import Arm, Intervention, ProtocolVersion, Trial


class ArmSerializer(serializers.ModelSerializer):
    class Meta:
        model = Arm
        fields = ["id", "trial", "code", "name", "description", "allocation_ratio", "is_control"]


class InterventionSerializer(serializers.ModelSerializer):
    """``arms`` is null in a blinded trial for users without the unblinded view: which
    interventions an arm receives would reveal a patient's allocation."""

    class Meta:
        model = Intervention
        fields = ["id", "trial", "arms", "kind", "name", "dose", "route", "schedule", "description"]

    def to_representation(self, instance: Intervention) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not blinding.arms_visible(request.user, instance.trial):
            data["arms"] = None
        return data


class ProtocolVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProtocolVersion
        fields = ["id", "trial", "version", "effective_date", "ethics_approval_ref", "summary"]


class TrialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Trial
        fields = [
            "id",
            "protocol_code",
            "title",
            "short_title",
            "nct_id",
            "chictr_id",
            "phase",
            "design",
            "blinding",
            "status",
            "response_criteria",
            "planned_followup_months",
            "imaging_interval_weeks",
            "confirmation_required",
            "confirmation_min_days",
            "min_sd_days",
            "created_at",
        ]
