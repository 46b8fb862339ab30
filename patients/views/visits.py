"""Visit pages: detail, submit (and correct), reschedule, missed, unscheduled; and the
end-of-study status change of a patient."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit.transitions import allowed_targets
from sites.mixins import get_visible_or_404, require_perm
from sites.roles import Perm
from sites.scoping import has_perm
from ui.form_errors import apply_errors

from ..forms_visits import (
    PatientStatusForm,
    VisitMissedForm,
    VisitRescheduleForm,
    VisitSubmitForm,
    VisitUnscheduledForm,
)
from ..models import Patient, Visit
from ..selectors_visits import is_overdue
from ..services import status as status_services
from ..services import visits as visit_services


def _visit(request: HttpRequest, pk: int) -> Visit:
    # The patient and its site come with the visit, fetched once through the scope.
    return get_visible_or_404(
        Visit.objects.select_related("patient__trial_site__site", "definition"),
        request.user,
        pk=pk,
    )


def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    patient = visit.patient
    today = visit_services.patient_local_today(patient)
    return render(
        request,
        "patients/visit_detail.html",
        {
            "visit": visit,
            "patient": patient,
            "overdue": is_overdue(visit, today),
            "adverse_events": visit.adverse_events.order_by("-onset_date", "-pk"),
            "enrolled": visit_services.patient_enrollment(patient) is not None,
            "can_enter": has_perm(
                request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site
            ),
        },
    )


@require_http_methods(["GET", "POST"])
def visit_submit(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=visit.patient.trial_site)
    editing = visit.is_submitted
    if request.method == "POST":
        form = VisitSubmitForm(request.POST, editing=editing)
        if form.is_valid():
            try:
                visit_services.visit_submit(
                    visit=visit, acting_user=request.user, **form.service_data()
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Changes saved.") if editing else _("Visit submitted."))
                return redirect("patients:visit_detail", pk=visit.pk)
    else:
        form = VisitSubmitForm(initial=VisitSubmitForm.initial_for(visit), editing=editing)
    return render(
        request,
        "patients/visit_form.html",
        {"form": form, "visit": visit, "patient": visit.patient, "editing": editing},
    )


@require_http_methods(["GET", "POST"])
def visit_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=visit.patient.trial_site)
    if request.method == "POST":
        form = VisitRescheduleForm(request.POST)
        if form.is_valid():
            try:
                result = visit_services.visit_reschedule(
                    visit=visit,
                    acting_user=request.user,
                    new_date=form.cleaned_data["new_date"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Visit rescheduled to %(date)s.")
                    % {"date": result.visit.scheduled_date.isoformat()},
                )
                if result.warning:
                    messages.warning(request, result.warning)
                return redirect("patients:detail", pk=visit.patient_id)
    else:
        form = VisitRescheduleForm(initial={"new_date": visit.scheduled_date})
    return render(
        request,
        "patients/visit_reschedule.html",
        {"form": form, "visit": visit, "patient": visit.patient},
    )


@require_http_methods(["GET", "POST"])
def visit_missed(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=visit.patient.trial_site)
    if request.method == "POST":
        form = VisitMissedForm(request.POST)
        if form.is_valid():
            try:
                visit_services.visit_mark_missed(
                    visit=visit, acting_user=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Visit marked as missed."))
                return redirect("patients:detail", pk=visit.patient_id)
    else:
        form = VisitMissedForm()
    return render(
        request,
        "patients/visit_reschedule.html",
        {"form": form, "visit": visit, "patient": visit.patient, "missed": True},
    )


@require_http_methods(["GET", "POST"])
def visit_unscheduled(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_or_404(Patient, request.user, pk=pk)
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    if request.method == "POST":
        form = VisitUnscheduledForm(request.POST)
        if form.is_valid():
            try:
                visit = visit_services.visit_add_unscheduled(
                    patient=patient, acting_user=request.user, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Unscheduled visit added."))
                return redirect("patients:visit_detail", pk=visit.pk)
    else:
        form = VisitUnscheduledForm(
            initial={"scheduled_date": visit_services.patient_local_today(patient)}
        )
    return render(request, "patients/visit_unscheduled.html", {"form": form, "patient": patient})


STATUS_ACTIONS = {
    Patient.Status.COMPLETED: (status_services.patient_complete, "on_date"),
    Patient.Status.LOST: (status_services.patient_mark_lost, "last_known_alive_date"),
    Patient.Status.DIED: (status_services.patient_record_death, "death_date"),
    Patient.Status.WITHDRAWN: (status_services.patient_withdraw_from_study, "on_date"),
    Patient.Status.ON_STUDY: (status_services.patient_resume_follow_up, "on_date"),
}


@require_http_methods(["GET", "POST"])
def patient_status(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_or_404(Patient, request.user, pk=pk)
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    if request.method == "POST":
        form = PatientStatusForm(request.POST)
        if form.is_valid():
            target = form.cleaned_data["status"]
            service, date_field = STATUS_ACTIONS[target]
            try:
                service(
                    patient=patient,
                    acting_user=request.user,
                    reason=form.cleaned_data["reason"],
                    **{date_field: form.cleaned_data[date_field]},
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Status changed."))
                return redirect("patients:detail", pk=patient.pk)
    else:
        form = PatientStatusForm()
    labels = dict(Patient.Status.choices)
    allowed = [
        labels[s]
        for s in sorted(allowed_targets(Patient.TRANSITIONS, patient.status))
        if s in STATUS_ACTIONS
    ]
    return render(
        request,
        "patients/status_form.html",
        {"form": form, "patient": patient, "allowed": allowed},
    )
