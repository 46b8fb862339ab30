"""The coordinator's referral inbox (login required, scoped like every staff page)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from audit.models import AccessLog
from patients.forms import PatientForm
from patients.services import PossibleDuplicate
from sites.mixins import get_visible_or_404
from sites.roles import Perm
from sites.scoping import has_perm
from ui.form_errors import apply_errors

from . import selectors, services
from .forms import CapacityForm, DeclineForm, ProposeForm
from .models import Referral, SiteClinic

STATUS_FILTERS = ("open", *Referral.Status.values)


def inbox(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    if status not in STATUS_FILTERS and status != "all":
        status = "open"
    referrals = selectors.inbox(user=request.user, status=None if status == "all" else status)
    referrals = list(referrals[:200])
    identity = {
        r.pk: has_perm(request.user, Perm.VIEW_IDENTITY, trial_site=r.trial_site) for r in referrals
    }
    clinics = [
        (
            c,
            CapacityForm(
                initial={"daily_capacity": c.daily_capacity, "weeks_ahead": c.weeks_ahead}
            ),
        )
        for c in SiteClinic.objects.visible_to(request.user)
        .select_related("trial_site__site", "trial_site__trial")
        .order_by("trial_site__pk")
        if has_perm(request.user, Perm.REGISTER_PATIENT, trial_site=c.trial_site)
    ]
    return render(
        request,
        "recruiting/inbox.html",
        {
            "clinics": clinics,
            "referrals": [(r, identity[r.pk]) for r in referrals],
            "status": status,
            "filters": [("open", _("Open")), *Referral.Status.choices, ("all", _("All"))],
        },
    )


def _referral(request: HttpRequest, pk: int) -> Referral:
    return get_visible_or_404(Referral, request.user, pk=pk)


class _NotPost(Exception):
    pass


def _posted(request: HttpRequest, pk: int) -> Referral:
    """The referral for an action: another site's is a 404 before anything else."""
    referral = _referral(request, pk)
    if request.method != "POST":
        raise _NotPost
    return referral


def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _referral(request, pk)
    show_identity = has_perm(request.user, Perm.VIEW_IDENTITY, trial_site=referral.trial_site)
    if show_identity:
        AccessLog.record(event=AccessLog.Event.VIEW, request=request, obj=referral)
    clinic = (
        SiteClinic.objects.filter(trial_site=referral.trial_site)
        .select_related("trial_site__site")
        .first()
    )
    days = selectors.clinic_days([clinic])[clinic.pk] if clinic else []
    return render(
        request,
        "recruiting/referral_detail.html",
        {
            "referral": referral,
            "show_identity": show_identity,
            "can_act": has_perm(
                request.user, Perm.REGISTER_PATIENT, trial_site=referral.trial_site
            ),
            "propose_form": ProposeForm(),
            "decline_form": DeclineForm(),
            "days": days,
        },
    )


def _act(request: HttpRequest, referral: Referral, call: object, done: str) -> HttpResponse:
    try:
        call()  # type: ignore[operator]
    except PermissionDenied:
        raise
    except ValidationError as exc:
        for messages_ in exc.message_dict.values():
            for m in messages_:
                messages.error(request, m)
    else:
        messages.success(request, done)
    return redirect("recruiting:referral", pk=referral.pk)


def referral_accept(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        referral = _posted(request, pk)
    except _NotPost:
        return HttpResponseNotAllowed(["POST"])
    return _act(
        request,
        referral,
        lambda: services.referral_accept(referral=referral, acting_user=request.user),
        _("Appointment confirmed; the person has been emailed."),
    )


def referral_propose(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        referral = _posted(request, pk)
    except _NotPost:
        return HttpResponseNotAllowed(["POST"])
    form = ProposeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for m in errors:
                messages.error(request, m)
        return redirect("recruiting:referral", pk=referral.pk)
    return _act(
        request,
        referral,
        lambda: services.referral_propose(
            referral=referral,
            day=form.cleaned_data["day"],
            acting_user=request.user,
            reason=form.cleaned_data["reason"],
        ),
        _("Another day proposed; the person has been emailed."),
    )


def referral_decline(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        referral = _posted(request, pk)
    except _NotPost:
        return HttpResponseNotAllowed(["POST"])
    form = DeclineForm(request.POST)
    reason = form.data.get("reason", "")
    return _act(
        request,
        referral,
        lambda: services.referral_decline(
            referral=referral, acting_user=request.user, reason=reason
        ),
        _("Referral declined; the person has been told the reason."),
    )


def referral_register(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _referral(request, pk)
    if not has_perm(request.user, Perm.REGISTER_PATIENT, trial_site=referral.trial_site):
        raise PermissionDenied
    show_confirm = False
    if request.method == "POST":
        form = PatientForm(request.POST)
        if form.is_valid():
            try:
                patient = services.referral_register_patient(
                    referral=referral,
                    acting_user=request.user,
                    confirm_duplicate=form.cleaned_data["confirm_duplicate"],
                    **form.service_data(),
                )
            except PossibleDuplicate as exc:
                show_confirm = True
                apply_errors(form, exc)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Patient registered as %(subject)s.") % {"subject": patient.subject_id},
                )
                return redirect("patients:detail", pk=patient.pk)
    else:
        form = PatientForm(initial=services.referral_prefill(referral))
    return render(
        request,
        "recruiting/register.html",
        {"form": form, "referral": referral, "show_confirm": show_confirm},
    )


def clinic_capacity(request: HttpRequest, pk: int) -> HttpResponse:
    clinic = get_visible_or_404(SiteClinic, request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = CapacityForm(request.POST)
    if form.is_valid():
        try:
            services.clinic_set_capacity(
                clinic=clinic,
                daily_capacity=form.cleaned_data["daily_capacity"],
                weeks_ahead=form.cleaned_data["weeks_ahead"],
                acting_user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            for messages_ in exc.message_dict.values():
                for m in messages_:
                    messages.error(request, m)
        else:
            messages.success(request, _("Clinic capacity saved."))
    else:
        for errors in form.errors.values():
            for m in errors:
                messages.error(request, m)
    return redirect("recruiting:inbox")
