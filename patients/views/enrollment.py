"""Consent, enrollment and emergency unblinding pages: one service call each."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from access import blinding
from sites.mixins import get_visible_or_404, require_perm
from sites.roles import Perm
from trials.consent_documents import ConsentDocument
from ui.form_errors import apply_errors

from ..forms_enroll import (
    ConsentForm,
    ConsentWithdrawForm,
    EnrollForm,
    FirstTreatmentForm,
    UnblindForm,
)
from ..models import Consent, Enrollment, Patient
from ..services import consent as consent_services
from ..services import enrollment as enrollment_services
from ..services import unblinding as unblinding_services


def consent_create(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_or_404(Patient, request.user, pk=pk)
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    previous = (
        consent_services.current_consent(patient)
        if patient.status != Patient.Status.ELIGIBLE
        else None
    )
    if request.method == "POST":
        form = ConsentForm(request.POST, patient=patient)
        if form.is_valid():
            try:
                consent_services.consent_record(
                    patient=patient, acting_user=request.user, **form.service_data()
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Re-consent recorded.") if previous else _("Consent recorded."),
                )
                return redirect("patients:detail", pk=patient.pk)
    else:
        pending = consent_services.consent_needs_reconsent(patient)
        form = ConsentForm(
            patient=patient,
            initial={
                "consent_version": pending,
                "consented_at": timezone.localtime().replace(second=0, microsecond=0),
            },
        )
    return render(
        request,
        "patients/consent_form.html",
        {
            "form": form,
            "patient": patient,
            "previous": previous,
            "documents": ConsentDocument.objects.filter(
                consent_version__trial_id=patient.trial_site.trial_id
            )
            .select_related("consent_version")
            .order_by("consent_version__language", "-approved_on"),
            "title": (_("Re-consent of %(subject)s") if previous else _("Consent of %(subject)s"))
            % {"subject": patient.subject_id},
        },
    )


def consent_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    consent = get_visible_or_404(Consent, request.user, pk=pk)
    patient = consent.patient
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    if request.method == "POST":
        form = ConsentWithdrawForm(request.POST)
        if form.is_valid():
            try:
                consent_services.consent_withdraw(
                    consent=consent,
                    acting_user=request.user,
                    withdrawn_on=form.cleaned_data["withdrawn_on"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Withdrawal of consent recorded; data already collected is kept."),
                )
                return redirect("patients:detail", pk=patient.pk)
    else:
        form = ConsentWithdrawForm(initial={"withdrawn_on": consent_services.site_today(patient)})
    return render(
        request,
        "patients/consent_withdraw.html",
        {"form": form, "consent": consent, "patient": patient},
    )


def patient_enroll(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_or_404(
        Patient.objects.select_related("trial_site__site", "trial_site__trial"), request.user, pk=pk
    )
    require_perm(request.user, Perm.ENROLL, trial_site=patient.trial_site)
    if request.method == "POST":
        form = EnrollForm(request.POST)
        if form.is_valid():
            try:
                enrollment = enrollment_services.patient_enroll(
                    patient=patient,
                    acting_user=request.user,
                    enrolled_on=form.cleaned_data["enrolled_on"],
                    first_treatment_date=form.cleaned_data["first_treatment_date"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                if blinding.arm_visible_to(request.user, enrollment):
                    text = _("Enrolled as %(number)s: arm %(arm)s.") % {
                        "number": enrollment.randomization_number,
                        "arm": enrollment.arm,
                    }
                else:
                    text = _("Enrolled as %(number)s (blinded trial).") % {
                        "number": enrollment.randomization_number
                    }
                messages.success(request, text)
                return redirect("patients:detail", pk=patient.pk)
    else:
        form = EnrollForm(initial={"enrolled_on": consent_services.site_today(patient)})
    # Before the user fills anything in, say what would stand in the way.
    problems, plan = enrollment_services.enrollment_problems(patient=patient)
    trial_site = patient.trial_site
    return render(
        request,
        "patients/enroll_form.html",
        {
            "form": form,
            "patient": patient,
            "trial": trial_site.trial,
            "trial_site": trial_site,
            "problems": []
            if form.is_bound
            else [m for messages_ in problems.values() for m in messages_],
            "stratum": plan,
            "enrolled_count": Enrollment.objects.filter(patient__trial_site=trial_site).count(),
        },
    )


def enrollment_first_treatment(request: HttpRequest, pk: int) -> HttpResponse:
    enrollment = get_visible_or_404(Enrollment, request.user, pk=pk)
    patient = enrollment.patient
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    if request.method == "POST":
        form = FirstTreatmentForm(request.POST)
        if form.is_valid():
            try:
                enrollment_services.enrollment_set_first_treatment(
                    enrollment=enrollment,
                    acting_user=request.user,
                    first_treatment_date=form.cleaned_data["first_treatment_date"],
                    reason=form.cleaned_data["reason"] or None,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("First treatment date saved."))
                return redirect("patients:detail", pk=patient.pk)
    else:
        form = FirstTreatmentForm(initial={"first_treatment_date": enrollment.first_treatment_date})
    return render(
        request,
        "patients/first_treatment_form.html",
        {"form": form, "enrollment": enrollment, "patient": patient},
    )


def enrollment_unblind(request: HttpRequest, pk: int) -> HttpResponse:
    enrollment = get_visible_or_404(Enrollment, request.user, pk=pk)
    patient = enrollment.patient
    if not blinding.allocation_concealed(enrollment.trial):
        raise Http404
    require_perm(request.user, Perm.EMERGENCY_UNBLIND, trial_site=patient.trial_site)
    if request.method == "POST":
        form = UnblindForm(request.POST)
        if form.is_valid():
            try:
                unblinding_services.enrollment_unblind(
                    enrollment=enrollment,
                    acting_user=request.user,
                    password=form.cleaned_data["password"],
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.warning(
                    request,
                    _(
                        "%(subject)s is unblinded for you. The unblinding is logged and the "
                        "lead investigator notified."
                    )
                    % {"subject": patient.subject_id},
                )
                return redirect("patients:detail", pk=patient.pk)
    else:
        form = UnblindForm()
    return render(
        request,
        "patients/unblind_form.html",
        {"form": form, "enrollment": enrollment, "patient": patient},
    )
