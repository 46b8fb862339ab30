"""Export pages: request an export, follow its progress, download the file."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from sites.mixins import get_visible_or_404
from ui.form_errors import apply_errors

from . import services
from .forms import ExportFilterForm, ExportRequestForm
from .models import ExportJob


def _when(value: Any) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i")


def status_payload(job: ExportJob) -> dict[str, Any]:
    """What the progress bar polls (also the shape of the page's initial state)."""
    downloadable = job.is_downloadable
    return {
        "id": job.pk,
        "status": job.status,
        "status_display": str(job.get_status_display()),
        "active": job.is_active,
        "progress": job.progress,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "downloadable": downloadable,
        "download_url": reverse("exports:download", args=[job.pk]) if downloadable else "",
        "download_label": _("Download (%(size)s)") % {"size": filesizeformat(job.file_size or 0)}
        if downloadable
        else "",
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
        "expires_display": _when(job.expires_at),
        "error": job.error if job.status == ExportJob.Status.FAILED else "",
    }


@require_http_methods(["GET", "POST"])
def export_list(request: HttpRequest) -> HttpResponse:
    trials = services.exportable_trials(request.user)
    form = ExportRequestForm(request.POST or None, trials=trials) if trials else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                job = services.export_request(
                    trial=form.cleaned_data["trial"],
                    acting_user=request.user,
                    kind=form.cleaned_data["kind"],
                    request=request,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Export #%(id)s is queued; this page shows its progress.") % {"id": job.pk},
                )
                return redirect("exports:list")
    filters = ExportFilterForm(request.GET or None)
    jobs = ExportJob.objects.visible_to(request.user).select_related("trial")
    if filters.is_bound and filters.is_valid():
        if filters.cleaned_data["status"]:
            jobs = jobs.filter(status=filters.cleaned_data["status"])
        if filters.cleaned_data["kind"]:
            jobs = jobs.filter(kind=filters.cleaned_data["kind"])
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "exports/list.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "querystring": query.urlencode(),
            "ttl_hours": settings.EXPORT_TTL_HOURS,
        },
    )


@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_visible_or_404(ExportJob, request.user, pk=pk)
    return render(
        request,
        "exports/detail.html",
        {"job": job, "may_download": services.export_may_download(request.user, job)},
    )


@require_GET
def export_status(request: HttpRequest, pk: int) -> JsonResponse:
    job = get_visible_or_404(ExportJob, request.user, pk=pk)
    return JsonResponse(status_payload(job))


@require_GET
def export_file(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_visible_or_404(ExportJob, request.user, pk=pk)
    try:
        path = services.export_download(job=job, user=request.user, request=request)
    except services.ExportUnavailable as exc:
        messages.error(request, exc.message_dict["status"][0])
        response = render(request, "exports/detail.html", {"job": job, "may_download": False})
        response.status_code = 410 if exc.gone else 409
        return response
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=job.filename,
        content_type="application/zip",
    )
