from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.i18n import set_language

from audit.context import audit_context
from patients.selectors import registrable_trial_sites

from .models import StaffProfile, TrialSite


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


@login_not_required
def set_language_and_remember(request: HttpRequest) -> HttpResponse:
    """Django's language switch, plus remembering the choice for notifications."""
    response = set_language(request)
    language = request.POST.get("language")
    user = request.user
    if request.method == "POST" and user.is_authenticated and language in dict(settings.LANGUAGES):
        profile, _created = StaffProfile.objects.get_or_create(user=user)
        if profile.preferred_language != language:
            with audit_context(user=user, reason="Language switched"):
                profile.preferred_language = language
                profile.save()
    return response
