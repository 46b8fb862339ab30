"""The former characterisation (Python over the cohort's rows), kept as the test oracle.

``research/characterise.py`` now counts in SQL (README "Registry research", scale);
``test_characterise_sql.py`` checks that it gives what this gave, table by table, curve
by curve. Not used by the product.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils.translation import gettext as _

from domain.disclosure import shown_or_hidden
from domain.outcomes import outcomes
from domain.statistics import kaplan_meier, logrank
from domain.survival import cox_hazard_ratio
from registry.models import (
    CopyNumberChange,
    FollowUp,
    Fusion,
    GenomicTest,
    PathologyReport,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
    Variant,
)

ANCHORS = ("diagnosis", "treatment", "test")
ENDPOINTS = ("os", "rfs", "pfs")
AGE_BANDS = ((0, 40), (40, 50), (50, 60), (60, 70), (70, 80), (80, 200))


def _band(age: int) -> str:
    for lo, hi in AGE_BANDS:
        if lo <= age < hi:
            return f"<{hi}" if lo == 0 else (f"≥{lo}" if hi == 200 else f"{lo}-{hi - 1}")
    return "?"


def _table(counter: Counter, threshold: int, order: list[str] | None = None) -> list[dict]:
    keys = order if order is not None else [k for k, _n in counter.most_common()]
    return [
        {"key": k, "display": shown_or_hidden(counter.get(k, 0), threshold)}
        for k in keys
        if counter.get(k, 0) or order is not None
    ]


@dataclass
class PatientFacts:
    """What the characterisation needs of one registry record (read in bulk)."""

    pk: int
    pseudonym: str
    sex: str
    birth_date: datetime.date
    risk: dict[str, bool | None]
    first_dx: datetime.date | None = None
    category: str = ""
    first_treatment: datetime.date | None = None
    first_test: datetime.date | None = None
    last_contact: datetime.date | None = None
    death: datetime.date | None = None
    recurrence: datetime.date | None = None
    progression: datetime.date | None = None


def patient_facts(patients: QuerySet[RegistryPatient]) -> dict[int, PatientFacts]:
    """One grouped query per domain, keyed by patient (no per-patient query)."""
    ids = patients.order_by().values("pk")
    facts = {
        row[0]: PatientFacts(
            row[0],
            row[1],
            row[2],
            row[3],
            dict(zip(RegistryPatient.RISK_FACTORS, row[4:], strict=True)),
        )
        for row in patients.order_by().values_list(
            "pk", "national_pseudonym", "sex", "birth_date", *RegistryPatient.RISK_FACTORS
        )
    }
    for pid, first_dx in (
        Tumour.objects.filter(patient_id__in=ids)
        .values("patient_id")
        .annotate(first=Min("diagnosis_date"))
        .values_list("patient_id", "first")
    ):
        facts[pid].first_dx = first_dx
    for pid, category in (
        Tumour.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "diagnosis_date", "id")
        .values_list("patient_id", "category")
    ):
        facts[pid].category = facts[pid].category or category
    for pid, first in (
        Treatment.objects.filter(patient_id__in=ids)
        .values("patient_id")
        .annotate(first=Min("start_date"))
        .values_list("patient_id", "first")
    ):
        facts[pid].first_treatment = first
    for pid, first in (
        GenomicTest.objects.filter(patient_id__in=ids)
        .values("patient_id")
        .annotate(first=Min("test_date"))
        .values_list("patient_id", "first")
    ):
        facts[pid].first_test = first
    for pid, last, death, rec, prog in (
        FollowUp.objects.filter(patient_id__in=ids)
        .values("patient_id")
        .annotate(
            last=Max("contact_date"),
            death=Min("death_date"),
            rec=Min("event_date", filter=Q(event=FollowUp.Event.RECURRENCE)),
            prog=Min("event_date", filter=Q(event=FollowUp.Event.PROGRESSION)),
        )
        .values_list("patient_id", "last", "death", "rec", "prog")
    ):
        f = facts[pid]
        f.last_contact, f.death, f.recurrence, f.progression = last, death, rec, prog
    return facts


def _persons(facts: dict[int, PatientFacts]) -> list[PatientFacts]:
    """One record per person (national pseudonym): the one with the earliest diagnosis,
    with the person's latest contact and death from any center."""
    by_person: dict[str, list[PatientFacts]] = defaultdict(list)
    for f in facts.values():
        by_person[f.pseudonym].append(f)
    people = []
    for records in by_person.values():
        first = min(records, key=lambda r: (r.first_dx or datetime.date.max, r.pk))
        if len(records) > 1:
            first.last_contact = max(
                (r.last_contact for r in records if r.last_contact), default=None
            )
            first.death = min((r.death for r in records if r.death), default=None)
        people.append(first)
    return people


