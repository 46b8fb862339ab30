"""Clinical data pages: entry forms opened from a visit, and the adverse event a lab
result proposes. Thin: each POST is one service call; errors come back onto the form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from patients.forms_visits import AdverseEventForm
from patients.models import AdverseEvent, Lesion, Visit
from patients.selectors_ctcae import ae_form_context, ctcae_term_label
from patients.services import safety
from patients.views.safety import _names_masked, _visits_for
from sites.mixins import get_visible_or_404, require_perm
from sites.roles import Perm
from trials.models import Intervention, VisitForm
from ui.form_errors import apply_errors

from . import services
from .forms import (
    ConmedForm,
    DismissForm,
    ExposureForm,
    FormNoteForm,
    LabPanelForm,
    ProcedureForm,
    VitalSignsForm,
)
from .models import LabResult


def _visit(request: HttpRequest, pk: int) -> Visit:
    visit = get_visible_or_404(
        Visit.objects.select_related("patient__trial_site__site", "definition"),
        request.user,
        pk=pk,
    )
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=visit.patient.trial_site)
    return visit


def _day(visit: Visit) -> Any:
    return visit.actual_date or visit.scheduled_date


def _page(request: HttpRequest, visit: Visit, form: Any, title: str, template: str) -> Any:
    return render(
        request,
        template,
        {"visit": visit, "patient": visit.patient, "form": form, "title": title},
    )


def _done(request: HttpRequest, visit: Visit, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("patients:visit_detail", pk=visit.pk)


@require_http_methods(["GET", "POST"])
def labs_new(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    form = LabPanelForm(request.POST or None, initial={"collected_on": _day(visit)})
    if request.method == "POST" and form.is_valid():
        values = form.values()
        try:
            rows = services.lab_results_record(
                patient=visit.patient,
                visit=visit,
                collected_on=form.cleaned_data["collected_on"],
                values=values,
                acting_user=request.user,
            )
        except ValidationError as exc:
            for key, msgs in exc.message_dict.items():
                if key.startswith("values."):
                    _i, n, field = key.split(".", 2)
                    analyte = values[int(n)]["analyte"]
                    target = f"{analyte}__unit" if field == "unit" else analyte
                    for msg in msgs:
                        form.add_error(target if target in form.fields else analyte, msg)
                else:
                    for msg in msgs:
                        form.add_error(key if key in form.fields else None, msg)
        else:
            proposed = sum(1 for r in rows if r.ae_proposal == LabResult.AeProposal.PROPOSED)
            if proposed:
                messages.warning(
                    request,
                    _(
                        "%(n)s result(s) of CTCAE grade 3 or higher: record the proposed adverse event."
                    )
                    % {"n": proposed},
                )
            return _done(
                request, visit, _("%(n)s laboratory result(s) recorded.") % {"n": len(rows)}
            )
    return _page(request, visit, form, _("Laboratory results"), "clinical/labs_form.html")


@require_http_methods(["GET", "POST"])
def vitals_new(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    form = VitalSignsForm(request.POST or None, initial={"measured_on": _day(visit)})
    if request.method == "POST" and form.is_valid():
        try:
            services.vital_signs_record(
                patient=visit.patient, visit=visit, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _done(request, visit, _("Vital signs recorded."))
    return _page(request, visit, form, _("Vital signs"), "clinical/form.html")


@require_http_methods(["GET", "POST"])
def dosing_new(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    patient = visit.patient
    enrollment = safety.patient_enrollment(patient)
    interventions = (
        Intervention.objects.filter(arms=enrollment.arm_id, kind__in=["drug", "biological"])
        if enrollment
        else Intervention.objects.none()
    )
    form = ExposureForm(
        request.POST or None,
        initial={"start_date": _day(visit), "kind": "administration"},
        interventions=interventions,
        adverse_events=AdverseEvent.objects.filter(patient=patient).order_by("-onset_date"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            record = services.exposure_record(
                patient=patient, visit=visit, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if record.dose_mismatch:
                messages.warning(
                    request,
                    _("The dose differs from the protocol dose for the weight (%(dose)s mg).")
                    % {"dose": record.expected_dose_mg},
                )
            return _done(request, visit, _("Exposure recorded."))
    return _page(request, visit, form, _("Dosing / exposure"), "clinical/form.html")


@require_http_methods(["GET", "POST"])
def conmed_new(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    form = ConmedForm(request.POST or None, initial={"start_date": _day(visit)})
    if request.method == "POST" and form.is_valid():
        try:
            record = services.conmed_record(
                patient=visit.patient, visit=visit, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if record.warning:
                messages.warning(request, record.warning)
            return _done(request, visit, _("Concomitant medication recorded."))
    return _page(request, visit, form, _("Concomitant medication"), "clinical/form.html")


@require_http_methods(["GET", "POST"])
def procedure_new(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    patient = visit.patient
    form = ProcedureForm(
        request.POST or None,
        initial={"procedure_date": _day(visit), "kind": "cryoablation"},
        lesions=Lesion.objects.filter(patient=patient).order_by("code"),
        adverse_events=AdverseEvent.objects.filter(patient=patient).order_by("-onset_date"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.procedure_record(
                patient=patient, visit=visit, acting_user=request.user, **form.service_data()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _done(request, visit, _("Procedure recorded."))
    return _page(request, visit, form, _("Procedure"), "clinical/form.html")


@require_http_methods(["GET", "POST"])
def form_note(request: HttpRequest, pk: int, form_code: str) -> HttpResponse:
    visit = _visit(request, pk)
    if form_code not in VisitForm.values or form_code == VisitForm.AE_REVIEW:
        raise Http404
    form = FormNoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_form_note(
                visit=visit, form=form_code, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _done(request, visit, _("Answer recorded."))
    title = str(VisitForm(form_code).label)
    return _page(request, visit, form, title, "clinical/form.html")


def _lab(request: HttpRequest, pk: int) -> LabResult:
    lab = get_visible_or_404(
        LabResult.objects.select_related("patient__trial_site__site", "visit"),
        request.user,
        pk=pk,
    )
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=lab.patient.trial_site)
    return lab


@require_http_methods(["GET", "POST"])
def lab_adverse_event(request: HttpRequest, pk: int) -> HttpResponse:
    """The adverse event a grade >= 3 result proposes, pre-filled; recorded and linked."""
    lab = _lab(request, pk)
    patient = lab.patient
    visits = _visits_for(patient)
    interventions = safety.ae_interventions(patient)
    masked = _names_masked(request.user, patient)
    if lab.ae_proposal != LabResult.AeProposal.PROPOSED:
        messages.info(request, _("This result has no open adverse-event proposal."))
        return redirect("patients:detail", pk=patient.pk)
    if request.method == "POST":
        form = AdverseEventForm(
            request.POST, interventions=interventions, visits=visits, mask_names=masked
        )
        if form.is_valid():
            try:
                event = services.lab_result_record_adverse_event(
                    lab_result=lab, acting_user=request.user, **form.service_data()
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Adverse event recorded and linked to the result."))
                return redirect("patients:ae_detail", pk=event.pk)
    else:
        prefill = services.ae_prefill(lab)
        initial = {
            "grade": prefill["grade"],
            "onset_date": prefill["onset_date"],
            "visit": lab.visit_id,
            "description": prefill["description"],
        }
        if prefill["ctcae_term"] is not None:
            initial["ctcae_term"] = ctcae_term_label(prefill["ctcae_term"])
        form = AdverseEventForm(
            initial=initial, interventions=interventions, visits=visits, mask_names=masked
        )
    return render(
        request,
        "patients/ae_form.html",
        {
            **ae_form_context(),
            "form": form,
            "patient": patient,
            "lab_result": lab,
            "enrolled": safety.patient_enrollment(patient) is not None,
        },
    )


@require_http_methods(["GET", "POST"])
def lab_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    lab = _lab(request, pk)
    form = DismissForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.lab_result_dismiss_proposal(
                lab_result=lab, acting_user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Proposal dismissed."))
            return redirect("patients:detail", pk=lab.patient.pk)
    return render(
        request,
        "clinical/form.html",
        {"form": form, "patient": lab.patient, "title": _("Dismiss the proposed adverse event")},
    )
