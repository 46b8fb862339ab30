from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.i18n import set_language

from audit.context import audit_context
from monitoring.home import monitoring_home
from patients.models import Patient
from patients.selectors import registrable_trial_sites
from patients.selectors_visits import visits_due, visits_overdue

from .models import StaffProfile, TrialSite
from .roles import Perm
from .scoping import has_perm

# "Enrolled" means one thing everywhere (home, trial page, enroll page, dashboard):
# every patient ever randomised (an Enrollment row), withdrawn patients included.
WORKLIST_STATUSES = ("screening", "eligible", "consented")


def home(request: HttpRequest) -> HttpResponse:
    """The coordinator's day: visits today and this week, overdue visits, patients waiting
    for a screening decision, consent or enrollment, and enrollment against target."""
    user = request.user
    today = timezone.localdate()
    trial_sites = (
        TrialSite.objects.visible_to(user)
        .select_related("trial", "site")
        .annotate(
            registered=Count("patients", distinct=True),
            screening=Count("patients", filter=Q(patients__status="screening"), distinct=True),
            enrolled=Count("patients__enrollment", distinct=True),
        )
        .order_by("trial__protocol_code", "site__code")
    )
    enters_data = has_perm(user, Perm.ENTER_CLINICAL_DATA)
    context = {
        "today": today,
        "trial_sites": trial_sites[:50],
        "trial_site_count": trial_sites.count(),
        # the administrator manages accounts; registering is a site role's work
        "can_register": not user.is_superuser and registrable_trial_sites(user=user).exists(),
        "can_dashboard": has_perm(user, Perm.VIEW_DASHBOARD),
        "enters_data": enters_data,
    }
    if enters_data:
        week_end = today + datetime.timedelta(days=7)
        context.update(
            visits_today=list(visits_due(user=user, start=today, end=today)[:50]),
            visits_week=list(
                visits_due(user=user, start=today + datetime.timedelta(days=1), end=week_end)[:50]
            ),
            visits_overdue=list(visits_overdue(user=user, today=today)[:50]),
            worklist=list(
                Patient.objects.visible_to(user)
                .filter(status__in=WORKLIST_STATUSES)
                .select_related("trial_site__site")
                .order_by("status", "registered_at")[:50]
            ),
        )
    context.update(monitoring_home(user))
    return render(request, "home.html", context)


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