def _distribution(
    patients: QuerySet[RegistryPatient], people: list[PatientFacts], threshold: int
) -> dict[str, Any]:
    ids = patients.order_by().values("pk")
    ages = Counter(_band((p.first_dx - p.birth_date).days // 365) for p in people if p.first_dx)
    stages: dict[str, Counter] = defaultdict(Counter)
    for system, value, n in _stage_counts(ids):
        stages[system][value] += n
    histology = Counter(
        dict(
            PathologyReport.objects.filter(tumour__patient_id__in=ids)
            .values_list("histologic_type")
            .annotate(n=Count("tumour__patient_id", distinct=True))
            .order_by()
        )
    )
    return {
        "age_at_diagnosis": _table(ages, threshold, [_band(lo) for lo, _hi in AGE_BANDS]),
        "sex": _table(Counter(p.sex for p in people), threshold, ["F", "M"]),
        "aetiology": _table(
            Counter(k for p in people for k, v in p.risk.items() if v),
            threshold,
            list(RegistryPatient.RISK_FACTORS),
        ),
        "cancer": _table(Counter(p.category for p in people if p.category), threshold),
        "stage": {
            system: _table(counter, threshold, sorted(counter))
            for system, counter in sorted(stages.items())
        },
        "histology": _table(histology, threshold),
    }


def _stage_counts(ids: Any) -> list[tuple[str, str, int]]:
    """(system, recorded value, patients) with the latest stage per tumour and system."""
    latest: dict[tuple[int, str], tuple[datetime.date, int, str, int]] = {}
    for tumour_id, pid, system, staged_on, pk, override, computed in StagingRecord.objects.filter(
        tumour__patient_id__in=ids
    ).values_list(
        "tumour_id",
        "tumour__patient_id",
        "system",
        "staged_on",
        "id",
        "override_value",
        "computed_value",
    ):
        key = (tumour_id, system)
        if key not in latest or (staged_on, pk) > latest[key][:2]:
            latest[key] = (staged_on, pk, override or computed, pid)
    patients: dict[tuple[str, str], set[int]] = defaultdict(set)
    for (_tumour, system), (_d, _pk, value, pid) in latest.items():
        if value:
            patients[(system, value)].add(pid)
    return [(system, value, len(pids)) for (system, value), pids in patients.items()]


def alteration_matrix(
    patients: QuerySet[RegistryPatient], threshold: int, *, rows: bool
) -> dict[str, Any]:
    """Genes × kinds of alteration. ``rows`` (own-center staff): each patient's alterations
    too (the OncoPrint grid); otherwise counts of patients per gene and kind only."""
    ids = patients.order_by().values("pk")
    per_gene: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for gene, pid in Variant.objects.filter(test__patient_id__in=ids).values_list(
        "gene", "test__patient_id"
    ):
        per_gene[gene.upper()]["mutation"].add(pid)
    for g5, g3, pid in Fusion.objects.filter(test__patient_id__in=ids).values_list(
        "gene_5", "gene_3", "test__patient_id"
    ):
        per_gene[g5.upper()]["fusion"].add(pid)
        per_gene[g3.upper()]["fusion"].add(pid)
    for gene, change, pid in CopyNumberChange.objects.filter(test__patient_id__in=ids).values_list(
        "gene", "change", "test__patient_id"
    ):
        per_gene[gene.upper()][change].add(pid)
    tested = GenomicTest.objects.filter(patient_id__in=ids).values("patient_id").distinct().count()
    genes = sorted(per_gene, key=lambda g: -len(set().union(*per_gene[g].values())))
    kinds = ["mutation", "fusion", *CopyNumberChange.Change.values]
    matrix = [
        {
            "gene": g,
            "altered": shown_or_hidden(len(set().union(*per_gene[g].values())), threshold),
            "by_kind": {k: shown_or_hidden(len(per_gene[g].get(k, ())), threshold) for k in kinds},
        }
        for g in genes
    ]
    result: dict[str, Any] = {
        "tested": shown_or_hidden(tested, threshold),
        "kinds": kinds,
        "genes": matrix,
    }
    if rows:
        grid: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for g in genes:
            for kind, pids in per_gene[g].items():
                for pid in pids:
                    grid[pid][g].append(kind)
        numbers = dict(patients.order_by().values_list("pk", "record_number"))
        result["patients"] = [
            {"record_number": numbers[pid], "alterations": dict(alts)}
            for pid, alts in sorted(grid.items())
        ]
    return result


def treatment_sequences(patients: QuerySet[RegistryPatient], threshold: int) -> list[dict]:
    """The first three treatments of each patient in order ("resection → systemic")."""
    ids = patients.order_by().values("pk")
    seqs: dict[int, list[str]] = defaultdict(list)
    for pid, kind in (
        Treatment.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "start_date", "id")
        .values_list("patient_id", "kind")
    ):
        if len(seqs[pid]) < 3 and (not seqs[pid] or seqs[pid][-1] != kind):
            seqs[pid].append(kind)
    counter = Counter(" → ".join(s) for s in seqs.values())
    return [
        {"key": k, "display": shown_or_hidden(n, threshold)} for k, n in counter.most_common(15)
    ]


def _anchor_of(p: PatientFacts, anchor: str) -> datetime.date | None:
    return {"diagnosis": p.first_dx, "treatment": p.first_treatment, "test": p.first_test}[anchor]


def time_to_event(
    people: list[PatientFacts], anchor: str, endpoint: str
) -> tuple[list[float], list[bool]]:
    times: list[float] = []
    events: list[bool] = []
    for p in people:
        start = _anchor_of(p, anchor)
        if start is None:
            continue
        o = outcomes(
            anchor=start,
            last_contact=p.last_contact,
            death_date=p.death,
            recurrence_date=p.recurrence,
            progression_date=p.progression,
        )
        tte = getattr(o, endpoint)
        if tte.days is None:
            continue
        times.append(float(tte.days))
        events.append(tte.event)
    return times, events


def _curve(times: list[float], events: list[bool], threshold: int) -> dict[str, Any]:
    if len(times) < threshold:
        return {
            "n": shown_or_hidden(len(times), threshold),
            "steps": [],
            "median": None,
            "truncated": True,
        }
    km = kaplan_meier(times, events)
    steps = [s.to_dict() for s in km.steps if s.at_risk >= threshold]
    return {
        "n": str(km.n),
        "events": shown_or_hidden(km.events, threshold),
        "median": km.median,
        "median_ci": [km.median_ci_lower, km.median_ci_upper],
        "steps": [
            {"time": s["time"], "survival": s["survival"], "at_risk": s["at_risk"]} for s in steps
        ],
        "truncated": len(steps) < len(km.steps),
    }


def survival(
    groups: list[tuple[str, QuerySet[RegistryPatient]]],
    *,
    anchor: str,
    endpoint: str,
    threshold: int,
) -> dict[str, Any]:
    """KM per group; with two groups the log-rank test and the Cox hazard ratio (B vs A)."""
    data = []
    for label, patients in groups:
        people = _persons(patient_facts(patients))
        data.append((label, *time_to_event(people, anchor, endpoint)))
    result: dict[str, Any] = {
        "anchor": anchor,
        "endpoint": endpoint,
        "threshold": threshold,
        "curves": [{"label": label, **_curve(t, e, threshold)} for label, t, e in data],
    }
    if len(data) == 2 and all(len(t) >= threshold for _l, t, _e in data):
        (la, ta, ea), (lb, tb, eb) = data
        lr = logrank(ta, ea, tb, eb, label_a=la, label_b=lb)
        hr = cox_hazard_ratio(ta + tb, ea + eb, [0] * len(ta) + [1] * len(tb))
        result["logrank"] = {"statistic": lr.statistic, "p_value": lr.p_value}
        result["hazard_ratio"] = {
            k: hr.get(k) for k in ("hr", "ci_lower", "ci_upper", "p_value", "notes")
        }
    elif len(data) == 2:
        result["note"] = _("A group is below the threshold: no comparison is shown.")
    return result


def characterise(
    patients: QuerySet[RegistryPatient], *, threshold: int, rows: bool
) -> dict[str, Any]:
    people = _persons(patient_facts(patients))
    return {
        "persons": shown_or_hidden(len(people), threshold),
        "threshold": threshold,
        **_distribution(patients, people, threshold),
        "alterations": alteration_matrix(patients, threshold, rows=rows),
        "treatment_sequences": treatment_sequences(patients, threshold),
    }
