"""Read side of the patient records in the API: output serializers and filters.

Blinding: every serializer that can reveal the allocation (the arm of an enrollment, the
names of the interventions an adverse event's causality was assessed against) asks
the kernel ``access.blinding``: ``arm_visible_to`` for one row, ``arm_visibility`` for a
page of rows in at most one query (so lists keep a constant query count),
``sequence_visible`` for the allocation sequence and ``arm_visible_q`` for the arm filter.

Why one module: the serializers and the filters are the two halves of the same read
endpoints (the viewsets in ``workflows.py`` take both from here, ``records.XSerializer``
and ``records.XFilter``), and both halves apply the blinding kernel (the serializers
through ``BlindedSerializerMixin``, the enrollment filter through ``arm_visible_q``), so
what a blinded reader can see and filter by is decided in one file.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access.blinding import (
    arm_visibility,
    arm_visible_q,
    arm_visible_to,
    sequence_visible,
)
from api.docs import inline_choice_field
from api.filters import ApiFilterSet, IdFilter, StrictBooleanFilter
from trials.choices import Language

from ..models import (
    AdverseEvent,
    AdverseEventCausality,
    Consent,
    Enrollment,
    Lesion,
    LesionMeasurement,
    Screening,
    TumorAssessment,
    Visit,
)

MAX_ID = 2**31 - 1


# --------------------------------------------------------------------------------------
# Blinding
# --------------------------------------------------------------------------------------


def enrollment_of(patient: Any) -> Enrollment | None:
    try:
        return patient.enrollment
    except Enrollment.DoesNotExist:
        return None


class BlindedListSerializer(serializers.ListSerializer):
    """Works out arm visibility for the whole page before the rows are rendered."""

    def to_representation(self, data: Any) -> list[Any]:
        items = list(data.all() if isinstance(data, models.manager.BaseManager) else data)
        self.child.prime_blinding(items)
        return [self.child.to_representation(item) for item in items]


class BlindedSerializerMixin:
    """``arm_visible(obj)`` for serializers whose rows may reveal the allocation."""

    def enrollment_for(self, obj: Any) -> Enrollment | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def prime_blinding(self, items: list[Any]) -> None:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        self._visibility = arm_visibility(user, [self.enrollment_for(i) for i in items])

    def arm_visible(self, obj: Any) -> bool:
        enrollment = self.enrollment_for(obj)
        if enrollment is None:
            return False
        cached = getattr(self, "_visibility", {})
        if enrollment.pk not in cached:
            request = self.context.get("request")
            return arm_visible_to(getattr(request, "user", None), enrollment)
        return cached[enrollment.pk]


# --------------------------------------------------------------------------------------
# Serializers
# --------------------------------------------------------------------------------------


class PatientRefMixin(serializers.Serializer):
    """The patient a record belongs to, with its subject id and site."""

    subject_id = serializers.CharField(source="patient.subject_id", read_only=True)
    trial_site = serializers.IntegerField(source="patient.trial_site_id", read_only=True)
    site_code = serializers.CharField(source="patient.trial_site.site.code", read_only=True)


class CriterionResultSerializer(serializers.Serializer):
    """The decision on one eligibility criterion."""

    code = serializers.CharField()
    kind = inline_choice_field(["inclusion", "exclusion"])
    applies_to = serializers.CharField(required=False, help_text="all or expatriate")
    text = serializers.CharField()
    text_zh = serializers.CharField(required=False, allow_blank=True)
    status = inline_choice_field(
        ["met", "not_met", "missing", "not_applicable"],
        help_text="met: does not stand in the way of enrolment (for an exclusion: the "
        "excluding condition is absent); not_met: it does; missing: data lacking; "
        "not_applicable: expatriate criterion of a resident patient.",
    )
    satisfied = serializers.BooleanField(allow_null=True)
    rule_status = serializers.CharField(
        allow_null=True, help_text="Raw outcome of the rule (exclusion met = condition present)."
    )
    reason = serializers.CharField(allow_blank=True)
    missing_fields = serializers.ListField(child=serializers.CharField())


class ScreeningSerializer(PatientRefMixin, serializers.ModelSerializer):
    """A screening with the per-criterion decision. ``data`` holds the answers and the
    values taken from the patient record on the screening date."""

    criteria_results = CriterionResultSerializer(many=True, read_only=True)
    failed_codes = serializers.ListField(child=serializers.CharField(), read_only=True)
    data = serializers.DictField(read_only=True)
    screened_by = serializers.CharField(source="screened_by_username", read_only=True)

    class Meta:
        model = Screening
        fields = [
            "id",
            "patient",
            "subject_id",
            "trial_site",
            "site_code",
            "protocol_version",
            "screening_date",
            "result",
            "criteria_results",
            "failed_codes",
            "data",
            "screened_by",
            "created_at",
        ]
        read_only_fields = fields


class ConsentSerializer(PatientRefMixin, serializers.ModelSerializer):
    language = inline_choice_field(
        Language.choices, read_only=True, help_text="Language of the consent discussion."
    )
    consent_version_label = serializers.CharField(source="consent_version.version", read_only=True)
    consent_version_language = serializers.CharField(
        source="consent_version.language", read_only=True
    )
    obtained_by = serializers.CharField(source="obtained_by_username", read_only=True)
    interpreter_name = serializers.CharField(
        read_only=True, allow_null=True, help_text="Null for roles that see pseudonymised data."
    )
    witness_name = serializers.CharField(
        read_only=True, allow_null=True, help_text="Null for roles that see pseudonymised data."
    )
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Consent
        fields = [
            "id",
            "patient",
            "subject_id",
            "trial_site",
            "site_code",
            "consent_version",
            "consent_version_label",
            "consent_version_language",
            "language",
            "consented_at",
            "interpreter_used",
            "interpreter_name",
            "interpreter_qualification",
            "witness_name",
            "personal_information_consent",
            "samples_consent",
            "obtained_by",
            "withdrawn_on",
            "withdrawal_reason",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Consent) -> dict[str, Any]:
        """Interpreter and witness names are identity: null for pseudonymised roles."""
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not instance.identity_visible_to(request.user):
            for field in Consent.IDENTITY_FIELDS:
                data[field] = None
        return data


class EnrollmentSerializer(BlindedSerializerMixin, PatientRefMixin, serializers.ModelSerializer):
    """An enrollment. In a blinded trial ``arm``, ``arm_code`` and ``arm_name`` are null
    unless you may see the arm (``arm_visible``); ``allocation_index``, ``block_number``
    and ``block_size`` are null unless you hold the trial's unblinded view, in every
    trial (they would make the next allocations predictable)."""

    arm = serializers.SerializerMethodField()
    arm_code = serializers.SerializerMethodField()
    arm_name = serializers.SerializerMethodField()
    arm_visible = serializers.SerializerMethodField()
    allocation_index = serializers.SerializerMethodField()
    block_number = serializers.SerializerMethodField()
    block_size = serializers.SerializerMethodField()
    enrolled_by = serializers.CharField(source="enrolled_by_username", read_only=True)

    class Meta:
        model = Enrollment
        list_serializer_class = BlindedListSerializer
        fields = [
            "id",
            "patient",
            "subject_id",
            "trial_site",
            "site_code",
            "trial",
            "randomization_number",
            "stratum",
            "arm_visible",
            "arm",
            "arm_code",
            "arm_name",
            "allocation_index",
            "block_number",
            "block_size",
            "enrolled_on",
            "first_treatment_date",
            "enrolled_by",
            "created_at",
        ]
        read_only_fields = fields

    def enrollment_for(self, obj: Enrollment) -> Enrollment:
        return obj

    def allocation_visible(self, obj: Enrollment) -> bool:
        """Position in the sequence, block and block size let a reader predict the next
        allocations (selection bias), in open-label trials too: only for holders of the
        unblinded/statistician view of the trial. An emergency unblinding reveals one
        patient's arm, not the sequence."""
        cache = self.context.setdefault("_allocation_visible", {})
        if obj.trial_id not in cache:
            request = self.context.get("request")
            user = getattr(request, "user", None)
            cache[obj.trial_id] = sequence_visible(user, obj.trial)
        return cache[obj.trial_id]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_arm_visible(self, obj: Enrollment) -> bool:
        return self.arm_visible(obj)

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_arm(self, obj: Enrollment) -> int | None:
        return obj.arm_id if self.arm_visible(obj) else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_arm_code(self, obj: Enrollment) -> str | None:
        return obj.arm.code if self.arm_visible(obj) else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_arm_name(self, obj: Enrollment) -> str | None:
        return obj.arm.name if self.arm_visible(obj) else None

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_allocation_index(self, obj: Enrollment) -> int | None:
        return obj.allocation_index if self.allocation_visible(obj) else None

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_block_number(self, obj: Enrollment) -> int | None:
        return obj.block_number if self.allocation_visible(obj) else None

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_block_size(self, obj: Enrollment) -> int | None:
        return obj.block_size if self.allocation_visible(obj) else None


