"""Clinical records in the API: output serializers (read) and input serializers (create)."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from patients.api.records import PatientRecordFilter, PatientRefMixin, date_range
from patients.models import AdverseEvent, Lesion, Patient, Visit
from trials.models import Intervention

from ..models import (
    AnalyteChoice,
    ConcomitantMedication,
    Exposure,
    LabResult,
    Procedure,
    ProcedureComplication,
    VitalSigns,
)

BASE = ["id", "patient", "subject_id", "trial_site", "site_code", "visit"]
STAMP = ["entered_by_username", "created_at"]


class LabResultSerializer(PatientRefMixin, serializers.ModelSerializer):
    class Meta:
        model = LabResult
        fields = [
            *BASE,
            "panel",
            "analyte",
            "collected_on",
            "value",
            "value_text",
            "unit",
            "value_canonical",
            "lln",
            "uln",
            "flag",
            "baseline_value",
            "ctcae_grade",
            "ctcae_term",
            "ctcae_criterion",
            "ctcae_basis",
            "grading_notes",
            "engine_version",
            "ae_proposal",
            "adverse_event",
            *STAMP,
        ]
        read_only_fields = fields


class VitalSignsSerializer(PatientRefMixin, serializers.ModelSerializer):
    class Meta:
        model = VitalSigns
        fields = [
            *BASE,
            "measured_on",
            "systolic_bp",
            "diastolic_bp",
            "heart_rate",
            "temperature_c",
            "weight_kg",
            "height_cm",
            *STAMP,
        ]
        read_only_fields = fields


class ExposureSerializer(PatientRefMixin, serializers.ModelSerializer):
    route = serializers.CharField(
        read_only=True, help_text="oral, iv or sc; empty when not recorded"
    )

    class Meta:
        model = Exposure
        fields = [
            *BASE,
            "intervention",
            "kind",
            "start_date",
            "end_date",
            "dose_mg",
            "route",
            "lot_number",
            "dose_change",
            "reason",
            "reason_detail",
            "adverse_event",
            "weight_kg",
            "expected_dose_mg",
            "dose_mismatch",
            *STAMP,
        ]
        read_only_fields = fields


class ComplicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProcedureComplication
        fields = ["id", "description", "clavien_dindo", "adverse_event"]
        read_only_fields = fields


class ProcedureSerializer(PatientRefMixin, serializers.ModelSerializer):
    lesions = serializers.SerializerMethodField()
    complications = ComplicationSerializer(many=True, read_only=True)

    class Meta:
        model = Procedure
        fields = [
            *BASE,
            "kind",
            "procedure_date",
            "approach",
            "lesions",
            "probes",
            "freeze_thaw_cycles",
            "ice_ball_margin_mm",
            "technical_success",
            "notes",
            "complications",
            *STAMP,
        ]
        read_only_fields = fields

    def get_lesions(self, obj: Procedure) -> list[int]:
        return [row.lesion_id for row in obj.treated.all()]


class ConcomitantMedicationSerializer(PatientRefMixin, serializers.ModelSerializer):
    class Meta:
        model = ConcomitantMedication
        fields = [
            *BASE,
            "generic_name",
            "indication",
            "dose",
            "route",
            "frequency",
            "start_date",
            "stop_date",
            "ongoing",
            "prohibited_category",
            "warning",
            *STAMP,
        ]
        read_only_fields = fields


# ------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class VisiblePatientField(serializers.PrimaryKeyRelatedField):
    """A patient the requesting user can see (another site's id: "invalid pk")."""

    def get_queryset(self) -> Any:
        return Patient.objects.visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class PatientScopedField(serializers.PrimaryKeyRelatedField):
    """A record of a visible patient (checked against ``patient`` by the service)."""

    model: Any = None

    def get_queryset(self) -> Any:
        return self.model.objects.visible_to(self.context["request"].user)


class VisitField(PatientScopedField):
    model = Visit


class AdverseEventField(PatientScopedField):
    model = AdverseEvent


class LesionField(PatientScopedField):
    model = Lesion


class ClinicalInput(serializers.Serializer):
    patient = VisiblePatientField()
    visit = VisitField(required=False, allow_null=True)


class LabValueInput(serializers.Serializer):
    analyte = serializers.ChoiceField(choices=AnalyteChoice.choices)
    value = serializers.FloatField(required=False, allow_null=True)
    value_text = serializers.CharField(required=False, allow_blank=True, max_length=20)
    unit = serializers.CharField(
        required=False, allow_blank=True, max_length=20, help_text="UCUM, e.g. mg/dL"
    )


class LabResultsInput(ClinicalInput):
    collected_on = serializers.DateField()
    values = LabValueInput(many=True)


class VitalSignsInput(ClinicalInput):
    measured_on = serializers.DateField()
    systolic_bp = serializers.IntegerField(required=False, allow_null=True)
    diastolic_bp = serializers.IntegerField(required=False, allow_null=True)
    heart_rate = serializers.IntegerField(required=False, allow_null=True)
    temperature_c = serializers.DecimalField(
        max_digits=3, decimal_places=1, required=False, allow_null=True
    )
    weight_kg = serializers.DecimalField(
        max_digits=5, decimal_places=1, required=False, allow_null=True
    )
    height_cm = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, allow_null=True
    )


