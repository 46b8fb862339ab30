"""A trial's structured eligibility criteria run over the registry.

Each registry record becomes the screening answers the registry can give
(``registry.prefill.record_prefill``: histology, metastases, Child-Pugh, ECOG, prior
therapies … plus the date of birth); the trial's criteria in effect are screened by the
trials' rule engine (``domain.eligibility.screen``, three-valued). A criterion the
registry cannot answer is MISSING, so the record is "unknown" (possibly eligible), never
"met". Outcomes per record:

- ``met``: every applicable criterion is satisfied from registry data alone;
- ``unknown``: nothing fails, something the registry does not record is needed;
- ``excluded``: at least one criterion fails, or the patient has died.

Sponsors (aggregate roles) get counts per center, suppressed like cohort counts, with
the total of persons; a center's own staff get their candidates (met or unknown) with the
reasons, each linked to the trial subject's pre-filled screening when the person is
already registered in the trial at that center, else to the trial's registration page.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from domain.disclosure import suppress
from domain.eligibility import Verdict, screen
from patients.models import Patient
from patients.selectors_screening import as_domain, criteria_in_effect
from registry.identity import pseudonym_from_hash
from registry.models import FollowUp, RegistryPatient, Tumour
from registry.prefill import record_prefill
from sites.models import Site
from sites.scoping import scope_for

from . import cohorts as svc
from .models import CohortQuery

OUTCOMES = ("met", "unknown", "excluded")
_RANK = {"met": 0, "unknown": 1, "excluded": 2}


@dataclass
class Candidate:
    record: RegistryPatient
    outcome: str
    failed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    screening_url: str = ""


def _outcome(verdict: Verdict) -> str:
    return {Verdict.ELIGIBLE: "met", Verdict.INCOMPLETE: "unknown"}.get(verdict, "excluded")


def evaluate_records(records: Any, criteria: list, on_date: datetime.date) -> list[Candidate]:
    """Screen every record (tumours + stagings and treatments read in bulk)."""
    dead = FollowUp.objects.filter(
        patient_id=OuterRef("pk"), vital_status=FollowUp.VitalStatus.DEAD
    )
    qs = (
        records.select_related("site")
        .annotate(is_dead=Exists(dead))
        .prefetch_related(
            Prefetch("tumours", queryset=Tumour.objects.prefetch_related("stagings")),
            "treatments",
        )
    )
    out = []
    for record in qs.iterator(chunk_size=2000):
        if record.is_dead:
            out.append(Candidate(record, "excluded", failed=[_("Deceased.")]))
            continue
        data: dict[str, Any] = {p.name: p.value for p in record_prefill(record)}
        data["screening_date"] = on_date.isoformat()
        data["birth_date"] = record.birth_date.isoformat()
        decision = screen(criteria, data, record.is_expatriate)
        out.append(
            Candidate(
                record,
                _outcome(decision.verdict),
                failed=[f"{r.code}: {r.reason}" for r in decision.failed],
                unknown=[f"{r.code}: {r.text}" for r in decision.undetermined],
            )
        )
    return out


def trial_criteria(trial: Any, on_date: datetime.date) -> tuple[Any, list]:
    version, criteria = criteria_in_effect(trial=trial, on_date=on_date)
    return version, as_domain(criteria)


def _link_screenings(trial: Any, candidates: list[Candidate]) -> None:
    """The trial subject of the same person at the same center, by the national pseudonym."""
    sites = {c.record.site_id for c in candidates}
    subjects = {
        (pseudonym_from_hash(p.id_document_hash), p.trial_site.site_id): p.pk
        for p in Patient.objects.filter(
            trial_site__trial=trial, trial_site__site_id__in=sites
        ).select_related("trial_site")
        if p.id_document_hash
    }
    register = reverse("patients:register")
    for c in candidates:
        pk = subjects.get((c.record.national_pseudonym, c.record.site_id))
        c.screening_url = reverse("patients:screen", args=[pk]) if pk else register


def feasibility(*, trial: Any, acting_user: Any, on_date: datetime.date | None = None) -> dict:
    """Counts per center (suppressed) for aggregate roles, and the user's own center
    candidates. Logged like every cohort query."""
    may_count = svc.may_query_aggregates(acting_user)
    own_sites = set(scope_for(acting_user).center_site_ids)
    if not may_count and not own_sites:
        raise PermissionDenied(_("You may not query the registry."))
    on_date = on_date or timezone.localdate()
    version, criteria = trial_criteria(trial, on_date)
    result: dict[str, Any] = {
        "trial": trial.protocol_code,
        "version": str(version) if version else None,
    }
    if version is None:
        result["note"] = _("The trial has no eligibility criteria in effect.")
        return result
    tree = {"trial": trial.protocol_code, "protocol_version": str(version)}
    if may_count:
        svc.check_throttle(user=acting_user, tree=tree, kind=CohortQuery.Kind.FEASIBILITY)
        evaluated = evaluate_records(RegistryPatient.objects.all(), criteria, on_date)
    else:
        evaluated = evaluate_records(
            RegistryPatient.objects.filter(site_id__in=own_sites), criteria, on_date
        )
    if may_count:
        threshold = svc.threshold()
        codes = list(Site.objects.order_by("code").values_list("code", flat=True))
        per: dict[str, dict[str, int]] = {o: dict.fromkeys(codes, 0) for o in OUTCOMES}
        best: dict[str, str] = {}
        for c in evaluated:
            per[c.outcome][c.record.site.code] += 1
            person = c.record.national_pseudonym
            if person not in best or _RANK[c.outcome] < _RANK[best[person]]:
                best[person] = c.outcome
        persons = defaultdict(int)
        for outcome in best.values():
            persons[outcome] += 1
        result["counts"] = {o: suppress(per[o], persons[o], threshold).as_dict() for o in OUTCOMES}
    own = [c for c in evaluated if c.record.site_id in own_sites and c.outcome != "excluded"]
    _link_screenings(trial, own)
    result["candidates"] = own
    svc.log_query(
        user=acting_user,
        kind=CohortQuery.Kind.FEASIBILITY,
        tree=tree,
        result={
            "counts": result.get("counts", {}),
            "own_candidates": len(own),
        },
    )
    return result
