"""Data request pages: submit a request, each center's steward decides, follow the
extract's progress, download it (requester only, until it expires)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from sites.mixins import get_visible_or_404
from ui.form_errors import add_missing_errors, apply_errors

from . import extracts as svc
from .forms import DataRequestForm, DecisionForm, WithdrawForm
from .models import DataRequest, DataRequestApproval, Extract

REQUESTS = DataRequest.objects.select_related("cohort", "extract")


def _when(value: Any) -> str:
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i") if value else ""


@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    pending = svc.pending_decisions(user)
    if not (
        svc.may_request(user) or pending.exists() or DataRequest.objects.visible_to(user).exists()
    ):
        raise PermissionDenied
    rows = DataRequest.objects.visible_to(user).select_related("extract").order_by("-created_at")
    status = request.GET.get("status", "")
    if status in DataRequest.Status.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "research/request_list.html",
        {
            "page": page,
            "pending": pending,
            "may_request": svc.may_request(user),
            "statuses": DataRequest.Status.choices,
            "status_filter": status,
            "querystring": f"status={status}" if status in DataRequest.Status.values else "",
        },
    )


@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    if not svc.may_request(request.user):
        raise PermissionDenied
    form = DataRequestForm(
        request.POST or None,
        cohorts=svc.requestable_cohorts(request.user),
        centers=svc.request_centers(),
        initial={"cohort": request.GET.get("cohort")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = svc.request_submit(acting_user=request.user, request=request, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Request DR-%(id)s is submitted; each center's data steward decides.")
                % {"id": created.pk},
            )
            return redirect("research:request", created.pk)
    elif request.method == "POST":
        # the service's rules on what could be read, so every problem shows in one round
        read = form.cleaned_data
        add_missing_errors(
            form,
            svc.request_errors(
                user=request.user,
                cohort=read.get("cohort"),
                title=read.get("title", ""),
                purpose=read.get("purpose", ""),
                ethics_committee=read.get("ethics_committee", ""),
                ethics_approval_number=read.get("ethics_approval_number", ""),
                ethics_approval_date=read.get("ethics_approval_date"),
                include_genomics=read.get("include_genomics", False),
                hgr_approval_number=read.get("hgr_approval_number", ""),
                formats=read.get("formats", []),
                centers=read.get("centers", []),
            ),
        )
    return render(request, "research/request_form.html", {"form": form})


def _detail_context(request: HttpRequest, data_request: DataRequest) -> dict[str, Any]:
    user = request.user
    approvals = list(data_request.approvals.select_related("site"))
    decidable = [
        a
        for a in approvals
        if a.decision == DataRequestApproval.Decision.PENDING
        and data_request.status == DataRequest.Status.PENDING
        and svc.may_decide(user, a.site)
    ]
    extract = getattr(data_request, "extract", None)
    is_requester = data_request.requested_by_id == user.pk
    return {
        "req": data_request,
        "approvals": approvals,
        "decidable": decidable,
        "decision_form": DecisionForm(),
        "withdraw_form": WithdrawForm()
        if is_requester and data_request.status == DataRequest.Status.PENDING
        else None,
        "extract": extract,
        "may_download": extract is not None and svc.extract_may_download(user, extract),
        "downloads": list(extract.downloads.all()[:50]) if extract is not None else [],
        "extract_days": svc.extract_days(),
        "is_requester": is_requester,
    }


@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    data_request = get_visible_or_404(REQUESTS, request.user, pk=pk)
    return render(request, "research/request_detail.html", _detail_context(request, data_request))


def _redisplay(request: HttpRequest, data_request: DataRequest, **forms: Any) -> HttpResponse:
    context = _detail_context(request, data_request)
    context.update(forms)
    response = render(request, "research/request_detail.html", context)
    response.status_code = 400
    return response


def _post_only(request: HttpRequest) -> HttpResponse | None:
    """Checked after the lookup: a request the user may not see is a 404 whatever the
    method (a 405 would confirm that it exists)."""
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


def request_decide(request: HttpRequest, pk: int, site_id: int) -> HttpResponse:
    data_request = get_visible_or_404(REQUESTS, request.user, pk=pk)
    if (refused := _post_only(request)) is not None:
        return refused
    approval = data_request.approvals.select_related("site").filter(site_id=site_id).first()
    if approval is None:
        raise Http404
    site = approval.site
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            svc.request_decide(
                acting_user=request.user,
                data_request=data_request,
                site=site,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your decision for %(c)s is recorded.") % {"c": site.code})
            return redirect("research:request", data_request.pk)
    return _redisplay(request, data_request, decision_form=form, decision_site=site.pk)


def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    data_request = get_visible_or_404(REQUESTS, request.user, pk=pk)
    if (refused := _post_only(request)) is not None:
        return refused
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            svc.request_withdraw(
                acting_user=request.user,
                data_request=data_request,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The request is withdrawn."))
            return redirect("research:request", data_request.pk)
    return _redisplay(request, data_request, withdraw_form=form)


def extract_payload(extract: Extract, user: Any) -> dict[str, Any]:
    """What the progress bar polls (``static/js/exports.js`` reads the same keys)."""
    downloadable = extract.is_downloadable and svc.extract_may_download(user, extract)
    return {
        "id": extract.pk,
        "status": extract.status,
        "status_display": str(extract.get_status_display()),
        "active": extract.status in (Extract.Status.QUEUED, Extract.Status.RUNNING),
        "progress": extract.progress,
        "step": extract.step,
        "downloadable": downloadable,
        "download_url": reverse("research:extract_file", args=[extract.request_id])
        if downloadable
        else "",
        "download_label": _("Download (%(size)s)") % {"size": filesizeformat(extract.file_size)}
        if downloadable
        else "",
        "expires_at": extract.expires_at.isoformat() if extract.expires_at else None,
        "expires_display": _when(extract.expires_at),
        "sha256": extract.sha256,
        "error": extract.error if extract.status == Extract.Status.FAILED else "",
    }


def _extract_or_404(request: HttpRequest, pk: int) -> Extract:
    data_request = get_visible_or_404(REQUESTS, request.user, pk=pk)
    extract = getattr(data_request, "extract", None)
    if extract is None:
        raise Http404
    return extract


@require_GET
def extract_status(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(extract_payload(_extract_or_404(request, pk), request.user))


@require_GET
def extract_file(request: HttpRequest, pk: int) -> HttpResponse:
    extract = _extract_or_404(request, pk)
    try:
        handle = svc.extract_download(
            extract=extract, user=request.user, request=request, log=request.method == "GET"
        )
    except svc.ExtractUnavailable as exc:
        messages.error(request, exc.message_dict["status"][0])
        response = render(
            request,
            "research/request_detail.html",
            _detail_context(request, extract.request),
        )
        response.status_code = 410 if exc.gone else 409
        return response
    return FileResponse(
        handle,
        as_attachment=True,
        filename=extract.filename,
        content_type="application/zip",
    )


def extract_retry(request: HttpRequest, pk: int) -> HttpResponse:
    extract = _extract_or_404(request, pk)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        svc.extract_retry(acting_user=request.user, extract=extract)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("The extract is queued again."))
    return redirect("research:request", pk)


@require_GET
def cohort_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Own-center export of a cohort in one format (``?kind=``)."""
    from .models import Cohort

    cohort = get_visible_or_404(Cohort.objects.all(), request.user, pk=pk)
    try:
        content, name = svc.own_center_export(
            cohort=cohort, acting_user=request.user, fmt=request.GET.get("kind", "")
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("research:cohort", cohort.pk)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
