"""Adverse event pages: record (at a visit or any time), list, detail, correct."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from access import blinding
from audit.models import AccessLog
from sites.mixins import get_visible_or_404, require_perm
from sites.models import TrialSite
from sites.roles import Perm
from sites.scoping import has_perm
from ui.form_errors import add_missing_errors, apply_errors

from ..forms_visits import AdverseEventFilterForm, AdverseEventForm
from ..models import AdverseEvent, Patient, Visit
from ..selectors_ctcae import ae_form_context
from ..selectors_visits import adverse_event_list
from ..services import safety


def _visits_for(patient: Patient):  # noqa: ANN202 - a queryset of the patient's visits
    return (
        Visit.objects.filter(patient=patient)
        .exclude(status=Visit.Status.CANCELLED)
        .select_related("definition", "patient")
        .order_by("scheduled_date", "pk")
    )


def _names_masked(user: object, patient: Patient) -> bool:
    """In a blinded trial the arm's interventions would reveal the allocation: users who
    may not see the arm get numbered "study treatments" instead of names."""
    return blinding.treatment_names_masked(user, patient)


def ae_list(request: HttpRequest) -> HttpResponse:
    trial_sites = TrialSite.objects.visible_to(request.user).select_related("trial", "site")
    form = AdverseEventFilterForm(request.GET or None, trial_sites=trial_sites)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = adverse_event_list(user=request.user, filters=filters)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "patients/ae_list.html",
        {"form": form, "page": page, "querystring": query.urlencode()},
    )


def ae_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_visible_or_404(
        AdverseEvent.objects.select_related("patient__trial_site__site", "visit__definition"),
        request.user,
        pk=pk,
    )
    AccessLog.record(event=AccessLog.Event.VIEW, request=request, obj=event)
    criteria = dict(AdverseEvent.SeriousCriterion.choices)
    masked = _names_masked(request.user, event.patient)
    causality = list(
        event.causality.select_related("intervention").order_by("intervention__name", "pk")
    )
    for n, row in enumerate(causality, start=1):
        row.label = (
            _("Study treatment %(n)s") % {"n": n} if masked else row.intervention.display_name
        )
    return render(
        request,
        "patients/ae_detail.html",
        {
            "event": event,
            "patient": event.patient,
            "criteria": [criteria.get(c, c) for c in event.serious_criteria],
            "causality": causality,
            "can_enter": has_perm(
                request.user, Perm.ENTER_CLINICAL_DATA, trial_site=event.patient.trial_site
            ),
        },
    )


@require_http_methods(["GET", "POST"])
def ae_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_or_404(Patient, request.user, pk=pk)
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    visits = _visits_for(patient)
    interventions = safety.ae_interventions(patient)
    masked = _names_masked(request.user, patient)
    if request.method == "POST":
        form = AdverseEventForm(
            request.POST, interventions=interventions, visits=visits, mask_names=masked
        )
        if form.is_valid():
            try:
                event = safety.adverse_event_record(
                    patient=patient, acting_user=request.user, **form.service_data()
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Adverse event recorded."))
                return redirect("patients:ae_detail", pk=event.pk)
        else:
            add_missing_errors(form, form.rule_errors(patient))
    else:
        initial = {}
        visit_id = request.GET.get("visit", "")
        visit = visits.filter(pk=visit_id).first() if visit_id.isdecimal() else None
        if visit is not None:
            initial["visit"] = visit.pk
            if visit.actual_date:
                initial["onset_date"] = visit.actual_date
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
            "enrolled": safety.patient_enrollment(patient) is not None,
        },
    )


@require_http_methods(["GET", "POST"])
def ae_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_visible_or_404(AdverseEvent, request.user, pk=pk)
    patient = event.patient
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    visits = _visits_for(patient)
    interventions = safety.ae_interventions(patient)
    masked = _names_masked(request.user, patient)
    if request.method == "POST":
        form = AdverseEventForm(
            request.POST,
            interventions=interventions,
            visits=visits,
            editing=True,
            mask_names=masked,
        )
        if form.is_valid():
            try:
                safety.adverse_event_update(
                    adverse_event=event,
                    acting_user=request.user,
                    reason=form.cleaned_data["reason"],
                    **form.service_data(),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("patients:ae_detail", pk=event.pk)
        else:
            add_missing_errors(form, form.rule_errors(patient))
    else:
        form = AdverseEventForm(
            initial=AdverseEventForm.initial_for(event),
            interventions=interventions,
            visits=visits,
            editing=True,
            mask_names=masked,
        )
    return render(
        request,
        "patients/ae_form.html",
        {**ae_form_context(), "form": form, "patient": patient, "event": event, "enrolled": True},
    )
