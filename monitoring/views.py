"""Monitoring pages: query list / detail / raise, aging report, the record panel (SDV,
signatures, queries of one record), casebook signing, SDV to-do, locks, run checks."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from patients.models import Patient
from sites.mixins import get_visible_or_404
from sites.models import TrialSite
from sites.roles import Perm
from sites.scoping import has_perm
from trials.models import Trial
from ui.form_errors import apply_errors

from . import selectors, services
from .forms import (
    LockForm,
    QueryAnswerForm,
    QueryFilterForm,
    QueryRaiseForm,
    QueryStepForm,
    ReasonForm,
    SecondFactorForm,
    SignForm,
    VerifyForm,
)
from .models import DataQuery, Lock, Signature
from .services.common import context_for, resolve_record
from .targets import data_fields


def _field_choices(record: Any) -> list[tuple[str, str]]:
    model = type(record)
    names = set(data_fields(model))
    return [
        (f.attname, str(f.verbose_name).capitalize())
        for f in model._meta.concrete_fields
        if f.attname in names and not f.attname.endswith("_hash")
    ]


def _record_from_request(request: HttpRequest) -> Any:
    source = request.POST if request.method == "POST" else request.GET
    try:
        return resolve_record(
            form=source.get("form"), object_id=source.get("id"), user=request.user
        )
    except ValidationError as exc:
        raise Http404 from exc


def _panel_url(form: str, pk: int) -> str:
    return f"{reverse('monitoring:record')}?form={form}&id={pk}"


def query_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    trial_sites = TrialSite.objects.visible_to(user).select_related("site").order_by("site__code")
    form = QueryFilterForm(
        request.GET or None, trial_sites=trial_sites, form_choices=selectors.form_choices()
    )
    filters: dict[str, Any] = {"status": "unresolved"} if not request.GET else {}
    if form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
        if filters.get("trial_site"):
            filters["trial_site"] = filters["trial_site"].pk
    patient = request.GET.get("patient")
    if patient and patient.isdigit():
        filters["patient"] = int(patient)
    queries = selectors.queries_for(user, filters)
    return render(
        request,
        "monitoring/query_list.html",
        {
            "form": form,
            "queries": queries[:200],
            "count": queries.count(),
            "aging": selectors.aging_report(user),
        },
    )


def query_detail(request: HttpRequest, pk: int) -> HttpResponse:
    query = get_visible_or_404(DataQuery, request.user, pk=pk)
    user = request.user
    can_answer = has_perm(user, Perm.ANSWER_QUERY, trial_site=query.trial_site)
    can_manage = has_perm(user, Perm.RAISE_QUERY, trial_site=query.trial_site)
    answer_form = QueryAnswerForm(prefix="answer")
    step_form = QueryStepForm(prefix="step")
    if request.method == "POST":
        try:
            if "answer-text" in request.POST:
                if not can_answer:
                    raise PermissionDenied
                answer_form = QueryAnswerForm(request.POST, prefix="answer")
                if answer_form.is_valid():
                    data = answer_form.cleaned_data
                    services.query_answer(
                        query=query,
                        text=data["text"],
                        correct=data["correct"],
                        corrected_value=data["corrected_value"],
                        acting_user=user,
                    )
                    messages.success(request, _("Answer recorded."))
                    return redirect("monitoring:query", pk=query.pk)
            else:
                if not can_manage:
                    raise PermissionDenied
                step_form = QueryStepForm(request.POST, prefix="step")
                if step_form.is_valid():
                    step = step_form.cleaned_data["step"]
                    service = {
                        "close": services.query_close,
                        "cancel": services.query_cancel,
                        "reopen": services.query_reopen,
                    }[step]
                    service(query=query, text=step_form.cleaned_data["text"], acting_user=user)
                    messages.success(request, _("Query updated."))
                    return redirect("monitoring:query", pk=query.pk)
        except ValidationError as exc:
            target_form = answer_form if "answer-text" in request.POST else step_form
            if not target_form.is_bound:
                target_form = type(target_form)(request.POST, prefix=target_form.prefix)
                target_form.is_valid()
            apply_errors(target_form, exc)
            if target_form.prefix == "answer":
                answer_form = target_form
            else:
                step_form = target_form
    query = DataQuery.objects.select_related("patient", "trial_site__site", "content_type").get(
        pk=query.pk
    )
    return render(
        request,
        "monitoring/query_detail.html",
        {
            "query": query,
            "thread": query.messages.order_by("at", "pk"),
            "answer_form": answer_form if can_answer and query.status == "open" else None,
            "step_form": step_form if can_manage else None,
            "panel_url": _panel_url(
                f"{query.content_type.app_label}.{query.content_type.model}", query.object_id
            ),
            "can_correct": bool(query.field_name),
        },
    )


@require_http_methods(["GET", "POST"])
def query_new(request: HttpRequest) -> HttpResponse:
    record = _record_from_request(request)
    ctx = context_for(record)
    if not has_perm(request.user, Perm.RAISE_QUERY, trial_site=ctx.trial_site):
        raise PermissionDenied
    choices = _field_choices(record)
    initial = {"field_name": request.GET.get("field", "")}
    form = QueryRaiseForm(request.POST or None, field_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            query = services.query_raise(
                record=record,
                field_name=form.cleaned_data["field_name"],
                text=form.cleaned_data["text"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Query Q-%(id)d raised.") % {"id": query.pk})
            return redirect(_panel_url(ctx.target.label, record.pk))
    return render(
        request,
        "monitoring/query_new.html",
        {"form": form, "record": record, "patient": ctx.patient, "form_label": ctx.target.label},
    )


@require_http_methods(["GET", "POST"])
def record_panel(request: HttpRequest) -> HttpResponse:
    record = _record_from_request(request)
    ctx = context_for(record)
    user = request.user
    can_verify = has_perm(user, Perm.VERIFY_SOURCE, trial_site=ctx.trial_site)
    can_sign = ctx.target.signable and has_perm(user, Perm.SIGN_OFF, trial_site=ctx.trial_site)
    verify_form = VerifyForm(prefix="verify", field_choices=_field_choices(record))
    sign_form = SignForm(prefix="sign")
    if request.method == "POST":
        try:
            if request.POST.get("action") == "verify":
                if not can_verify:
                    raise PermissionDenied
                verify_form = VerifyForm(
                    request.POST, prefix="verify", field_choices=_field_choices(record)
                )
                if verify_form.is_valid():
                    services.sdv_verify(
                        record=record, fields=verify_form.cleaned_data["fields_"], acting_user=user
                    )
                    messages.success(request, _("Marked as verified against the source."))
                    return redirect(_panel_url(ctx.target.label, record.pk))
            elif request.POST.get("action") == "sign":
                if not can_sign:
                    raise PermissionDenied
                sign_form = SignForm(request.POST, prefix="sign")
                if sign_form.is_valid():
                    services.signature_sign(
                        record=record,
                        level=Signature.Level.RECORD,
                        meaning=sign_form.cleaned_data["meaning"],
                        username_entered=sign_form.cleaned_data["username"],
                        password=sign_form.cleaned_data["password"],
                        acting_user=user,
                        otp_token=sign_form.cleaned_data.get("otp_token", ""),
                    )
                    messages.success(request, _("Signed."))
                    return redirect(_panel_url(ctx.target.label, record.pk))
        except ValidationError as exc:
            apply_errors(sign_form if request.POST.get("action") == "sign" else verify_form, exc)
    return render(
        request,
        "monitoring/record_panel.html",
        {
            "record": record,
            "patient": ctx.patient,
            "form_label": ctx.target.label,
            "form_name": record._meta.verbose_name,
            "queries": selectors.record_queries(record),
            "verification": selectors.verification_of(record),
            "signatures": selectors.signatures_of(record),
            "locks": selectors.locks_on_patient(ctx.patient),
            "can_raise": has_perm(user, Perm.RAISE_QUERY, trial_site=ctx.trial_site),
            "can_verify": can_verify,
            "can_sign": can_sign,
            "verify_form": verify_form,
            "sign_form": sign_form,
            "fields": _field_choices(record),
        },
    )


@require_http_methods(["GET", "POST"])
def casebook_sign(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_or_404(Patient, request.user, pk=pk)
    if not has_perm(request.user, Perm.SIGN_OFF, trial_site=patient.trial_site):
        raise PermissionDenied
    form = SignForm(request.POST or None, initial={"meaning": Signature.Meaning.APPROVED})
    if request.method == "POST" and form.is_valid():
        try:
            services.signature_sign(
                record=patient,
                level=Signature.Level.CASEBOOK,
                meaning=form.cleaned_data["meaning"],
                username_entered=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                acting_user=request.user,
                otp_token=form.cleaned_data.get("otp_token", ""),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Casebook signed."))
            return redirect("patients:detail", pk=patient.pk)
    return render(
        request,
        "monitoring/casebook_sign.html",
        {
            "form": form,
            "patient": patient,
            "signatures": selectors.signatures_of(patient),
            "open_queries": DataQuery.objects.filter(
                patient=patient, status__in=DataQuery.UNRESOLVED
            ),
        },
    )


def sdv_overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    trials = Trial.objects.visible_to(user).order_by("protocol_code")
    trial = None
    trial_id = request.GET.get("trial")
    if trial_id and trial_id.isdigit():
        trial = trials.filter(pk=int(trial_id)).first()
    trial = trial or trials.first()
    site = request.GET.get("trial_site")
    overview = (
        selectors.sdv_overview(
            user, trial, trial_site_id=int(site) if site and site.isdigit() else None
        )
        if trial
        else None
    )
    return render(
        request, "monitoring/sdv.html", {"trials": trials, "trial": trial, "overview": overview}
    )


@require_http_methods(["GET", "POST"])
def lock_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    trials = Trial.objects.visible_to(user).order_by("protocol_code")
    trial_id = request.GET.get("trial") or request.POST.get("trial")
    trial = (
        trials.filter(pk=int(trial_id)).first()
        if trial_id and str(trial_id).isdigit()
        else trials.first()
    )
    can_lock = has_perm(user, Perm.LOCK_DATA)
    trial_sites = (
        TrialSite.objects.visible_to(user)
        .filter(trial=trial)
        .select_related("site")
        .order_by("site__code")
    )
    form = LockForm(request.POST or None, trial_sites=trial_sites)
    problems = None
    if request.method == "POST":
        if not can_lock or trial is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            patient = None
            if data["subject_id"]:
                patient = (
                    Patient.objects.visible_to(user)
                    .filter(subject_id=data["subject_id"].strip(), trial_site__trial=trial)
                    .first()
                )
                if patient is None:
                    form.add_error("subject_id", _("No such patient in this trial."))
            if form.is_valid():
                try:
                    lock = services.lock_create(
                        trial=trial,
                        level=data["level"],
                        mode=data["mode"],
                        trial_site=data["trial_site"],
                        patient=patient,
                        label=data["label"],
                        reason=data["reason"],
                        acting_user=user,
                    )
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(
                        request, _("%(lock)s is in force.") % {"lock": lock.describe()}
                    )
                    return redirect(f"{reverse('monitoring:locks')}?trial={trial.pk}")
    locks = (
        Lock.objects.visible_to(user)
        .filter(trial=trial)
        .select_related("trial", "trial_site__site", "patient")
    )
    if trial is not None and can_lock and request.method == "GET":
        problems = services.lock_problems(trial=trial)
    return render(
        request,
        "monitoring/locks.html",
        {
            "trials": trials,
            "trial": trial,
            "locks": locks[:200],
            "form": form if can_lock else None,
            "problems": problems,
        },
    )


@require_http_methods(["GET", "POST"])
def lock_release(request: HttpRequest, pk: int) -> HttpResponse:
    lock = get_visible_or_404(Lock, request.user, pk=pk)
    if not has_perm(request.user, Perm.LOCK_DATA):
        raise PermissionDenied
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.lock_release(
                lock=lock, reason=form.cleaned_data["reason"], acting_user=request.user
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Unlocked."))
            return redirect(f"{reverse('monitoring:locks')}?trial={lock.trial_id}")
    return render(request, "monitoring/lock_release.html", {"form": form, "lock": lock})


@require_POST
def run_checks(request: HttpRequest, pk: int) -> HttpResponse:
    trial = get_visible_or_404(Trial, request.user, pk=pk)
    if not has_perm(request.user, Perm.RAISE_QUERY, trial=trial):
        raise PermissionDenied
    from .tasks import run_edit_checks

    run_edit_checks.delay(trial.pk, request.user.pk)
    messages.success(request, _("Edit checks are running over the whole trial."))
    return redirect("monitoring:queries")


def _require_signing_role(user: Any) -> None:
    if not has_perm(user, Perm.SIGN_OFF):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """Enrol (or replace) the authenticator app of the signature second factor."""
    from . import second_factor as otp

    _require_signing_role(request.user)
    device = otp.confirmed_device(request.user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            otp.device_confirm(user=request.user, token=form.cleaned_data["token"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Authenticator app enrolled."))
            return redirect("monitoring:second_factor")
    pending = otp.pending_device(request.user)
    return render(
        request,
        "monitoring/second_factor.html",
        {
            "device": device,
            "secret": otp.secret_base32(pending),
            "form": form,
            "required": otp.second_factor_required(),
        },
    )


def second_factor_qr(request: HttpRequest) -> HttpResponse:
    """The pending device's ``otpauth://`` URI as an SVG QR code (drawn here, no CDN)."""
    from . import second_factor as otp

    _require_signing_role(request.user)
    response = HttpResponse(
        otp.qr_svg(otp.pending_device(request.user)), content_type="image/svg+xml"
    )
    response["Cache-Control"] = "no-store"
    return response
