from __future__ import annotations

from typing import Any

from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sites.models import TrialSite

from ..models import Patient
from ..services import EDITABLE_FIELDS

IDENTITY = ("full_name", "phone", "email", "id_document_number")


class PatientSerializer(serializers.ModelSerializer):
    """A patient. Identity fields are null for roles that see pseudonymised data."""

    nationality = CountryField()
    site_code = serializers.CharField(source="trial_site.site.code", read_only=True)
    trial = serializers.IntegerField(source="trial_site.trial_id", read_only=True)
    # Identity: null for roles that see pseudonymised data (declared so in the schema).
    full_name = serializers.CharField(read_only=True, allow_null=True)
    phone = serializers.CharField(read_only=True, allow_null=True)
    email = serializers.CharField(read_only=True, allow_null=True)
    id_document_number = serializers.CharField(read_only=True, allow_null=True)
    birth_date = serializers.SerializerMethodField(
        help_text="YYYY-MM-DD; only the year (YYYY) for roles that see pseudonymised data."
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "subject_id",
            "trial",
            "trial_site",
            "site_code",
            "status",
            "full_name",
            "phone",
            "email",
            "id_document_type",
            "id_document_number",
            "sex",
            "birth_date",
            "nationality",
            "is_expatriate",
            "preferred_language",
            "interpreter_needed",
            "residence_permit_expiry",
            "insurance_provider",
            "insurance_covers_trial",
            "trial_injury_insurance",
            "death_date",
            "last_known_alive_date",
            "registered_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True, "pattern": r"^\d{4}(-\d{2}-\d{2})?$"})
    def get_birth_date(self, instance: Patient) -> str | None:
        return instance.birth_date.isoformat() if instance.birth_date else None

    def to_representation(self, instance: Patient) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not instance.identity_visible_to(request.user):
            for field in IDENTITY:
                data[field] = None
            data["birth_date"] = (
                instance.birth_date.isoformat()[:4] if instance.birth_date else None
            )
        return data


class PatientWriteSerializer(serializers.ModelSerializer):
    """Registration data, validated for type here and for the clinical rules by the
    service (its errors come back as 400 naming the field)."""

    nationality = CountryField()
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, allow_null=True
    )

    class Meta:
        model = Patient
        fields = list(EDITABLE_FIELDS)


class PatientRegisterSerializer(PatientWriteSerializer):
    trial_site = serializers.PrimaryKeyRelatedField(
        queryset=TrialSite.objects.none(),
        help_text="Trial-site id where the patient is registered.",
    )
    confirm_duplicate = serializers.BooleanField(
        default=False,
        help_text="Set after checking that a patient flagged as registered at another site is "
        "not the same person taking part twice.",
    )

    class Meta(PatientWriteSerializer.Meta):
        fields = ["trial_site", *EDITABLE_FIELDS, "confirm_duplicate"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["trial_site"].queryset = TrialSite.objects.visible_to(request.user)


class PatientUpdateSerializer(PatientWriteSerializer):
    reason = serializers.CharField(max_length=1000, help_text="Reason for change (audit trail).")
    confirm_duplicate = serializers.BooleanField(default=False)

    class Meta(PatientWriteSerializer.Meta):
        fields = [*EDITABLE_FIELDS, "reason", "confirm_duplicate"]


class DocumentLookupSerializer(serializers.Serializer):
    document_number = serializers.CharField(
        max_length=40, help_text="Identity document number, exactly as on the document."
    )
