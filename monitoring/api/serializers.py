"""Output and input serializers of the monitoring API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import DataQuery, Lock, QueryMessage, Signature, SourceVerification
from ..targets import labels

MAX_ID = 2**31 - 1  # ids beyond any row; larger numbers are a 400, not a database error


def form_of(obj: Any) -> str:
    return f"{obj.content_type.app_label}.{obj.content_type.model}"


class TargetedSerializer(serializers.ModelSerializer):
    form = serializers.SerializerMethodField(help_text="Model label, e.g. patients.visit")
    subject_id = serializers.CharField(source="patient.subject_id", read_only=True)
    site = serializers.CharField(source="trial_site.site.code", read_only=True)

    def get_form(self, obj: Any) -> str:
        return form_of(obj)


class QueryMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = QueryMessage
        fields = ["id", "action", "text", "author_username", "at"]


class DataQuerySerializer(TargetedSerializer):
    messages = QueryMessageSerializer(many=True, read_only=True)

    class Meta:
        model = DataQuery
        fields = [
            "id",
            "trial",
            "trial_site",
            "site",
            "patient",
            "subject_id",
            "form",
            "object_id",
            "record_label",
            "field_name",
            "status",
            "origin",
            "edit_check",
            "text",
            "raised_by_username",
            "raised_at",
            "answered_at",
            "closed_at",
            "messages",
        ]


class VerificationSerializer(TargetedSerializer):
    class Meta:
        model = SourceVerification
        fields = [
            "id",
            "trial",
            "trial_site",
            "site",
            "patient",
            "subject_id",
            "form",
            "object_id",
            "record_label",
            "fields",
            "status",
            "verified_by_username",
            "verified_at",
            "reset_at",
            "reset_by_username",
            "reset_fields",
        ]


class SignatureSerializer(TargetedSerializer):
    class Meta:
        model = Signature
        fields = [
            "id",
            "trial",
            "trial_site",
            "site",
            "patient",
            "subject_id",
            "form",
            "object_id",
            "record_label",
            "level",
            "meaning",
            "signer_username",
            "printed_name",
            "signed_at",
            "content_hash",
            "status",
            "invalidated_at",
            "invalidated_by_username",
            "invalidation_note",
        ]


class LockSerializer(serializers.ModelSerializer):
    description = serializers.CharField(source="describe", read_only=True)

    class Meta:
        model = Lock
        fields = [
            "id",
            "trial",
            "trial_site",
            "patient",
            "level",
            "mode",
            "label",
            "description",
            "reason",
            "locked_by_username",
            "locked_at",
            "released_by_username",
            "released_at",
            "release_reason",
        ]


class RecordInput(serializers.Serializer):
    form = serializers.ChoiceField(choices=[], help_text="Model label, e.g. patients.visit")
    object_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form"].choices = labels()


class QueryRaiseInput(RecordInput):
    field_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    text = serializers.CharField(max_length=4000)


class QueryAnswerInput(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    correct = serializers.BooleanField(
        required=False, default=False, help_text="Correct the queried field to corrected_value"
    )
    corrected_value = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class QueryStepInput(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class QueryStepTextInput(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class VerifyInput(RecordInput):
    fields = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list
    )


class SignInput(RecordInput):
    level = serializers.ChoiceField(choices=Signature.Level.choices)
    meaning = serializers.ChoiceField(choices=Signature.Meaning.choices)
    username = serializers.CharField(max_length=150, help_text="Your user id, re-entered")
    password = serializers.CharField(max_length=200, write_only=True, trim_whitespace=False)
    otp_token = serializers.CharField(
        max_length=12,
        required=False,
        default="",
        allow_blank=True,
        write_only=True,
        help_text="Code of your authenticator app (when the TOTP second factor is on)",
    )


class LockInput(serializers.Serializer):
    trial = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    level = serializers.ChoiceField(choices=Lock.Level.choices)
    mode = serializers.ChoiceField(choices=Lock.Mode.choices)
    trial_site = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True
    )
    patient = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True
    )
    label = serializers.CharField(required=False, allow_blank=True, max_length=200)
    reason = serializers.CharField(max_length=2000)


class ReleaseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)
