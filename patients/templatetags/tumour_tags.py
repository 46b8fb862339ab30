"""The "Tumour response" section of the patient page.

An inclusion tag (like ``followup_tags``), so the patient page's view needs no change:
the section reads its own data from the patient and ``request.user``.
"""

from __future__ import annotations

from typing import Any

from django import template

from sites.roles import Perm
from sites.scoping import has_perm

from ..models import Enrollment, Patient
from ..selectors_tumor import response_overview

register = template.Library()


@register.inclusion_tag("patients/_tumour_response.html", takes_context=True)
def tumour_response_section(context: dict[str, Any], patient: Patient) -> dict[str, Any]:
    user = context["request"].user
    overview = response_overview(patient)
    enrolled = Enrollment.objects.filter(patient=patient).exists()
    can_enter = enrolled and has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    return {
        "request": context["request"],
        "patient": patient,
        "overview": overview,
        "enrolled": enrolled,
        "can_add_baseline": can_enter and overview.baseline is None,
        "can_add_followup": can_enter and overview.baseline is not None,
    }
