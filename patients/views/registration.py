from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from audit.models import AccessLog
from sites.mixins import get_visible_or_404, require_perm
from sites.models import TrialSite
from sites.roles import Perm
from sites.scoping import has_perm
from ui.form_errors import apply_errors

from .. import selectors, services
from ..forms import DocumentLookupForm, EditPatientForm, PatientFilterForm, RegisterPatientForm
from ..models import Patient
from ..selectors_screening import permit_ends_before_followup


def patient_list(request: HttpRequest) -> HttpResponse:
    """The patient list (GET filters: subject id, status, site...) and, by POST, the
    look-up by identity document for roles that may see identity."""
    trial_sites = TrialSite.objects.visible_to(request.user).select_related("trial", "site")
    may_look_up = selectors.may_look_up_identity(request.user)
    lookup_form = DocumentLookupForm(request.POST or None) if may_look_up else None
    found = None
    if request.method == "POST":
        if not may_look_up:
            raise PermissionDenied(_("Your role sees pseudonymised data: search by subject id."))
        if lookup_form.is_valid():
            found = list(
                selectors.patient_find_by_document(
                    user=request.user, document_number=lookup_form.cleaned_data["document_number"]
                )
            )
    form = PatientFilterForm(request.GET or None, trial_sites=trial_sites)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = selectors.patient_list(user=request.user, filters=filters)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "patients/list.html",
        {
            "form": form,
            "lookup_form": lookup_form,
            "found": found,
            "page": page,
            "querystring": query.urlencode(),
            "can_register": selectors.registrable_trial_sites(user=request.user).exists(),
        },
    )


def _warn_permit(request: HttpRequest, patient: Patient) -> None:
    """A residence permit that ends before the planned follow-up is accepted (it may be
    renewed) but said plainly."""
    end = permit_ends_before_followup(patient)
    if end is not None:
        messages.warning(
            request,
            _(
                "The residence permit ends %(expiry)s, before the planned follow-up ends "
                "(%(end)s): visits after that date cannot take place unless the permit is "
                "renewed."
            )
            % {"expiry": patient.residence_permit_expiry.isoformat(), "end": end.isoformat()},
        )


def patient_register(request: HttpRequest) -> HttpResponse:
    trial_sites = selectors.registrable_trial_sites(user=request.user)
    if not trial_sites.exists():
        raise PermissionDenied
    show_confirm = False
    if request.method == "POST":
        form = RegisterPatientForm(request.POST, trial_sites=trial_sites)
        if form.is_valid():
            try:
                patient = services.patient_register(
                    trial_site=form.cleaned_data["trial_site"],
                    acting_user=request.user,
                    confirm_duplicate=form.cleaned_data["confirm_duplicate"],
                    **form.service_data(),
                )
            except services.PossibleDuplicate as exc:
                show_confirm = True
                apply_errors(form, exc)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Patient registered as %(subject)s.") % {"subject": patient.subject_id},
                )
                _warn_permit(request, patient)
                return redirect("patients:detail", pk=patient.pk)
    else:
        form = RegisterPatientForm(trial_sites=trial_sites)
    form.show_confirm = show_confirm
    return render(
        request,
        "patients/form.html",
        {"form": form, "title": _("Register a patient"), "show_confirm": show_confirm},
    )


def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_or_404(Patient, request.user, pk=pk)
    AccessLog.record(event=AccessLog.Event.VIEW, request=request, obj=patient)
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "show_identity": patient.identity_visible_to(request.user),
            "can_edit": has_perm(request.user, Perm.EDIT_PATIENT, trial_site=patient.trial_site),
        },
    )


def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_or_404(Patient, request.user, pk=pk)
    require_perm(request.user, Perm.EDIT_PATIENT, trial_site=patient.trial_site)
    show_confirm = False
    if request.method == "POST":
        form = EditPatientForm(
            request.POST, instance=get_visible_or_404(Patient, request.user, pk=patient.pk)
        )
        if form.is_valid():
            try:
                services.patient_update(
                    patient=patient,
                    acting_user=request.user,
                    reason=form.cleaned_data["reason"],
                    confirm_duplicate=form.cleaned_data["confirm_duplicate"],
                    **form.service_data(),
                )
            except services.PossibleDuplicate as exc:
                show_confirm = True
                apply_errors(form, exc)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                _warn_permit(request, Patient.objects.get(pk=patient.pk))
                return redirect("patients:detail", pk=patient.pk)
    else:
        form = EditPatientForm(instance=patient)
    form.show_confirm = show_confirm
    return render(
        request,
        "patients/form.html",
        {
            "form": form,
            "patient": patient,
            "show_confirm": show_confirm,
            "title": _("Edit %(subject)s") % {"subject": patient.subject_id},
        },
    )
