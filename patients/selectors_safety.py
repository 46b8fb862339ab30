"""Reads for the safety page: open serious adverse events by deadline, and adverse-event
incidence by worst grade per arm."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q

from access import blinding
from domain import safety as rules
from trials.models import Trial

from .models import AdverseEvent, AdverseEventCausality, Enrollment
from .services.sae import may_record_report

ALL = "all"


@dataclass
class OpenSae:
    event: AdverseEvent
    deadlines: list[rules.Deadline]
    needs_expectedness: bool
    can_report_initial: bool
    can_report_susar: bool

    @property
    def nearest(self) -> rules.Deadline | None:
        return self.deadlines[0] if self.deadlines else None


def open_saes(*, user: Any, trial: Trial | None, now: datetime.datetime) -> list[OpenSae]:
    """Serious events the user may see with a report outstanding, or related ones whose
    expectedness is not yet assessed; the nearest deadline first (overdue ones lead)."""
    related = AdverseEventCausality.objects.filter(
        adverse_event=OuterRef("pk"), relatedness__in=rules.RELATED
    )
    qs = (
        AdverseEvent.objects.visible_to(user)
        .filter(serious=True)
        .annotate(is_related=Exists(related))
        .filter(
            Q(initial_reported_at__isnull=True)
            | Q(susar=True, susar_reported_at__isnull=True)
            | Q(expected__isnull=True, is_related=True)
        )
        .select_related("patient__trial_site__site", "patient__trial_site__trial")
    )
    if trial is not None:
        qs = qs.filter(patient__trial_site__trial=trial)
    rows = []
    for event in qs:
        deadlines = rules.open_deadlines(
            initial_report_due=event.initial_report_due,
            initial_reported_at=event.initial_reported_at,
            susar_report_due=event.susar_report_due,
            susar_reported_at=event.susar_reported_at,
            now=now,
        )
        rows.append(
            OpenSae(
                event=event,
                deadlines=deadlines,
                needs_expectedness=event.expected is None and event.is_related,
                can_report_initial=may_record_report(user, event, rules.INITIAL),
                can_report_susar=event.susar and may_record_report(user, event, rules.SUSAR),
            )
        )
    far = datetime.datetime.max.replace(tzinfo=datetime.UTC)
    rows.sort(key=lambda r: (r.nearest.due if r.nearest else far, r.event.pk))
    return rows


def arms_visible(*, user: Any, trial: Trial) -> bool:
    """Aggregates by arm are shown unless the trial is blinded and the user is too
    (``access.blinding.arms_visible``)."""
    return blinding.arms_visible(user, trial)


def ae_incidence(*, user: Any, trial: Trial) -> dict[str, Any]:
    """Patients with any adverse event and by worst CTCAE grade, per arm (one group for
    blinded users), as numbers and percentages of the enrolled patients the user may
    see. Three queries: arms, enrollments, adverse events."""
    by_arm = arms_visible(user=user, trial=trial)
    arms = list(trial.arms.order_by("code")) if by_arm else []
    enrollments = list(
        Enrollment.objects.visible_to(user).filter(trial=trial).values_list("patient_id", "arm_id")
    )
    group_of = {patient: (arm if by_arm else ALL) for patient, arm in enrollments}
    enrolled: dict[Any, int] = {a.pk: 0 for a in arms} if by_arm else {ALL: 0}
    for group in group_of.values():
        enrolled[group] = enrolled.get(group, 0) + 1
    events = [
        (group_of[patient], patient, grade)
        for patient, grade in AdverseEvent.objects.visible_to(user)
        .filter(patient_id__in=list(group_of))
        .values_list("patient_id", "grade")
    ]
    table = rules.worst_grade_incidence(events, enrolled)
    rows: list[dict[str, Any]] = []
    for arm in arms:
        rows.append({"label": str(arm), "code": arm.code, **table[arm.pk]})
    if by_arm and len(arms) > 1 or not by_arm:
        overall = rules.worst_grade_incidence(
            [(ALL, p, g) for _group, p, g in events], {ALL: len(group_of)}
        )[ALL]
        rows.append({"label": None, "code": ALL, **overall})
    for row in rows:
        row["grade_list"] = [(g, *row["grades"][g]) for g in range(1, 6)]
    return {"by_arm": by_arm, "rows": rows, "enrolled": len(group_of)}


NOT_CODED = "Not coded"


def ae_by_soc_and_term(*, user: Any, trial: Trial) -> dict[str, Any]:
    """Patients with each adverse-event term, grouped by MedDRA system organ class (as
    CTCAE v5.0 codes them), per arm (one group for blinded users): any grade and grade
    >= 3, each patient counted once per term and once per SOC. "Other, specify" events
    sit under the SOC given with them; uncoded free text under "Not coded". Three
    queries: arms, enrollments, adverse events with their terms."""
    by_arm = arms_visible(user=user, trial=trial)
    arms = list(trial.arms.order_by("code")) if by_arm else []
    enrollments = list(
        Enrollment.objects.visible_to(user).filter(trial=trial).values_list("patient_id", "arm_id")
    )
    group_of = {patient: (arm if by_arm else ALL) for patient, arm in enrollments}
    groups = [a.pk for a in arms] if by_arm else [ALL]
    enrolled = dict.fromkeys(groups, 0)
    for group in group_of.values():
        enrolled[group] = enrolled.get(group, 0) + 1
    socs: dict[str, dict[str, Any]] = {}
    rows = (
        AdverseEvent.objects.visible_to(user)
        .filter(patient_id__in=list(group_of))
        .values_list("patient_id", "grade", "term", "ctcae_term__soc", "other_soc")
    )
    for patient, grade, term, soc, other_soc in rows:
        soc_name = soc or other_soc or NOT_CODED
        entry = socs.setdefault(soc_name, {"patients": {}, "terms": {}})
        group = group_of[patient]
        for bucket in (entry["patients"], entry["terms"].setdefault(term, {})):
            seen = bucket.setdefault(group, {})
            seen[patient] = max(seen.get(patient, 0), grade)

    def counts(per_group: dict[Any, dict[int, int]]) -> list[dict[str, Any]]:
        out = []
        for g in groups:
            worst = per_group.get(g, {})
            n = len(worst)
            severe = sum(1 for grade in worst.values() if grade >= 3)
            total = enrolled.get(g, 0)
            out.append(
                {
                    "any": n,
                    "any_pct": round(100 * n / total, 1) if total else None,
                    "severe": severe,
                    "severe_pct": round(100 * severe / total, 1) if total else None,
                }
            )
        return out

    table = []
    for soc_name in sorted(socs, key=lambda s: (s == NOT_CODED, s)):
        entry = socs[soc_name]
        table.append(
            {
                "soc": soc_name,
                "counts": counts(entry["patients"]),
                "terms": [
                    {"term": term, "counts": counts(per_group)}
                    for term, per_group in sorted(entry["terms"].items())
                ],
            }
        )
    return {
        "by_arm": by_arm,
        "groups": [str(a) for a in arms] if by_arm else [None],
        "enrolled": [enrolled.get(g, 0) for g in groups],
        "socs": table,
    }
