"""Input serializers of the patient workflows. They check types and shapes; every clinical
rule is the service's, whose errors come back as 400 naming the field."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.docs import REASON_HELP, inline_choice_field
from domain.eligibility import FIELD_CATALOGUE, FieldType
from trials.choices import Language
from trials.models import ConsentVersion

from ..models import AdverseEvent, AdverseEventCausality, LesionMeasurement, TumorAssessment, Visit
from ..services.screening import ANSWER_FIELDS

TEXT_MAX = 4000


def reason_field(*, required: bool = False, help_text: str = REASON_HELP) -> serializers.CharField:
    return serializers.CharField(
        max_length=1000,
        required=required,
        allow_blank=not required,
        allow_null=not required,
        help_text=help_text,
    )


def _answer_schema(name: str) -> dict[str, Any]:
    spec = FIELD_CATALOGUE[name]
    schema: dict[str, Any]
    if spec.type is FieldType.BOOL:
        schema = {"type": "boolean"}
    elif spec.type is FieldType.INT:
        schema = {"type": "integer"}
    elif spec.type is FieldType.DECIMAL:
        schema = {"type": "number"}
    elif spec.type is FieldType.DATE:
        schema = {"type": "string", "format": "date"}
    else:
        schema = {"type": "string", "enum": [value for value, _label in spec.choices]}
    if spec.type in (FieldType.INT, FieldType.DECIMAL):
        if spec.min_value is not None:
            schema["minimum"] = spec.min_value
        if spec.max_value is not None:
            schema["maximum"] = spec.max_value
    description = spec.label + (f" ({spec.unit})" if spec.unit else "")
    if spec.help_text:
        description += f". {spec.help_text}"
    schema["description"] = description
    schema["nullable"] = True
    return schema


ANSWERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The coordinator's answers, by field name; leave out (or null) what is not "
    "known. Values already on record (date of birth, residence permit, identity document, "
    "insurance, consent languages, planned follow-up) are taken from the patient and must "
    "not be sent. Errors are reported under the field's name.",
    "properties": {name: _answer_schema(name) for name in ANSWER_FIELDS},
    "additionalProperties": False,
}


@extend_schema_field(ANSWERS_SCHEMA)
class AnswersField(serializers.DictField):
    """The answers as sent: the screening service parses and checks each one."""


class ScreenInputSerializer(serializers.Serializer):
    screening_date = serializers.DateField(
        help_text="The date the screening refers to (not in the future, site calendar)."
    )
    answers = AnswersField(required=False, default=dict)


class SiteLocalDateTimeField(serializers.DateTimeField):
    """A date-time; without an offset it is read in the site's time zone (by the service)."""

    def enforce_timezone(self, value: datetime.datetime) -> datetime.datetime:
        return value if timezone.is_naive(value) else super().enforce_timezone(value)


class ConsentInputSerializer(serializers.Serializer):
    consent_version = serializers.PrimaryKeyRelatedField(
        queryset=ConsentVersion.objects.none(),
        help_text="Id of the ethics-approved consent version of the patient's trial.",
    )
    consented_at = SiteLocalDateTimeField(
        help_text="When consent was given; without an offset, in the site's time zone."
    )
    language = inline_choice_field(
        Language.choices, help_text="Language of the consent discussion."
    )
    personal_information_consent = serializers.BooleanField(
        help_text="Separate consent to process sensitive personal information (PIPL); required."
    )
    interpreter_used = serializers.BooleanField(default=False)
    interpreter_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    interpreter_qualification = serializers.CharField(
        max_length=200, required=False, allow_blank=True
    )
    witness_name = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Impartial witness; required with an interpreter when consent is not "
        "discussed and documented in the patient's preferred language.",
    )
    samples_consent = serializers.BooleanField(default=False)

    def __init__(self, *args: Any, patient: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if patient is not None:
            self.fields["consent_version"].queryset = ConsentVersion.objects.filter(
                trial_id=patient.trial_site.trial_id
            )


class ConsentWithdrawInputSerializer(serializers.Serializer):
    withdrawn_on = serializers.DateField(help_text="Data collection ends on this date.")
    reason = serializers.CharField(
        max_length=1000, help_text="Reason for withdrawal (or “not given by the patient”)."
    )


class StratificationSerializer(serializers.Serializer):
    ecog = serializers.IntegerField(
        min_value=0,
        max_value=5,
        required=False,
        help_text="Only for trials stratified by ECOG; must agree with the screening.",
    )


class EnrollInputSerializer(serializers.Serializer):
    enrolled_on = serializers.DateField()
    first_treatment_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="If already known; visits counted from it are planned once it is set.",
    )
    stratification = StratificationSerializer(required=False)


