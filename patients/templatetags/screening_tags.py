"""The "Screening" section of the patient page (an inclusion tag: the patient page's
view needs no change; the section works out what this user may do)."""

from __future__ import annotations

from typing import Any

from django import template

from sites.roles import Perm
from sites.scoping import has_perm

from ..models import Patient, Screening
from ..services.screening import SCREENABLE_STATUSES

register = template.Library()


@register.inclusion_tag("patients/includes/screening_section.html", takes_context=True)
def screening_section(context: dict[str, Any], patient: Patient) -> dict[str, Any]:
    user = context["request"].user
    screenings = list(
        Screening.objects.filter(patient=patient).order_by("-screening_date", "-created_at", "-pk")
    )
    can_screen = (
        has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
        and patient.status in SCREENABLE_STATUSES
    )
    return {"patient": patient, "screenings": screenings, "can_screen": can_screen}
