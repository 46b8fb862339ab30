"""Visit schedule and follow-up visits."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.context import audit_context
from trials.domain.schedule import VisitSpec, plan_visits
from trials.models import VisitDefinition

from ..models import Enrollment, Visit


def visit_schedule_generate(*, enrollment: Enrollment, acting_user: Any) -> list[Visit]:
    """Create the protocol visits of an enrolled patient, each on a clinic day of the site
    inside its window. Visits anchored on first treatment are created once that date is
    known; calling again adds only the visits that do not exist yet (idempotent)."""
    patient = enrollment.patient
    site = patient.trial_site.site
    existing = set(
        patient.visits.filter(definition__isnull=False).values_list("definition_id", flat=True)
    )
    anchors = {
        VisitDefinition.Anchor.ENROLLMENT: enrollment.enrolled_on,
        VisitDefinition.Anchor.FIRST_TREATMENT: enrollment.first_treatment_date,
    }
    created: list[Visit] = []
    definitions = [d for d in enrollment.trial.visit_definitions.all() if d.pk not in existing]
    with transaction.atomic(), audit_context(user=acting_user, reason="Visit schedule generated"):
        for definition in definitions:
            anchor = anchors[definition.anchor]
            if anchor is None:
                continue
            (plan,) = plan_visits(
                anchor,
                [
                    VisitSpec(
                        definition.code,
                        definition.day_offset,
                        definition.window_before,
                        definition.window_after,
                    )
                ],
                site.clinic_weekdays or [],
            )
            visit = Visit(
                patient=patient,
                definition=definition,
                target_date=plan.target,
                window_start=plan.window_start,
                window_end=plan.window_end,
                scheduled_date=plan.scheduled,
            )
            visit.save()
            created.append(visit)
    return created
