"""Patient records and workflows in the API.

Read endpoints (list + retrieve, filtered, ordered, paginated) for screenings, consents,
enrollments, visits, adverse events, tumour assessments and lesions; workflow endpoints
(POST) that call the same services as the web forms: one input serializer, one service
call, one output serializer. Objects come only through ``ScopedViewSetMixin`` (another
site's record is a 404); the action's permission is checked before the input, as the web
views do; POST workflows honour ``Idempotency-Key``.

Why one module: read and write are not separate seams here. The per-record viewsets carry
workflow actions of their own (consent ``withdraw``, enrollment ``first_treatment``, visit
``submit`` / ``reschedule`` / ``missed``, adverse-event and assessment updates), built with
the same ``workflow`` wrapper and lookup helpers at the top as ``PatientWorkflowViewSet``;
the module is every patient endpoint together with the one wrapper they share.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import IdempotentCreateMixin, KeysetPagination, ScopedViewSetMixin
from api.docs import IDEMPOTENCY_PARAM
from api.parsers import DepthLimitedJSONParser as JSONParser
from sites.mixins import require_perm
from sites.roles import Perm

from .. import services
from ..models import (
    AdverseEvent,
    AdverseEventCausality,
    Consent,
    Enrollment,
    Lesion,
    LesionMeasurement,
    Patient,
    Screening,
    TumorAssessment,
    Visit,
)
from ..services import status as status_services
from . import inputs, records
from .serializers import PatientSerializer
from .views import PatientViewSet


def validated(serializer_class: type[serializers.Serializer], request: Any, **kwargs: Any) -> dict:
    data = serializer_class(data=request.data, context={"request": request}, **kwargs)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def workflow(
    perm: Perm,
    input_class: type[serializers.Serializer],
    output_class: type[serializers.Serializer],
    *,
    created: bool = False,
    idempotent: bool = True,
    partial: bool = False,
    record_to_input: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """The steps every workflow action shares, in the order the web views take them.

    The record comes through the scoped ``get_object`` (another site's is a 404); ``perm``
    is required at its trial site before the input is read (403); then, inside the
    ``Idempotency-Key`` handling (``idempotent``), the body is validated by
    ``input_class`` (a 400 naming each field; ``partial`` for a PATCH;
    ``record_to_input`` passes the record to the serializer under that name), the
    action runs and what it returns is serialised by ``output_class`` (201 when
    ``created``, else 200). The decorated action is ``(self, request, record, data)``
    and states only its own part: the service call and the object to return.
    """

    def decorate(run: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(run)
        def view(self: Any, request: Any, *args: Any, **kwargs: Any) -> Response:
            record = self.get_object()
            trial_site = (
                record.trial_site if isinstance(record, Patient) else record.patient.trial_site
            )
            require_perm(request.user, perm, trial_site=trial_site)

            def handler() -> Response:
                options: dict[str, Any] = {"partial": True} if partial else {}
                if record_to_input is not None:
                    options[record_to_input] = record
                data = validated(input_class, request, **options)
                result = run(self, request, record, data)
                return Response(
                    output_class(result, context={"request": request}).data,
                    status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
                )

            return self.idempotent(request, handler) if idempotent else handler()

        return view

    return decorate


def patient_visit(patient: Patient, visit_id: int | None, field: str = "visit") -> Visit | None:
    """The patient's visit with this id (a 400 naming ``field`` if it is not theirs)."""
    if visit_id is None:
        return None
    visit = Visit.objects.filter(patient=patient, pk=visit_id).first()
    if visit is None:
        raise serializers.ValidationError({field: ["Choose a visit of this patient."]})
    return visit


def adverse_events_with_causality(qs: Any) -> Any:
    return qs.select_related(
        "patient__trial_site__site", "patient__enrollment__trial"
    ).prefetch_related(
        Prefetch("causality", queryset=AdverseEventCausality.objects.select_related("intervention"))
    )


def assessments_with_measurements(qs: Any) -> Any:
    return qs.select_related("patient__trial_site__site").prefetch_related(
        Prefetch(
            "measurements",
            queryset=LesionMeasurement.objects.select_related("lesion", "merged_into"),
        )
    )


def causality_dict(rows: list[dict[str, Any]] | None) -> dict[int, str] | None:
    if rows is None:
        return None
    return {row["intervention"]: row["relatedness"] for row in rows}


#: The patient's encrypted identity (``patients.models.Patient``).
IDENTITY_FIELDS = ("full_name", "phone", "email", "id_document_number")


class PatientRecordViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Base of the patient-record endpoints: scoped, JSON in, paginated out by keyset
    (``api.pagination.KeysetPagination``: the large lists)."""

    parser_classes = [JSONParser]
    pagination_class = KeysetPagination

    def optimize(self, qs: Any) -> Any:
        return qs.select_related("patient__trial_site__site")

    def defer_for_action(self, qs: Any) -> Any:
        if self.action == "list":
            # A list row names the patient by subject id only: their encrypted identity is
            # neither loaded nor decrypted (four Fernet decryptions per row otherwise).
            qs = qs.defer(*(f"patient__{field}" for field in IDENTITY_FIELDS))
        return qs


# --------------------------------------------------------------------------------------
# Read endpoints (+ the workflows that act on an existing record)
# --------------------------------------------------------------------------------------


class ScreeningViewSet(PatientRecordViewSet):
    """Eligibility screenings with the per-criterion decision. New screenings:
    ``POST /patients/{id}/screen/``."""

    queryset = Screening.objects.all()
    serializer_class = records.ScreeningSerializer
    filterset_class = records.ScreeningFilter
    ordering_fields = ["screening_date", "created_at", "id"]
    ordering = ["-screening_date", "-id"]


class ConsentViewSet(IdempotentCreateMixin, PatientRecordViewSet):
    """Informed consents. New consent or re-consent: ``POST /patients/{id}/consents/``."""

    queryset = Consent.objects.all()
    serializer_class = records.ConsentSerializer
    filterset_class = records.ConsentFilter
    ordering_fields = ["consented_at", "id"]
    ordering = ["-consented_at", "-id"]

    def optimize(self, qs: Any) -> Any:
        return qs.select_related("patient__trial_site__site", "consent_version")

    @extend_schema(
        request=inputs.ConsentWithdrawInputSerializer,
        responses={200: records.ConsentSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="The patient withdraws consent: they leave the study, data collection "
        "ends on `withdrawn_on`, everything collected before is kept.",
        examples=[
            OpenApiExample(
                "Withdrawal",
                value={"withdrawn_on": "2026-05-04", "reason": "Moving back to Korea."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    @workflow(
        Perm.ENTER_CLINICAL_DATA, inputs.ConsentWithdrawInputSerializer, records.ConsentSerializer
    )
    def withdraw(self, request: Any, consent: Consent, data: dict) -> Consent:
        services.consent_withdraw(consent=consent, acting_user=request.user, **data)
        consent.refresh_from_db()
        return consent


class EnrollmentViewSet(IdempotentCreateMixin, PatientRecordViewSet):
    """Enrollments and allocations. In a blinded trial the arm is null unless you may see
    it. New enrollment: ``POST /patients/{id}/enroll/``."""

    queryset = Enrollment.objects.all()
    serializer_class = records.EnrollmentSerializer
    filterset_class = records.EnrollmentFilter
    ordering_fields = ["enrolled_on", "randomization_number", "id"]
    ordering = ["-enrolled_on", "-id"]

    def optimize(self, qs: Any) -> Any:
        return qs.select_related("patient__trial_site__site", "trial", "arm")

    @extend_schema(
        request=inputs.FirstTreatmentInputSerializer,
        responses={200: records.EnrollmentSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="Record the first treatment date (plans the visits counted from it); "
        "correcting it needs `reason`.",
    )
    @action(detail=True, methods=["post"], url_path="first-treatment")
    @workflow(
        Perm.ENTER_CLINICAL_DATA, inputs.FirstTreatmentInputSerializer, records.EnrollmentSerializer
    )
    def first_treatment(self, request: Any, enrollment: Enrollment, data: dict) -> Enrollment:
        services.enrollment_set_first_treatment(
            enrollment=enrollment, acting_user=request.user, **data
        )
        enrollment.refresh_from_db()
        return enrollment


class VisitViewSet(IdempotentCreateMixin, PatientRecordViewSet):
    """Scheduled and unscheduled visits. Unscheduled visit: ``POST /patients/{id}/visits/``."""

    queryset = Visit.objects.all()
    serializer_class = records.VisitSerializer
    filterset_class = records.VisitFilter
    ordering_fields = ["scheduled_date", "actual_date", "id"]
    ordering = ["scheduled_date", "id"]

    def optimize(self, qs: Any) -> Any:
        return qs.select_related("patient__trial_site__site", "definition")

    @extend_schema(
        request=inputs.VisitSubmitInputSerializer,
        responses={200: records.VisitSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="Record what happened at the visit. A date outside the window is a "
        "protocol deviation and needs `deviation_reason`. Submitting again corrects the "
        "visit and then needs `reason`, which lands in the visit's history.",
        examples=[
            OpenApiExample(
                "Follow-up visit",
                value={
                    "actual_date": "2026-05-04",
                    "vital_status": "alive",
                    "ecog": 1,
                    "ae_review_done": True,
                    "notes": "Well; mild fatigue.",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Correction",
                value={
                    "actual_date": "2026-05-04",
                    "vital_status": "alive",
                    "ecog": 0,
                    "ae_review_done": True,
                    "reason": "ECOG transcribed wrongly from the source notes.",
                },
                request_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    @workflow(Perm.ENTER_CLINICAL_DATA, inputs.VisitSubmitInputSerializer, records.VisitSerializer)
    def submit(self, request: Any, visit: Visit, data: dict) -> Visit:
        data.setdefault("ecog", None)
        data["notes"] = data.get("notes", "")
        return services.visit_submit(visit=visit, acting_user=request.user, **data)

    @extend_schema(
        request=inputs.RescheduleInputSerializer,
        responses={200: records.RescheduleResultSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="Move a planned visit to another day inside its window, with a reason.",
    )
    @action(detail=True, methods=["post"])
    @workflow(
        Perm.ENTER_CLINICAL_DATA,
        inputs.RescheduleInputSerializer,
        records.RescheduleResultSerializer,
    )
    def reschedule(self, request: Any, visit: Visit, data: dict) -> dict[str, Any]:
        result = services.visit_reschedule(visit=visit, acting_user=request.user, **data)
        return {"visit": result.visit, "warning": result.warning}

    @extend_schema(
        request=inputs.MissedInputSerializer,
        responses={200: records.VisitSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="The patient did not come (the visit may still be submitted later).",
    )
    @action(detail=True, methods=["post"])
    @workflow(Perm.ENTER_CLINICAL_DATA, inputs.MissedInputSerializer, records.VisitSerializer)
    def missed(self, request: Any, visit: Visit, data: dict) -> Visit:
        return services.visit_mark_missed(visit=visit, acting_user=request.user, **data)


class AdverseEventViewSet(PatientRecordViewSet):
    """Adverse events with causality. New event: ``POST /patients/{id}/adverse-events/``;
    corrections: ``PATCH`` with `reason`."""

    queryset = AdverseEvent.objects.all()
    serializer_class = records.AdverseEventSerializer
    filterset_class = records.AdverseEventFilter
    ordering_fields = ["onset_date", "grade", "id"]
    ordering = ["-onset_date", "-id"]
    http_method_names = ["get", "patch", "head", "options"]

    def optimize(self, qs: Any) -> Any:
        return adverse_events_with_causality(qs)

    @extend_schema(
        request=inputs.AdverseEventUpdateSerializer(partial=True),
        responses={200: records.AdverseEventSerializer},
        description="Correct an adverse event. Only the fields sent change; `reason` is "
        "required and kept in the history.",
    )
    @workflow(
        Perm.ENTER_CLINICAL_DATA,
        inputs.AdverseEventUpdateSerializer,
        records.AdverseEventSerializer,
        idempotent=False,
        partial=True,
    )
    def partial_update(self, request: Any, event: AdverseEvent, data: dict) -> AdverseEvent:
        reason = data.pop("reason", None)
        if "visit" in data:
            data["visit"] = patient_visit(event.patient, data["visit"])
        if "causality" in data:
            data["causality"] = causality_dict(data["causality"])
        services.adverse_event_update(
            adverse_event=event, acting_user=request.user, reason=reason, **data
        )
        return self.get_queryset().get(pk=event.pk)


class TumorAssessmentViewSet(PatientRecordViewSet):
    """Tumour assessments (RECIST 1.1 / iRECIST). New: ``POST
    /patients/{id}/assessments/baseline/`` and ``/patients/{id}/assessments/``;
    corrections: ``PATCH`` with `reason`."""

    queryset = TumorAssessment.objects.all()
    serializer_class = records.TumorAssessmentSerializer
    filterset_class = records.TumorAssessmentFilter
    ordering_fields = ["assessment_date", "id"]
    ordering = ["assessment_date", "id"]
    http_method_names = ["get", "patch", "head", "options"]

    def optimize(self, qs: Any) -> Any:
        return assessments_with_measurements(qs)

    @extend_schema(
        request=inputs.AssessmentUpdateSerializer,
        responses={200: records.TumorAssessmentSerializer},
        description="Correct an assessment with `reason` (kept in every history row). The "
        "same rules as at entry apply; a corrected baseline must still fit the follow-ups.",
    )
    @workflow(
        Perm.ENTER_CLINICAL_DATA,
        inputs.AssessmentUpdateSerializer,
        records.TumorAssessmentSerializer,
        idempotent=False,
    )
    def partial_update(
        self, request: Any, assessment: TumorAssessment, data: dict
    ) -> TumorAssessment:
        if "visit" in data:
            visit = patient_visit(assessment.patient, data.pop("visit"))
            if visit is None:
                data["clear_visit"] = True
            else:
                data["visit"] = visit
        services.assessment_update(assessment=assessment, acting_user=request.user, **data)
        return self.get_queryset().get(pk=assessment.pk)


class LesionViewSet(PatientRecordViewSet):
    """Lesions recorded at baseline (changed through the baseline assessment)."""

    queryset = Lesion.objects.all()
    serializer_class = records.LesionSerializer
    filterset_class = records.LesionFilter
    ordering_fields = ["code", "id"]
    ordering = ["patient", "code", "id"]


# --------------------------------------------------------------------------------------
# Workflows that start from a patient
# --------------------------------------------------------------------------------------

SCREEN_EXAMPLE = {
    "screening_date": "2026-05-04",
    "answers": {
        "histology": "icca",
        "histology_confirmed": True,
        "unresectable": True,
        "metastatic": False,
        "measurable_lesion_count": 2,
        "ecog": 1,
        "child_pugh_class": "A",
        "platelets": 150,
    },
}


class PatientWorkflowViewSet(PatientViewSet):
    """Patients of your sites, and the workflows that start from a patient: screen,
    consent, enroll, unscheduled visit, adverse event, tumour assessments, withdrawal."""

    parser_classes = [JSONParser]

    @extend_schema(
        request=inputs.ScreenInputSerializer,
        responses={201: records.ScreeningSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="Screen the patient against the eligibility criteria in effect on "
        "`screening_date`. Returns the screening with the decision on every criterion; the "
        "patient becomes eligible or screen-failed (incomplete leaves them in screening).",
        examples=[OpenApiExample("Screening", value=SCREEN_EXAMPLE, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    @workflow(
        Perm.ENTER_CLINICAL_DATA,
        inputs.ScreenInputSerializer,
        records.ScreeningSerializer,
        created=True,
    )
    def screen(self, request: Any, patient: Patient, data: dict) -> Screening:
        return services.screening_record(
            patient=patient,
            acting_user=request.user,
            screening_date=data["screening_date"],
            answers=data.get("answers") or {},
        )

    @extend_schema(
        request=inputs.ConsentInputSerializer,
        responses={201: records.ConsentSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="Record informed consent (an eligible patient becomes consented) or a "
        "re-consent on a newer version.",
        examples=[
            OpenApiExample(
                "Consent with an interpreter",
                value={
                    "consent_version": 3,
                    "consented_at": "2026-05-04T10:30:00",
                    "language": "zh",
                    "personal_information_consent": True,
                    "interpreter_used": True,
                    "interpreter_name": "Lee Ji-woo",
                    "witness_name": "Wang Fang",
                },
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    @workflow(
        Perm.ENTER_CLINICAL_DATA,
        inputs.ConsentInputSerializer,
        records.ConsentSerializer,
        created=True,
        record_to_input="patient",
    )
    def consents(self, request: Any, patient: Patient, data: dict) -> Consent:
        return services.consent_record(patient=patient, acting_user=request.user, **data)

    @extend_schema(
        request=inputs.EnrollInputSerializer,
        responses={
            201: OpenApiResponse(
                records.EnrollmentSerializer,
                description="The allocation: randomization number and stratum; the arm only "
                "if you may see it (open-label trial or unblinded role).",
            )
        },
        parameters=[IDEMPOTENCY_PARAM],
        description="Enroll and randomize a consented patient; creates the visit schedule. "
        "Retry with the same `Idempotency-Key` after a network failure: the first "
        "allocation is returned and nobody is randomized twice.",
        examples=[
            OpenApiExample("Enrollment", value={"enrolled_on": "2026-05-04"}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    @workflow(Perm.ENROLL, inputs.EnrollInputSerializer, records.EnrollmentSerializer, created=True)
    def enroll(self, request: Any, patient: Patient, data: dict) -> Enrollment:
        return services.patient_enroll(
            patient=patient,
            acting_user=request.user,
            enrolled_on=data["enrolled_on"],
            first_treatment_date=data.get("first_treatment_date"),
            stratification=data.get("stratification") or None,
        )

    @extend_schema(
        request=inputs.UnscheduledVisitInputSerializer,
        responses={201: records.VisitSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="Add a visit outside the protocol schedule (symptoms, a toxicity check).",
    )
    @action(detail=True, methods=["post"], url_path="visits")
    @workflow(
        Perm.ENTER_CLINICAL_DATA,
        inputs.UnscheduledVisitInputSerializer,
        records.VisitSerializer,
        created=True,
    )
    def add_visit(self, request: Any, patient: Patient, data: dict) -> Visit:
        return services.visit_add_unscheduled(patient=patient, acting_user=request.user, **data)

    @extend_schema(
        request=inputs.AdverseEventInputSerializer,
        responses={201: records.AdverseEventSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="Record an adverse event with its causality for each intervention of "
        "the patient's arm.",
    )
    @action(detail=True, methods=["post"], url_path="adverse-events")
    @workflow(
        Perm.ENTER_CLINICAL_DATA,
        inputs.AdverseEventInputSerializer,
        records.AdverseEventSerializer,
        created=True,
    )
    def add_adverse_event(self, request: Any, patient: Patient, data: dict) -> AdverseEvent:
        data["visit"] = patient_visit(patient, data.get("visit"))
        data["causality"] = causality_dict(data.get("causality")) or {}
        data.setdefault("resolution_date", None)
        event = services.adverse_event_record(patient=patient, acting_user=request.user, **data)
        return adverse_events_with_causality(AdverseEvent.objects).get(pk=event.pk)

    @extend_schema(
        request=inputs.BaselineInputSerializer,
        responses={201: records.TumorAssessmentSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="Record the baseline scan and its lesions (codes T1…/NT1… assigned when "
        "blank). Errors name the row: `lesions[2].diameter_mm`.",
        examples=[
            OpenApiExample(
                "Baseline",
                value={
                    "assessment_date": "2026-04-28",
                    "method": "CT",
                    "lesions": [
                        {"organ": "liver", "diameter_mm": 42, "target": True},
                        {"organ": "lymph node", "nodal": True, "diameter_mm": 18, "target": True},
                    ],
                },
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="assessments/baseline")
    @workflow(
        Perm.ENTER_CLINICAL_DATA,
        inputs.BaselineInputSerializer,
        records.TumorAssessmentSerializer,
        created=True,
    )
    def baseline_assessment(self, request: Any, patient: Patient, data: dict) -> TumorAssessment:
        data["visit"] = patient_visit(patient, data.get("visit"))
        assessment = services.assessment_record_baseline(
            patient=patient, acting_user=request.user, **data
        )
        return assessments_with_measurements(TumorAssessment.objects).get(pk=assessment.pk)

    @extend_schema(
        request=inputs.FollowupInputSerializer,
        responses={201: records.TumorAssessmentSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="Record a follow-up scan: one measurement (or state) per target lesion, "
        "or a recorded response from central review. Errors name the row: "
        "`measurements[0].diameter_mm`.",
    )
    @action(detail=True, methods=["post"], url_path="assessments")
    @workflow(
        Perm.ENTER_CLINICAL_DATA,
        inputs.FollowupInputSerializer,
        records.TumorAssessmentSerializer,
        created=True,
    )
    def followup_assessment(self, request: Any, patient: Patient, data: dict) -> TumorAssessment:
        data["visit"] = patient_visit(patient, data.get("visit"))
        data["measurements"] = data.get("measurements") or []
        data.setdefault("non_target_status", "")
        data.setdefault("new_lesions", "")
        assessment = services.assessment_record_followup(
            patient=patient, acting_user=request.user, **data
        )
        return assessments_with_measurements(TumorAssessment.objects).get(pk=assessment.pk)

    @extend_schema(
        request=inputs.StudyWithdrawInputSerializer,
        responses={200: PatientSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="The patient leaves the study on `on_date` (treatment and protocol "
        "follow-up stop; planned visits after it are cancelled; data already collected "
        "stays). Withdrawal of consent is `POST /consents/{id}/withdraw/`.",
    )
    @action(detail=True, methods=["post"])
    @workflow(Perm.ENTER_CLINICAL_DATA, inputs.StudyWithdrawInputSerializer, PatientSerializer)
    def withdraw(self, request: Any, patient: Patient, data: dict) -> Patient:
        return status_services.patient_withdraw_from_study(
            patient=patient, acting_user=request.user, **data
        )

    @extend_schema(
        request=inputs.DeathInputSerializer,
        responses={200: PatientSerializer},
        parameters=[IDEMPOTENCY_PARAM],
        description="Record the date of death (status died; planned visits after it are "
        "cancelled).",
    )
    @action(detail=True, methods=["post"])
    @workflow(Perm.ENTER_CLINICAL_DATA, inputs.DeathInputSerializer, PatientSerializer)
    def death(self, request: Any, patient: Patient, data: dict) -> Patient:
        return status_services.patient_record_death(
            patient=patient, acting_user=request.user, **data
        )


__all__ = [
    "AdverseEventViewSet",
    "ConsentViewSet",
    "EnrollmentViewSet",
    "LesionViewSet",
    "PatientWorkflowViewSet",
    "ScreeningViewSet",
    "TumorAssessmentViewSet",
    "VisitViewSet",
]
