"""Registry API serializers. Writes go through the services (``RegistryViewSet.create``);
identity fields are null for roles that may not see them (data managers)."""

from __future__ import annotations

from typing import Any

from django_countries.serializer_fields import CountryField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sites.models import Site
from sites.roles import Perm
from sites.scoping import has_perm

from ..models import (
    CopyNumberChange,
    FollowUp,
    Fusion,
    GenomicTest,
    ImagingStudy,
    ImportJob,
    LiradsObservation,
    PathologyReport,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
    Variant,
)


@extend_schema_field(OpenApiTypes.INT)
class VisibleRelated(serializers.PrimaryKeyRelatedField):
    """A related record the requesting user can see; another center's is "does not exist"."""

    def __init__(self, model: Any, **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        return self.model.objects.visible_to(self.context["request"].user)


class RegistryPatientSerializer(serializers.ModelSerializer):
    nationality = CountryField(required=False)
    site = VisibleRelated(Site)
    site_code = serializers.CharField(source="site.code", read_only=True)

    class Meta:
        model = RegistryPatient
        fields = [
            "id",
            "record_number",
            "site",
            "site_code",
            "national_pseudonym",
            "full_name",
            "id_document_type",
            "id_document_number",
            "sex",
            "birth_date",
            "nationality",
            "is_expatriate",
            "residence_region",
            *RegistryPatient.RISK_FACTORS,
            *RegistryPatient.CONSENT_TIERS,
            "consent_date",
            "source_system",
            "source_id",
            "created_at",
        ]
        read_only_fields = ["record_number", "national_pseudonym", "created_at"]

    def to_representation(self, instance: RegistryPatient) -> dict[str, Any]:
        data = super().to_representation(instance)
        user = self.context["request"].user
        if not has_perm(user, Perm.VIEW_REGISTRY_IDENTITY, site=instance.site):
            for field in RegistryPatient.IDENTITY_FIELDS:
                data[field] = None
        return data


def simple(model_: type, parent: str | None, parent_model: Any = None, **extra: Any) -> type:
    """A ModelSerializer of ``model_`` whose ``parent`` FK must be visible to the user."""
    attrs: dict[str, Any] = {}
    if parent:
        attrs[parent] = VisibleRelated(parent_model)
    attrs.update(extra)
    meta = type(
        "Meta",
        (),
        {
            "model": model_,
            "exclude": ["vcf_sha256"] if model_ is GenomicTest else [],
            "read_only_fields": ["created_at"] if hasattr(model_, "created_at") else [],
        },
    )
    attrs["Meta"] = meta
    return type(f"{model_.__name__}Serializer", (serializers.ModelSerializer,), attrs)


TumourSerializer = simple(Tumour, "patient", RegistryPatient)
TreatmentSerializer = simple(
    Treatment,
    "patient",
    RegistryPatient,
    tumour=VisibleRelated(Tumour, required=False, allow_null=True),
)
FollowUpSerializer = simple(FollowUp, "patient", RegistryPatient)
PathologyReportSerializer = simple(PathologyReport, "tumour", Tumour)
GenomicTestSerializer = simple(
    GenomicTest,
    "patient",
    RegistryPatient,
    tumour=VisibleRelated(Tumour, required=False, allow_null=True),
    vcf_file=serializers.FileField(read_only=True),
)
VariantSerializer = simple(Variant, "test", GenomicTest)
FusionSerializer = simple(Fusion, "test", GenomicTest)
CopyNumberChangeSerializer = simple(CopyNumberChange, "test", GenomicTest)
ImagingStudySerializer = simple(
    ImagingStudy, "patient", RegistryPatient, header=serializers.JSONField(read_only=True)
)
LiradsObservationSerializer = simple(
    LiradsObservation,
    "study",
    ImagingStudy,
    recist_assessment=serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True),
)


class StagingRecordSerializer(serializers.ModelSerializer):
    tumour = VisibleRelated(Tumour)
    value = serializers.CharField(read_only=True)

    class Meta:
        model = StagingRecord
        fields = [
            "id",
            "tumour",
            "system",
            "staged_on",
            "inputs",
            "computed_value",
            "value",
            "engine_version",
            "missing",
            "override_value",
            "override_reason",
            "created_at",
        ]
        read_only_fields = ["computed_value", "engine_version", "missing", "created_at"]


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(read_only=True)

    class Meta:
        model = ImportJob
        exclude = ["file", "created_by"]


class VcfUploadSerializer(serializers.Serializer):
    vcf_file = serializers.FileField()


class DicomUploadSerializer(serializers.Serializer):
    patient = VisibleRelated(RegistryPatient)
    dicom_file = serializers.FileField()
    dicomweb_url = serializers.URLField(required=False, allow_blank=True)