class FirstTreatmentInputSerializer(serializers.Serializer):
    first_treatment_date = serializers.DateField()
    reason = reason_field(help_text="Required to correct a first treatment date already set.")


class VisitSubmitInputSerializer(serializers.Serializer):
    actual_date = serializers.DateField(help_text="The date the visit took place.")
    vital_status = serializers.ChoiceField(
        choices=Visit.VitalStatus.choices,
        help_text="A death is recorded with POST /patients/{id}/death/, not on a visit.",
    )
    ecog = serializers.IntegerField(min_value=0, max_value=5, required=False, allow_null=True)
    ae_review_done = serializers.BooleanField(default=False)
    notes = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True)
    deviation_reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="Required when the visit date is outside the window (protocol deviation).",
    )
    reason = reason_field(help_text="Required to correct a visit already submitted. " + REASON_HELP)


class RescheduleInputSerializer(serializers.Serializer):
    new_date = serializers.DateField(help_text="Inside the visit window, not in the past.")
    reason = serializers.CharField(max_length=1000, help_text=REASON_HELP)


class MissedInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text=REASON_HELP)


class UnscheduledVisitInputSerializer(serializers.Serializer):
    scheduled_date = serializers.DateField()
    reason = serializers.CharField(max_length=300, help_text="Why the visit is needed.")


class StudyWithdrawInputSerializer(serializers.Serializer):
    on_date = serializers.DateField(help_text="The date the patient leaves the study.")
    reason = serializers.CharField(max_length=1000, help_text=REASON_HELP)


class DeathInputSerializer(serializers.Serializer):
    death_date = serializers.DateField()
    reason = serializers.CharField(max_length=1000, help_text=REASON_HELP)


class CausalityInputSerializer(serializers.Serializer):
    intervention = serializers.IntegerField(
        min_value=1, help_text="Id of an intervention of the patient's arm."
    )
    relatedness = serializers.ChoiceField(choices=AdverseEventCausality.Relatedness.choices)


class AdverseEventInputSerializer(serializers.Serializer):
    term = serializers.CharField(max_length=200, help_text="CTCAE v5.0 term.")
    grade = serializers.IntegerField(min_value=1, max_value=5, help_text="CTCAE grade.")
    serious = serializers.BooleanField(default=False, help_text="ICH E2A seriousness.")
    serious_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=AdverseEvent.SeriousCriterion.choices),
        required=False,
        default=list,
    )
    onset_date = serializers.DateField()
    resolution_date = serializers.DateField(required=False, allow_null=True)
    outcome = serializers.ChoiceField(choices=AdverseEvent.Outcome.choices)
    action_taken = serializers.ChoiceField(choices=AdverseEvent.Action.choices)
    description = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True)
    visit = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Visit id it was reported at."
    )
    causality = CausalityInputSerializer(
        many=True,
        required=False,
        help_text="One row per intervention of the patient's arm (errors: `causality_<id>`).",
    )


