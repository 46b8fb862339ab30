"""The "Visits" and "Adverse events" sections of the patient page.

An inclusion tag (like ``enrollment_tags``), so the patient page's view needs no
change: the section computes its own context from the patient and ``request.user``.
"""

from __future__ import annotations

from typing import Any

from django import template

from sites.roles import Perm
from sites.scoping import has_perm

from ..models import Patient, Visit
from ..selectors_visits import is_overdue, patient_visits
from ..services.visits import patient_enrollment, patient_local_today

register = template.Library()

END_OF_STUDY_FROM = frozenset(
    {Patient.Status.ON_STUDY, Patient.Status.LOST, Patient.Status.COMPLETED}
)


@register.inclusion_tag("patients/_followup.html", takes_context=True)
def followup_section(context: dict[str, Any], patient: Patient) -> dict[str, Any]:
    user = context["request"].user
    today = patient_local_today(patient)
    visits = list(patient_visits(patient=patient))
    permit = patient.residence_permit_expiry if patient.is_expatriate else None
    for visit in visits:
        visit.overdue = is_overdue(visit, today)
        visit.can_act = visit.status == Visit.Status.PLANNED
        visit.after_permit = bool(
            permit and visit.status == Visit.Status.PLANNED and visit.scheduled_date > permit
        )
    can_enter = has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    enrolled = patient_enrollment(patient) is not None
    return {
        "request": context["request"],
        "patient": patient,
        "visits": visits,
        "permit_expiry": permit,
        "after_permit": sum(1 for v in visits if v.after_permit),
        "today": today,
        "clinic_days": patient.trial_site.site.clinic_day_names(),
        "adverse_events": list(patient.adverse_events.order_by("-onset_date", "-pk")),
        "can_enter": can_enter,
        "enrolled": enrolled,
        "can_add_unscheduled": can_enter and patient.status == Patient.Status.ON_STUDY,
        "can_change_status": can_enter and patient.status in END_OF_STUDY_FROM,
    }
