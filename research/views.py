"""Research pages: cohorts (list, build, edit), a cohort's counts (suppressed for
aggregate roles) and own-center rows, its characterisation and survival, and the query
log data stewards review."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from sites.roles import Perm
from sites.scoping import has_perm, scope_for
from trials import svg_charts

from . import cohorts as svc
from . import queries
from .forms import EXAMPLE, CohortForm
from .models import Cohort, CohortQuery, ExtractFormat


def _may_use(user: Any) -> bool:
    return svc.may_query_aggregates(user) or has_perm(user, Perm.VIEW_REGISTRY)


def _cohort_or_404(user: Any, pk: int) -> Cohort:
    try:
        return Cohort.objects.visible_to(user).get(pk=pk)
    except Cohort.DoesNotExist as exc:
        raise Http404 from exc


def cohort_list(request: HttpRequest) -> HttpResponse:
    if not _may_use(request.user):
        raise PermissionDenied
    cohorts = Cohort.objects.visible_to(request.user).order_by("name", "id")
    return render(
        request,
        "research/cohort_list.html",
        {"cohorts": cohorts},
    )


def _save(request: HttpRequest, form: CohortForm, cohort: Cohort | None) -> Cohort | None:
    data = form.cleaned_data
    try:
        if cohort is None:
            return svc.cohort_create(
                name=data["name"],
                description=data["description"],
                criteria=data["criteria"],
                is_shared=data["is_shared"],
                acting_user=request.user,
            )
        return svc.cohort_update(
            cohort=cohort,
            acting_user=request.user,
            reason=data["reason"],
            name=data["name"],
            description=data["description"],
            criteria=data["criteria"],
            is_shared=data["is_shared"],
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    return None


def cohort_new(request: HttpRequest) -> HttpResponse:
    if not _may_use(request.user):
        raise PermissionDenied
    form = CohortForm(request.POST or None, initial={"criteria": EXAMPLE})
    if request.method == "POST" and form.is_valid():
        cohort = _save(request, form, None)
        if cohort is not None:
            return redirect("research:cohort", pk=cohort.pk)
    return render(request, "research/cohort_form.html", {"form": form, "title": _("New cohort")})


def cohort_edit(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_or_404(request.user, pk)
    if cohort.owner_id != request.user.pk:
        raise PermissionDenied
    initial = {
        "name": cohort.name,
        "description": cohort.description,
        "criteria": cohort.criteria,
        "is_shared": cohort.is_shared,
    }
    form = CohortForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _save(request, form, cohort):
        return redirect("research:cohort", pk=cohort.pk)
    return render(
        request,
        "research/cohort_form.html",
        {
            "form": form,
            "cohort": cohort,
            "title": _("Edit cohort %(name)s") % {"name": cohort.name},
        },
    )


def cohort_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_or_404(request.user, pk)
    counts = throttled = None
    if svc.may_query_aggregates(request.user):
        try:
            counts = svc.cohort_counts(cohort=cohort, acting_user=request.user)
        except svc.Throttled as exc:
            throttled = str(exc)
    rows = None
    if has_perm(request.user, Perm.VIEW_REGISTRY):
        qs = (
            svc.cohort_patients(cohort, request.user)
            .select_related("site")
            .order_by("record_number")
        )
        rows = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "research/cohort_detail.html",
        {
            "cohort": cohort,
            "criteria_json": json.dumps(cohort.criteria, indent=2, ensure_ascii=False),
            "counts": counts,
            "throttled": throttled,
            "rows": rows,
            "may_edit": cohort.owner_id == request.user.pk,
            "may_request_extract": has_perm(request.user, Perm.REQUEST_EXTRACT),
            # own-center files: center staff only (a global role goes through a data request)
            "export_formats": ExtractFormat.choices
            if scope_for(request.user).center_site_ids
            else (),
            "versions": cohort.history.order_by("-history_date")[:10],
        },
    )


def cohort_analysis(request: HttpRequest, pk: int) -> HttpResponse:
    """Characterisation and Kaplan-Meier (anchor, endpoint, optional split by a second
    saved cohort: inside vs outside it)."""
    cohort = _cohort_or_404(request.user, pk)
    if not svc.may_query_aggregates(request.user):
        raise PermissionDenied
    params = queries.AnalysisParams.from_query(request.GET, user=request.user)
    try:
        result = queries.cohort_analysis(cohort=cohort, params=params, acting_user=request.user)
    except svc.Throttled as exc:
        return render(
            request,
            "research/cohort_analysis.html",
            {"cohort": cohort, "throttled": str(exc), "params": params},
            status=429,
        )
    curves = [(c["label"], c) for c in result["survival"]["curves"]]
    chart = mark_safe(  # noqa: S308 - every label in the SVG is escaped by svg_charts
        svg_charts.km_svg(
            curves, _("Kaplan-Meier: %(endpoint)s") % {"endpoint": params.endpoint.upper()}
        )
    )
    return render(
        request,
        "research/cohort_analysis.html",
        {
            "cohort": cohort,
            "params": params,
            "result": result,
            "chart": chart,
            "split_choices": Cohort.objects.visible_to(request.user).exclude(pk=cohort.pk),
        },
    )


def query_log(request: HttpRequest) -> HttpResponse:
    """Every cohort query (who, criteria, what was returned) for data stewards; anyone
    else sees their own."""
    if not _may_use(request.user):
        raise PermissionDenied
    qs = CohortQuery.objects.visible_to(request.user).select_related("cohort")
    user = (request.GET.get("user") or "").strip()
    if user:
        qs = qs.filter(username=user)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "research/query_log.html", {"page": page, "user_filter": user})


def feasibility_list(request: HttpRequest) -> HttpResponse:
    if not _may_use(request.user):
        raise PermissionDenied
    from trials.models import Trial

    trials = Trial.objects.order_by("protocol_code")
    return render(request, "research/feasibility_list.html", {"trials": trials})


def feasibility_trial(request: HttpRequest, pk: int) -> HttpResponse:
    """Trial feasibility on the registry: counts per center for sponsors, the candidates
    of your own center with the reasons for center staff."""
    from trials.models import Trial

    from .feasibility import OUTCOMES, feasibility

    if not _may_use(request.user):
        raise PermissionDenied
    trial = Trial.objects.filter(pk=pk).first()
    if trial is None:
        raise Http404
    try:
        result = feasibility(trial=trial, acting_user=request.user)
    except svc.Throttled as exc:
        return render(
            request,
            "research/feasibility.html",
            {"trial": trial, "throttled": str(exc)},
            status=429,
        )
    labels = {
        "met": _("Eligible on registry data"),
        "unknown": _("Possibly eligible (unknown criteria)"),
        "excluded": _("Not eligible"),
    }
    counts = result.get("counts")
    table = None
    if counts:
        centers = [c["key"] for c in counts["met"]["cells"]]
        table = {
            "header": [labels[o] for o in OUTCOMES],
            "rows": [
                (code, [counts[o]["cells"][i]["display"] for o in OUTCOMES])
                for i, code in enumerate(centers)
            ],
            "total": [counts[o]["total"]["display"] for o in OUTCOMES],
        }
    return render(
        request,
        "research/feasibility.html",
        {"trial": trial, "result": result, "table": table, "labels": labels},
    )
