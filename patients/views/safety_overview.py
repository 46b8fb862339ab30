"""The safety page: open serious adverse events by reporting deadline, recording a sent
report or the expectedness assessment, and adverse-event incidence by grade per arm."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from domain import safety as rules
from sites.mixins import get_visible_or_404
from trials.models import Trial
from ui.form_errors import apply_errors

from ..forms_safety import ExpectednessForm, SaeReportForm, SafetyFilterForm
from ..models import AdverseEvent
from ..selectors_safety import ae_by_soc_and_term, ae_incidence, open_saes
from ..services import sae as sae_services


def _describe(deadline: rules.Deadline, now) -> str:  # noqa: ANN001 - a datetime
    if deadline.overdue:
        return _("overdue by %(t)s") % {"t": timesince(deadline.due, now)}
    return _("%(t)s left") % {"t": timeuntil(deadline.due, now)}


def safety_overview(request: HttpRequest) -> HttpResponse:
    trials = Trial.objects.visible_to(request.user).order_by("protocol_code")
    form = SafetyFilterForm(request.GET or None, trials=trials)
    trial = form.cleaned_data.get("trial") if form.is_bound and form.is_valid() else None
    trial = trial or trials.first()
    now = timezone.now()
    rows = open_saes(user=request.user, trial=trial, now=now) if trial else []
    for row in rows:
        row.deadline_rows = [
            {
                "report": d.report,
                "label": _("Initial report") if d.report == rules.INITIAL else _("SUSAR report"),
                "due": d.due,
                "overdue": d.overdue,
                "text": _describe(d, now),
            }
            for d in row.deadlines
        ]
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "patients/safety_overview.html",
        {
            "form": form,
            "trial": trial,
            "page": page,
            "querystring": query.urlencode(),
            "overdue_count": sum(1 for r in rows if r.nearest and r.nearest.overdue),
            "incidence": ae_incidence(user=request.user, trial=trial) if trial else None,
            "by_soc": ae_by_soc_and_term(user=request.user, trial=trial) if trial else None,
            "grades": range(1, 6),
        },
    )


def _event(request: HttpRequest, pk: int) -> AdverseEvent:
    return get_visible_or_404(
        AdverseEvent.objects.select_related(
            "patient__trial_site__site", "patient__trial_site__trial"
        ),
        request.user,
        pk=pk,
    )


@require_http_methods(["GET", "POST"])
def sae_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Record when the initial or SUSAR report of a serious event was sent."""
    event = _event(request, pk)
    allowed = [r for r in rules.REPORTS if sae_services.may_record_report(request.user, event, r)]
    if not allowed:
        raise PermissionDenied
    reports = [r for r in allowed if r != rules.SUSAR or event.susar]
    if request.method == "POST":
        form = SaeReportForm(request.POST, reports=reports)
        if form.is_valid():
            try:
                sae_services.sae_mark_reported(
                    adverse_event=event,
                    acting_user=request.user,
                    report=form.cleaned_data["report"],
                    reported_at=form.cleaned_data["reported_at"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Report time recorded."))
                return redirect("patients:safety")
    else:
        report = request.GET.get("report")
        form = SaeReportForm(
            initial={
                "report": report if report in reports else reports[0],
                "reported_at": timezone.localtime().replace(second=0, microsecond=0),
            },
            reports=reports,
        )
    return render(
        request,
        "patients/sae_action_form.html",
        {"form": form, "event": event, "title": _("Record a sent report")},
    )


@require_http_methods(["GET", "POST"])
def sae_expectedness(request: HttpRequest, pk: int) -> HttpResponse:
    """Record whether the event is expected per the reference safety information."""
    event = _event(request, pk)
    if not sae_services.may_record_report(request.user, event, rules.INITIAL):
        raise PermissionDenied
    if request.method == "POST":
        form = ExpectednessForm(request.POST)
        if form.is_valid():
            try:
                sae_services.adverse_event_set_expectedness(
                    adverse_event=event,
                    acting_user=request.user,
                    expected=form.cleaned_data["expected"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Expectedness recorded."))
                return redirect("patients:safety")
    else:
        initial = {} if event.expected is None else {"expected": "yes" if event.expected else "no"}
        form = ExpectednessForm(initial=initial)
    return render(
        request,
        "patients/sae_action_form.html",
        {"form": form, "event": event, "title": _("Assess expectedness")},
    )
