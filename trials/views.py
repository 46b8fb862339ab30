from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from sites.mixins import get_visible_or_404
from sites.roles import Perm
from sites.scoping import has_perm

from . import selectors
from .models import Trial


def trial_list(request: HttpRequest) -> HttpResponse:
    return render(request, "trials/list.html", {"trials": selectors.trial_list(user=request.user)})


def dashboards(request: HttpRequest) -> HttpResponse:
    """The navigation's "Dashboard": the one trial's dashboard, or the trials to choose."""
    if not has_perm(request.user, Perm.VIEW_DASHBOARD):
        raise PermissionDenied
    trials = [
        t
        for t in selectors.trial_list(user=request.user)
        if has_perm(request.user, Perm.VIEW_DASHBOARD, trial=t)
    ]
    if len(trials) == 1:
        return redirect("trials:dashboard", pk=trials[0].pk)
    return render(request, "trials/dashboards.html", {"trials": trials})


def trial_detail(request: HttpRequest, pk: int) -> HttpResponse:
    trial = get_visible_or_404(Trial, request.user, pk=pk)
    return render(
        request,
        "trials/detail.html",
        {
            "trial": trial,
            "arms": trial.arms.all(),
            "interventions": trial.interventions.prefetch_related("arms"),
            "versions": trial.protocol_versions.all(),
            "trial_sites": selectors.trial_sites_with_counts(trial=trial, user=request.user),
            "can_configure": has_perm(request.user, Perm.CONFIGURE_TRIAL, trial=trial),
        },
    )


def consent_document(request: HttpRequest, pk: int) -> FileResponse:
    """The approved consent PDF, inline so it can be read and printed from the consent form."""
    from .consent_documents import ConsentDocument

    document = get_visible_or_404(ConsentDocument, request.user, pk=pk)
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="consent-{document.document_version}.pdf"'
    return response