class VisitSerializer(PatientRefMixin, serializers.ModelSerializer):
    status = inline_choice_field(Visit.Status.choices, read_only=True)
    vital_status = serializers.ChoiceField(
        choices=Visit.VitalStatus.choices, allow_blank=True, read_only=True
    )
    definition_code = serializers.SerializerMethodField()
    name = serializers.SerializerMethodField()
    is_submitted = serializers.BooleanField(read_only=True)
    submitted_by = serializers.CharField(source="submitted_by_username", read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "patient",
            "subject_id",
            "trial_site",
            "site_code",
            "definition",
            "definition_code",
            "name",
            "unscheduled_reason",
            "status",
            "target_date",
            "window_start",
            "window_end",
            "scheduled_date",
            "actual_date",
            "vital_status",
            "ecog",
            "ae_review_done",
            "notes",
            "is_deviation",
            "deviation_reason",
            "is_submitted",
            "submitted_at",
            "submitted_by",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True})
    def get_definition_code(self, obj: Visit) -> str | None:
        return obj.definition.code if obj.definition_id else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_name(self, obj: Visit) -> str:
        return obj.definition.name if obj.definition_id else _("Unscheduled visit")


class RescheduleResultSerializer(serializers.Serializer):
    visit = VisitSerializer(read_only=True)
    warning = serializers.CharField(
        read_only=True,
        allow_blank=True,
        help_text="Set when the new date is not a clinic day at the site: make sure the "
        "clinic can see the patient.",
    )


