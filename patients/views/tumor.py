"""Tumour assessment pages: baseline entry, follow-up entry, detail and correction."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sites.mixins import get_visible_or_404, require_perm
from sites.roles import Perm
from sites.scoping import has_perm
from ui.form_errors import add_missing_errors, apply_errors

from ..forms_tumor import (
    COMMON_ORGANS,
    BaselineForm,
    FollowupForm,
    LesionEditFormSet,
    LesionFormSet,
    MeasurementFormSetClass,
    lesion_initial,
    measurement_initial,
)
from ..models import Enrollment, Lesion, Patient, TumorAssessment, Visit
from ..selectors_tumor import response_overview
from ..services import tumor as tumor_services

ROW_KEY = re.compile(r"^(lesions|measurements)\[(\d+)\]\.(\w+)$")


def _apply_row_errors(form: Any, row_forms: list[Any], exc: ValidationError, rows_key: str) -> None:
    """Put the service's errors back: ``lesions[i].field`` on row ``i`` of the rows sent,
    everything else on the main form (unknown fields become non-field errors)."""
    rest: dict[str, list[str]] = {}
    for key, messages_ in exc.message_dict.items():
        match = ROW_KEY.match(key)
        if match and match.group(1) == rows_key and int(match.group(2)) < len(row_forms):
            row = row_forms[int(match.group(2))]
            name = match.group(3)
            for message in messages_:
                row.add_error(name if name in row.fields else None, message)
        elif key == rows_key:
            rest.setdefault(NON_FIELD_ERRORS, []).extend(messages_)
        else:
            rest.setdefault(key, []).extend(messages_)
    if rest:
        apply_errors(form, ValidationError(rest))


def _add_missing_followup_errors(
    patient: Patient, form: Any, formset: Any, exclude: TumorAssessment | None = None
) -> None:
    """Some fields failed their own checks: run the follow-up rules on what could be
    read, so every problem is flagged in this round. A field (or a lesion row) already
    in error keeps its own message."""
    form.is_valid(), formset.is_valid()  # cleaned_data of every form, even invalid ones
    data = {k: v for k, v in form.service_data().items() if k not in form.errors}
    data["measurements"] = [row.service_row() for row in formset.forms]
    errors = tumor_services.assessment_followup_errors(patient=patient, exclude=exclude, **data)
    rest: dict[str, list[str]] = {}
    for key, messages_ in errors.items():
        match = ROW_KEY.match(key)
        if match and match.group(1) == "measurements" and int(match.group(2)) < len(formset.forms):
            row = formset.forms[int(match.group(2))]
            if row.errors:
                continue
            name = match.group(3)
            for message in messages_:
                row.add_error(name if name in row.fields else None, message)
        elif key != "measurements":
            rest[key] = messages_
    add_missing_errors(form, rest)


def _patient(request: HttpRequest, pk: int) -> Patient:
    return get_visible_or_404(
        Patient.objects.select_related("trial_site__site", "trial_site__trial"),
        request.user,
        pk=pk,
    )


def _assessment(request: HttpRequest, pk: int) -> TumorAssessment:
    return get_visible_or_404(
        TumorAssessment.objects.select_related(
            "patient__trial_site__site", "patient__trial_site__trial", "visit__definition"
        ),
        request.user,
        pk=pk,
    )


def _enrolled(patient: Patient) -> bool:
    return Enrollment.objects.filter(patient=patient).exists()


def _lesion_rows(formset: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    """The non-blank, non-deleted rows, and their forms in the same order."""
    rows, forms_ = [], []
    for row_form in formset.forms:
        if getattr(formset, "can_delete", False) and row_form.cleaned_data.get("DELETE"):
            continue
        if row_form.is_blank():
            continue
        rows.append(row_form.service_row())
        forms_.append(row_form)
    return rows, forms_


def _valid(form: Any, formset: Any) -> bool:
    form_ok = form.is_valid()
    return formset.is_valid() and form_ok


def _baseline_context(**extra: Any) -> dict[str, Any]:
    return {"organs": COMMON_ORGANS, **extra}


@require_http_methods(["GET", "POST"])
def assessment_baseline(request: HttpRequest, pk: int) -> HttpResponse:
    patient = _patient(request, pk)
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    existing = tumor_services.patient_baseline(patient)
    if existing is not None:
        messages.info(request, _("This patient already has a baseline assessment."))
        return redirect("patients:assessment_detail", pk=existing.pk)
    visit_id = request.GET.get("visit")
    if request.method == "POST":
        form = BaselineForm(request.POST, patient=patient)
        formset = LesionFormSet(request.POST, prefix="lesions")
        if _valid(form, formset):
            rows, row_forms = _lesion_rows(formset)
            try:
                assessment = tumor_services.assessment_record_baseline(
                    patient=patient,
                    acting_user=request.user,
                    assessment_date=form.cleaned_data["assessment_date"],
                    method=form.cleaned_data["method"],
                    visit=form.cleaned_data["visit"],
                    notes=form.cleaned_data["notes"],
                    lesions=rows,
                )
            except ValidationError as exc:
                _apply_row_errors(form, row_forms, exc, "lesions")
            else:
                messages.success(request, _("Baseline assessment recorded."))
                return redirect("patients:assessment_detail", pk=assessment.pk)
    else:
        initial = {"method": TumorAssessment.Method.CT}
        if visit_id and visit_id.isdecimal():
            initial["visit"] = Visit.objects.filter(patient=patient, pk=int(visit_id)).first()
        form = BaselineForm(initial=initial, patient=patient)
        formset = LesionFormSet(prefix="lesions")
    return render(
        request,
        "patients/assessment_baseline_form.html",
        _baseline_context(
            form=form,
            formset=formset,
            patient=patient,
            enrolled=_enrolled(patient),
            title=_("Baseline tumour assessment of %(subject)s") % {"subject": patient.subject_id},
        ),
    )


def _targets(patient: Patient) -> list[Lesion]:
    return list(Lesion.objects.filter(patient=patient, target=True).order_by("code"))


def _followup_call(form: FollowupForm, formset: Any) -> dict[str, Any]:
    data = form.service_data()
    data["measurements"] = [row.service_row() for row in formset.forms]
    return data


@require_http_methods(["GET", "POST"])
def assessment_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = _patient(request, pk)
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    baseline = tumor_services.patient_baseline(patient)
    if baseline is None:
        messages.info(request, _("Record the baseline assessment before any follow-up."))
        url = reverse("patients:assessment_baseline", args=[patient.pk])
        if request.GET.get("visit", "").isdecimal():
            url += f"?visit={request.GET['visit']}"
        return redirect(url)
    targets = _targets(patient)
    if request.method == "POST":
        form = FollowupForm(request.POST, patient=patient)
        formset = MeasurementFormSetClass(request.POST, prefix="measurements", targets=targets)
        if _valid(form, formset):
            try:
                assessment = tumor_services.assessment_record_followup(
                    patient=patient, acting_user=request.user, **_followup_call(form, formset)
                )
            except ValidationError as exc:
                _apply_row_errors(form, formset.forms, exc, "measurements")
            else:
                messages.success(request, _("Follow-up assessment recorded."))
                return redirect("patients:assessment_detail", pk=assessment.pk)
        else:
            _add_missing_followup_errors(patient, form, formset)
    else:
        initial: dict[str, Any] = {
            "method": baseline.method,
            "new_lesions": TumorAssessment.NewLesions.NONE,
        }
        visit_id = request.GET.get("visit", "")
        if visit_id.isdecimal():
            visit = Visit.objects.filter(patient=patient, pk=int(visit_id)).first()
            if visit is not None:
                initial["visit"] = visit
                if visit.actual_date:
                    initial["assessment_date"] = visit.actual_date
        if not any(not les.target for les in patient.lesions.all()):
            initial["non_target_status"] = TumorAssessment.NonTarget.NONE
        form = FollowupForm(initial=initial, patient=patient)
        formset = MeasurementFormSetClass(prefix="measurements", targets=targets)
    return render(
        request,
        "patients/assessment_followup_form.html",
        {
            "form": form,
            "formset": formset,
            "patient": patient,
            "baseline": baseline,
            "title": _("Follow-up tumour assessment of %(subject)s")
            % {"subject": patient.subject_id},
        },
    )


def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk)
    patient = assessment.patient
    overview = response_overview(patient)
    row = overview.row_for(assessment)
    lesions = list(patient.lesions.order_by("code"))
    measurements = {m.lesion_id: m for m in row.assessment.measurements.all()} if row else {}
    lesion_rows = [
        {"lesion": lesion, "measurement": measurements.get(lesion.pk)}
        for lesion in lesions
        if assessment.is_baseline or lesion.target
    ]
    return render(
        request,
        "patients/assessment_detail.html",
        {
            "assessment": assessment,
            "patient": patient,
            "overview": overview,
            "row": row,
            "lesion_rows": lesion_rows,
            "non_targets": [les for les in lesions if not les.target],
            "can_enter": has_perm(
                request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site
            ),
        },
    )


@require_http_methods(["GET", "POST"])
def assessment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk)
    patient = assessment.patient
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    if assessment.is_baseline:
        return _edit_baseline(request, assessment, patient)
    return _edit_followup(request, assessment, patient)


def _edit_baseline(
    request: HttpRequest, assessment: TumorAssessment, patient: Patient
) -> HttpResponse:
    lesions = list(patient.lesions.order_by("code"))
    if request.method == "POST":
        form = BaselineForm(request.POST, patient=patient, editing=True)
        formset = LesionEditFormSet(request.POST, prefix="lesions", initial=lesion_initial(lesions))
        if _valid(form, formset):
            rows, row_forms = _lesion_rows(formset)
            try:
                tumor_services.assessment_update(
                    assessment=assessment,
                    acting_user=request.user,
                    reason=form.cleaned_data["reason"],
                    assessment_date=form.cleaned_data["assessment_date"],
                    method=form.cleaned_data["method"],
                    visit=form.cleaned_data["visit"],
                    clear_visit=form.cleaned_data["visit"] is None,
                    notes=form.cleaned_data["notes"],
                    lesions=rows,
                )
            except ValidationError as exc:
                _apply_row_errors(form, row_forms, exc, "lesions")
            else:
                messages.success(request, _("Changes saved."))
                return redirect("patients:assessment_detail", pk=assessment.pk)
    else:
        form = BaselineForm(
            initial={
                "assessment_date": assessment.assessment_date,
                "method": assessment.method,
                "visit": assessment.visit,
                "notes": assessment.notes,
            },
            patient=patient,
            editing=True,
        )
        formset = LesionEditFormSet(prefix="lesions", initial=lesion_initial(lesions))
    return render(
        request,
        "patients/assessment_baseline_form.html",
        _baseline_context(
            form=form,
            formset=formset,
            patient=patient,
            assessment=assessment,
            enrolled=True,
            editing=True,
            title=_("Correct the baseline assessment of %(subject)s")
            % {"subject": patient.subject_id},
        ),
    )


def _edit_followup(
    request: HttpRequest, assessment: TumorAssessment, patient: Patient
) -> HttpResponse:
    targets = _targets(patient)
    if request.method == "POST":
        form = FollowupForm(request.POST, patient=patient, editing=True)
        formset = MeasurementFormSetClass(request.POST, prefix="measurements", targets=targets)
        if _valid(form, formset):
            data = _followup_call(form, formset)
            try:
                tumor_services.assessment_update(
                    assessment=assessment,
                    acting_user=request.user,
                    reason=form.cleaned_data["reason"],
                    clear_visit=data["visit"] is None,
                    **data,
                )
            except ValidationError as exc:
                _apply_row_errors(form, formset.forms, exc, "measurements")
            else:
                messages.success(request, _("Changes saved."))
                return redirect("patients:assessment_detail", pk=assessment.pk)
    else:
        form = FollowupForm(
            initial={
                "assessment_date": assessment.assessment_date,
                "method": assessment.method,
                "visit": assessment.visit,
                "notes": assessment.notes,
                "non_target_status": assessment.non_target_status,
                "new_lesions": assessment.new_lesions,
                "new_lesions_increased": assessment.new_lesions_increased,
                "nontarget_increased": assessment.nontarget_increased,
                "recorded_response": assessment.recorded_response,
                "recorded_response_source": assessment.recorded_response_source,
            },
            patient=patient,
            editing=True,
        )
        formset = MeasurementFormSetClass(
            prefix="measurements",
            targets=targets,
            initial=measurement_initial(
                targets, list(assessment.measurements.select_related("merged_into"))
            ),
        )
    return render(
        request,
        "patients/assessment_followup_form.html",
        {
            "form": form,
            "formset": formset,
            "patient": patient,
            "assessment": assessment,
            "editing": True,
            "title": _("Correct the follow-up assessment of %(date)s")
            % {"date": assessment.assessment_date.isoformat()},
        },
    )
