from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from patients.selectors import registrable_trial_sites

from .models import TrialSite


def home(request: HttpRequest) -> HttpResponse:
    trial_sites = (
        TrialSite.objects.visible_to(request.user)
        .select_related("trial", "site")
        .annotate(
            registered=Count("patients", distinct=True),
            screening=Count("patients", filter=Q(patients__status="screening"), distinct=True),
            on_study=Count("patients", filter=Q(patients__status="on_study"), distinct=True),
        )
        .order_by("trial__protocol_code", "site__code")
    )
    return render(
        request,
        "home.html",
        {
            "trial_sites": trial_sites[:50],
            "trial_site_count": trial_sites.count(),
            "can_register": registrable_trial_sites(user=request.user).exists(),
        },
    )