class CausalitySerializer(serializers.Serializer):
    intervention = serializers.IntegerField(source="intervention_id")
    intervention_name = serializers.CharField(
        help_text="In a blinded trial you may not see the arm of, “Study treatment N”."
    )
    relatedness = serializers.ChoiceField(choices=AdverseEventCausality.Relatedness.choices)


class AdverseEventSerializer(BlindedSerializerMixin, PatientRefMixin, serializers.ModelSerializer):
    """An adverse event (CTCAE v5.0 grade, ICH E2A seriousness) with its causality for
    each intervention of the patient's arm."""

    serious_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=AdverseEvent.SeriousCriterion.choices),
        read_only=True,
    )
    causality = serializers.SerializerMethodField()
    recorded_by = serializers.CharField(source="recorded_by_username", read_only=True)

    class Meta:
        model = AdverseEvent
        list_serializer_class = BlindedListSerializer
        fields = [
            "id",
            "patient",
            "subject_id",
            "trial_site",
            "site_code",
            "visit",
            "term",
            "grade",
            "serious",
            "serious_criteria",
            "onset_date",
            "resolution_date",
            "outcome",
            "action_taken",
            "description",
            "causality",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields

    def enrollment_for(self, obj: AdverseEvent) -> Enrollment | None:
        return enrollment_of(obj.patient)

    @extend_schema_field(CausalitySerializer(many=True))
    def get_causality(self, obj: AdverseEvent) -> list[dict[str, Any]]:
        masked = self.enrollment_for(obj) is not None and not self.arm_visible(obj)
        rows = sorted(obj.causality.all(), key=lambda c: (c.intervention.name, c.pk))
        return [
            {
                "intervention": row.intervention_id,
                "intervention_name": (_("Study treatment %(n)s") % {"n": n})
                if masked
                else row.intervention.name,
                "relatedness": row.relatedness,
            }
            for n, row in enumerate(rows, start=1)
        ]


class MeasurementSerializer(serializers.ModelSerializer):
    lesion_code = serializers.CharField(source="lesion.code", read_only=True)
    merged_into_code = serializers.SerializerMethodField()
    fragments_mm = serializers.ListField(child=serializers.FloatField(), read_only=True)

    class Meta:
        model = LesionMeasurement
        fields = [
            "id",
            "lesion",
            "lesion_code",
            "state",
            "diameter_mm",
            "fragments_mm",
            "merged_into",
            "merged_into_code",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True})
    def get_merged_into_code(self, obj: LesionMeasurement) -> str | None:
        return obj.merged_into.code if obj.merged_into_id else None


class LesionSerializer(PatientRefMixin, serializers.ModelSerializer):
    class Meta:
        model = Lesion
        fields = [
            "id",
            "patient",
            "subject_id",
            "trial_site",
            "site_code",
            "code",
            "organ",
            "location",
            "nodal",
            "target",
            "ablated",
            "ablated_on_study",
            "baseline_mm",
        ]
        read_only_fields = fields