class AdverseEventUpdateSerializer(AdverseEventInputSerializer):
    """Only the fields sent change; ``causality``, when sent, must again cover every
    intervention."""

    reason = serializers.CharField(max_length=1000, help_text=REASON_HELP)


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "Lesion id, or its code (T1, NT2…).",
    }
)
class LesionRefField(serializers.Field):
    default_error_messages = {"invalid": "Give the lesion's id or its code."}

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 20:
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class LesionInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        required=False, allow_null=True, help_text="Existing lesion (corrections only)."
    )
    code = serializers.CharField(
        max_length=10, required=False, allow_blank=True, help_text="Left blank: T1… / NT1…"
    )
    organ = serializers.CharField(max_length=60, required=False, allow_blank=True)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    nodal = serializers.BooleanField(default=False)
    target = serializers.BooleanField(default=False)
    ablated = serializers.BooleanField(
        default=False, help_text="Previously ablated or irradiated (cannot be a target)."
    )
    diameter_mm = serializers.FloatField(
        required=False, allow_null=True, help_text="Longest diameter; short axis for a node."
    )


class BaselineInputSerializer(serializers.Serializer):
    assessment_date = serializers.DateField(help_text="Scan date.")
    method = serializers.ChoiceField(choices=TumorAssessment.Method.choices)
    lesions = LesionInputSerializer(many=True)
    non_target_present = serializers.BooleanField(
        required=False, allow_null=True, help_text="When given, must agree with the lesions."
    )
    visit = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    notes = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True)


class MeasurementInputSerializer(serializers.Serializer):
    lesion = LesionRefField()
    state = serializers.ChoiceField(
        choices=LesionMeasurement.State.choices, required=False, allow_blank=True
    )
    diameter_mm = serializers.FloatField(required=False, allow_null=True)
    fragments_mm = serializers.ListField(
        child=serializers.FloatField(),
        required=False,
        max_length=20,
        help_text="Fragments of a split lesion (at least two).",
    )
    merged_into = LesionRefField(required=False, allow_null=True)


class FollowupInputSerializer(serializers.Serializer):
    assessment_date = serializers.DateField(help_text="Scan date.")
    method = serializers.ChoiceField(choices=TumorAssessment.Method.choices)
    measurements = MeasurementInputSerializer(
        many=True, required=False, help_text="One row per target lesion of the baseline."
    )
    non_target_status = serializers.ChoiceField(
        choices=TumorAssessment.NonTarget.choices, required=False, allow_blank=True
    )
    new_lesions = serializers.ChoiceField(
        choices=TumorAssessment.NewLesions.choices, required=False, allow_blank=True
    )
    new_lesions_increased = serializers.BooleanField(default=False)
    nontarget_increased = serializers.BooleanField(default=False)
    recorded_response = serializers.ChoiceField(
        choices=TumorAssessment.RecordedResponse.choices,
        required=False,
        allow_blank=True,
        help_text="A response given by central review, used instead of measurements.",
    )
    recorded_response_source = serializers.CharField(
        max_length=200, required=False, allow_blank=True
    )
    visit = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    notes = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True)


class AssessmentUpdateSerializer(serializers.Serializer):
    """Fields left out keep their value; ``lesions`` (baseline) or ``measurements``
    (follow-up) replace the whole list."""

    reason = serializers.CharField(max_length=1000, help_text=REASON_HELP)
    assessment_date = serializers.DateField(required=False)
    method = serializers.ChoiceField(choices=TumorAssessment.Method.choices, required=False)
    visit = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    clear_visit = serializers.BooleanField(default=False, help_text="Unlink the visit.")
    notes = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True)
    lesions = LesionInputSerializer(many=True, required=False)
    measurements = MeasurementInputSerializer(many=True, required=False)
    non_target_status = serializers.ChoiceField(
        choices=TumorAssessment.NonTarget.choices, required=False, allow_blank=True
    )
    new_lesions = serializers.ChoiceField(
        choices=TumorAssessment.NewLesions.choices, required=False
    )
    new_lesions_increased = serializers.BooleanField(required=False)
    nontarget_increased = serializers.BooleanField(required=False)
    recorded_response = serializers.ChoiceField(
        choices=TumorAssessment.RecordedResponse.choices, required=False, allow_blank=True
    )
    recorded_response_source = serializers.CharField(
        max_length=200, required=False, allow_blank=True
    )
