"""The "Screening" section of the patient page (an inclusion tag: the patient page's
view needs no change; the section works out what this user may do)."""

from __future__ import annotations

from typing import Any

from django import template

from sites.roles import Perm
from sites.scoping import has_perm

from ..models import Patient, Screening
from ..selectors_screening import first_consent_date, is_pre_screening
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
    consent_date = first_consent_date(patient) if screenings else None
    for s in screenings:
        s.pre_screening = is_pre_screening(s.screening_date, consent_date)
    return {"patient": patient, "screenings": screenings, "can_screen": can_screen}


@register.inclusion_tag("patients/includes/screening_phase.html")
def screening_phase(pre_screening: bool) -> dict[str, Any]:
    """The badge naming a screening's place in the order of steps (GCP)."""
    return {"pre_screening": pre_screening}
