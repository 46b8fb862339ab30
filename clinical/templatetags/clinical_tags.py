"""The clinical panels of the visit and patient pages (``{% visit_clinical visit %}``)."""

from __future__ import annotations

from typing import Any

from django import template

from sites.roles import Perm
from sites.scoping import has_perm

from ..models import LabResult
from ..selectors import patient_clinical, visit_form_states, visit_is_complete, visit_liver_function

register = template.Library()

FORM_URLS = {
    "labs": "clinical:labs_new",
    "vitals": "clinical:vitals_new",
    "dosing": "clinical:dosing_new",
    "conmeds": "clinical:conmed_new",
    "procedure": "clinical:procedure_new",
}


@register.inclusion_tag("clinical/_visit_panel.html", takes_context=True)
def visit_clinical(context: Any, visit: Any) -> dict[str, Any]:
    user = context["request"].user
    states = visit_form_states(visit, all_forms=True)
    return {
        "visit": visit,
        "states": states,
        "form_urls": FORM_URLS,
        "complete": visit_is_complete(visit),
        "has_required": any(s.required for s in states),
        "liver": visit_liver_function(visit),
        "labs": LabResult.objects.filter(visit=visit).order_by("panel", "analyte"),
        "can_enter": has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=visit.patient.trial_site),
    }


@register.inclusion_tag("clinical/_patient_panel.html", takes_context=True)
def patient_clinical_panel(context: Any, patient: Any) -> dict[str, Any]:
    user = context["request"].user
    return {
        "patient": patient,
        **patient_clinical(patient),
        "can_enter": has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site),
    }