@extend_schema_field(OpenApiTypes.INT)
class InterventionField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> Any:
        return Intervention.objects.visible_to(self.context["request"].user)


class ExposureInput(ClinicalInput):
    intervention = InterventionField()
    kind = serializers.ChoiceField(choices=Exposure.Kind.choices)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    dose_mg = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True
    )
    route = serializers.ChoiceField(
        choices=Exposure._meta.get_field("route").choices, required=False, allow_blank=True
    )
    lot_number = serializers.CharField(required=False, allow_blank=True, max_length=40)
    dose_change = serializers.ChoiceField(
        choices=Exposure.DoseChange.choices, required=False, allow_blank=True
    )
    reason = serializers.ChoiceField(
        choices=Exposure.Reason.choices, required=False, allow_blank=True
    )
    reason_detail = serializers.CharField(required=False, allow_blank=True, max_length=300)
    adverse_event = AdverseEventField(required=False, allow_null=True)


class ComplicationInput(serializers.Serializer):
    description = serializers.CharField(max_length=200)
    clavien_dindo = serializers.ChoiceField(choices=ProcedureComplication.ClavienDindo.choices)
    adverse_event = AdverseEventField(required=False, allow_null=True)


class ProcedureInput(ClinicalInput):
    kind = serializers.ChoiceField(choices=Procedure.Kind.choices)
    procedure_date = serializers.DateField()
    approach = serializers.ChoiceField(choices=Procedure.Approach.choices)
    lesions = LesionField(many=True, required=False)
    probes = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=30)
    freeze_thaw_cycles = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=10
    )
    ice_ball_margin_mm = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, allow_null=True, min_value=0
    )
    technical_success = serializers.BooleanField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    complications = ComplicationInput(many=True, required=False)


class ConmedInput(ClinicalInput):
    generic_name = serializers.CharField(max_length=200)
    indication = serializers.CharField(max_length=200)
    dose = serializers.CharField(required=False, allow_blank=True, max_length=60)
    route = serializers.CharField(required=False, allow_blank=True, max_length=40)
    frequency = serializers.CharField(required=False, allow_blank=True, max_length=60)
    start_date = serializers.DateField()
    stop_date = serializers.DateField(required=False, allow_null=True)
    ongoing = serializers.BooleanField(required=False, default=False)


# ------------------------------------------------------------------------------------
# Filters
# ------------------------------------------------------------------------------------


class LabResultFilter(PatientRecordFilter):
    analyte = filters.ChoiceFilter(choices=AnalyteChoice.choices)
    collected_after, collected_before = date_range("collected_on", "Collection date")
    min_grade = filters.NumberFilter(
        field_name="ctcae_grade", lookup_expr="gte", label="CTCAE grade at least"
    )

    class Meta:
        model = LabResult
        fields = ["panel", "flag", "ae_proposal", "visit"]


class VitalSignsFilter(PatientRecordFilter):
    class Meta:
        model = VitalSigns
        fields = ["visit"]


class ExposureFilter(PatientRecordFilter):
    class Meta:
        model = Exposure
        fields = ["intervention", "kind", "dose_change", "dose_mismatch", "visit"]


class ProcedureFilter(PatientRecordFilter):
    class Meta:
        model = Procedure
        fields = ["kind", "visit"]


class ConmedFilter(PatientRecordFilter):
    class Meta:
        model = ConcomitantMedication
        fields = ["ongoing", "prohibited_category", "visit"]