class TumorAssessmentSerializer(PatientRefMixin, serializers.ModelSerializer):
    """A scan: the baseline (its lesions are under ``/lesions/?patient=``) or a follow-up
    with one measurement per target lesion."""

    measurements = MeasurementSerializer(many=True, read_only=True)
    entered_by = serializers.CharField(source="entered_by_username", read_only=True)
    non_target_status = serializers.ChoiceField(
        choices=TumorAssessment.NonTarget.choices,
        allow_blank=True,
        read_only=True,
        help_text="Blank: not evaluated (to be reviewed).",
    )
    recorded_response = serializers.ChoiceField(
        choices=TumorAssessment.RecordedResponse.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = TumorAssessment
        fields = [
            "id",
            "patient",
            "subject_id",
            "trial_site",
            "site_code",
            "visit",
            "is_baseline",
            "assessment_date",
            "method",
            "non_target_status",
            "new_lesions",
            "new_lesions_increased",
            "nontarget_increased",
            "recorded_response",
            "recorded_response_source",
            "notes",
            "measurements",
            "entered_by",
            "created_at",
        ]
        read_only_fields = fields


# --------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------


class PatientRecordFilter(ApiFilterSet):
    """Filters every patient record has: its patient, trial, trial-site and site."""

    patient = IdFilter(field_name="patient", label="Patient id")
    trial = IdFilter(field_name="patient__trial_site__trial", label="Trial id")
    trial_site = IdFilter(field_name="patient__trial_site", label="Trial-site id")
    site = filters.CharFilter(field_name="patient__trial_site__site__code", label="Site code")


def date_range(field: str, what: str) -> tuple[filters.DateFilter, filters.DateFilter]:
    return (
        filters.DateFilter(field_name=field, lookup_expr="gte", label=f"{what} on or after"),
        filters.DateFilter(field_name=field, lookup_expr="lte", label=f"{what} on or before"),
    )


class ScreeningFilter(PatientRecordFilter):
    result = filters.ChoiceFilter(choices=Screening.Result.choices)
    screened_after, screened_before = date_range("screening_date", "Screening date")

    class Meta:
        model = Screening
        fields = ["result"]


class ConsentFilter(PatientRecordFilter):
    active = StrictBooleanFilter(field_name="withdrawn_on", lookup_expr="isnull", label="Active")
    consented_after = filters.DateFilter(
        field_name="consented_at", lookup_expr="date__gte", label="Consented on or after"
    )
    consented_before = filters.DateFilter(
        field_name="consented_at", lookup_expr="date__lte", label="Consented on or before"
    )
    consent_version = IdFilter(field_name="consent_version", label="Consent version id")

    class Meta:
        model = Consent
        fields = ["language"]


class EnrollmentFilter(PatientRecordFilter):
    enrolled_after, enrolled_before = date_range("enrolled_on", "Enrollment date")
    arm = IdFilter(
        method="filter_arm",
        label="Arm id. Only enrollments whose arm you may see match (open-label trial, "
        "unblinded role, or your own emergency unblinding): filtering a blinded trial by "
        "arm reveals nothing.",
    )

    class Meta:
        model = Enrollment
        fields = ["stratum"]

    def filter_arm(self, qs: Any, name: str, value: int) -> Any:
        return qs.filter(arm_id=value).filter(arm_visible_q(self.request.user))


class VisitFilter(PatientRecordFilter):
    status = filters.ChoiceFilter(choices=Visit.Status.choices)
    scheduled_after, scheduled_before = date_range("scheduled_date", "Scheduled date")
    visit_after, visit_before = date_range("actual_date", "Visit date")
    submitted = StrictBooleanFilter(
        field_name="submitted_at", lookup_expr="isnull", exclude=True, label="Submitted"
    )
    definition = filters.CharFilter(field_name="definition__code", label="Visit code, e.g. W12")

    class Meta:
        model = Visit
        fields = ["status", "is_deviation"]


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 5})
class GradeFilter(filters.NumberFilter):
    """A CTCAE grade, 1 to 5 (declared so in the schema)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, min_value=1, max_value=5, **kwargs)


class AdverseEventFilter(PatientRecordFilter):
    grade = GradeFilter(field_name="grade", label="CTCAE grade (1-5)")
    grade_min = GradeFilter(field_name="grade", lookup_expr="gte", label="Grade at least")
    outcome = filters.ChoiceFilter(choices=AdverseEvent.Outcome.choices)
    onset_after, onset_before = date_range("onset_date", "Onset date")
    visit = IdFilter(field_name="visit", label="Visit id")

    class Meta:
        model = AdverseEvent
        fields = ["serious", "outcome"]


class TumorAssessmentFilter(PatientRecordFilter):
    method = filters.ChoiceFilter(choices=TumorAssessment.Method.choices)
    assessed_after, assessed_before = date_range("assessment_date", "Scan date")
    visit = IdFilter(field_name="visit", label="Visit id")

    class Meta:
        model = TumorAssessment
        fields = ["is_baseline", "method"]


class LesionFilter(PatientRecordFilter):
    class Meta:
        model = Lesion
        fields = ["target", "nodal", "ablated"]
