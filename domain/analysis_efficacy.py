"""Efficacy summaries of the analysis (pure Python, no Django): response-rate
denominators by population, survival in months with quartiles, landmarks, follow-up
and an adaptive numbers-at-risk grid, arm comparisons (Cox HR, stratified log-rank, ORR
difference, binomial test) and the subgroup forest plot. Used by ``analysis.py``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, cast

from domain.response_tests import NEWCOMBE_METHOD, Sided, binomial_test, difference_ci
from domain.survival import (
    COX_METHOD,
    at_risk_grid,
    cox_hazard_ratio,
    km_quantile,
    reverse_km_followup,
    stratified_logrank,
)

from .analysis_settings import AnalysisSettings
from .statistics import CIMethod, kaplan_meier, response_rates

DAYS_PER_MONTH = 30.4375
__all__ = ["COX_METHOD", "NEWCOMBE_METHOD", "comparisons", "forest", "rates", "survival"]

BOR_ORDER = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")

POPULATION_TEXT = {
    "itt": "all randomized patients (intention to treat); no baseline scan counts as NE",
    "per_protocol": "treated patients with a baseline tumour assessment (per protocol)",
    "evaluable": "patients with a baseline tumour assessment (or a recorded response)",
}


def in_population(o: Mapping[str, Any], analysis: AnalysisSettings) -> bool:
    if analysis.population == "itt":
        return True
    if analysis.population == "per_protocol":
        return bool(o.get("evaluable")) and bool(o.get("treated", True))
    return bool(o.get("evaluable"))


def refresh_nya(
    outcomes: Sequence[Mapping[str, Any]], analysis: AnalysisSettings, cutoff: date
) -> list[Mapping[str, Any]]:
    """Not-yet-assessable status at the statistics' cut-off: a stored outcome keeps the
    flag of the day it was computed, and a patient stops being NYA once the window has
    passed even if nothing was entered since. Outcomes that do not change are reused."""
    out: list[Mapping[str, Any]] = []
    for o in outcomes:
        if "followups" not in o or not o.get("day0"):
            out.append(o)  # stored before this rule: keep its flag
            continue
        nya = bool(
            o.get("evaluable")
            and not o["followups"]
            and not o.get("recorded")
            and not o.get("os_event")
            and (cutoff - date.fromisoformat(o["day0"])).days < analysis.nya_days
        )
        out.append(
            o if nya == bool(o.get("not_yet_assessable")) else {**o, "not_yet_assessable": nya}
        )
    return out


def rates(
    outcomes: Sequence[Mapping[str, Any]], analysis: AnalysisSettings, key: str = "bor"
) -> dict[str, Any]:
    """ORR/DCR over the analysis population; NYA patients apart when the plan says so."""
    nya = [o for o in outcomes if o.get("not_yet_assessable")]
    counted = [
        o
        for o in outcomes
        if in_population(o, analysis)
        and not (analysis.nya_handling == "exclude" and o.get("not_yet_assessable"))
    ]
    counts = Counter((o.get(key) or o["bor"]) if o.get("evaluable") else "NE" for o in counted)
    result = response_rates({k: counts.get(k, 0) for k in BOR_ORDER}).to_dict()
    result["enrolled"] = len(outcomes)
    result["not_evaluable"] = sum(1 for o in outcomes if not o.get("evaluable"))
    result["not_yet_assessable"] = len(nya)
    result["population"] = analysis.population
    result["confirmed_responders"] = sum(
        1 for o in counted if o.get("evaluable") and o["bor"] in ("CR", "PR") and o["confirmed"]
    )
    non_ablated = Counter(o["non_ablated_bor"] for o in counted if o.get("non_ablated_bor"))
    result["non_ablated"] = (
        response_rates({k: non_ablated.get(k, 0) for k in BOR_ORDER}).to_dict()
        if non_ablated
        else None
    )
    if analysis.orr_null_rate is not None:
        responders = result["counts"]["CR"] + result["counts"]["PR"]
        result["binomial_test"] = binomial_test(
            responders,
            result["evaluable"],
            analysis.orr_null_rate,
            sided=cast(Sided, analysis.orr_sided),
        )
    return result


def _months(days: Sequence[float]) -> list[float]:
    return [d / DAYS_PER_MONTH for d in days]


def _mo(days: float | None) -> float | None:
    return None if days is None else days / DAYS_PER_MONTH


def survival(
    outcomes: Sequence[Mapping[str, Any]], kind: str, analysis: AnalysisSettings, grid: list[float]
) -> dict[str, Any]:
    """KM of ``kind`` (pfs, os) with the trial's CI band. The curve (``steps``) and the
    median keep the cut's unit, days; ``months`` restates the median, its CI, the
    quartiles, the landmark rates (at ``landmark_months``) and the reverse-KM median
    follow-up in months. ``grid`` (months) is the numbers-at-risk grid."""
    rows = [o for o in outcomes if o.get(f"{kind}_days") is not None]
    times = [float(o[f"{kind}_days"]) for o in rows]
    events = [bool(o[f"{kind}_event"]) for o in rows]
    km = kaplan_meier(times, events, ci_method=cast(CIMethod, analysis.ci_method))
    data = km.to_dict()
    data["time_unit"] = "days"
    data["ci_band"] = analysis.ci_band
    data["numbers_at_risk"] = (
        [
            {**r.to_dict(), "time_months": m}
            for r, m in zip(
                km.numbers_at_risk([m * DAYS_PER_MONTH for m in grid]), grid, strict=True
            )
        ]
        if rows
        else []
    )
    follow = reverse_km_followup(times, events) if rows else None
    data["months"] = {
        "median": _mo(km.median),
        "median_ci_lower": _mo(km.median_ci_lower),
        "median_ci_upper": _mo(km.median_ci_upper),
        "q1": _mo(km_quantile(times, events, 0.25)) if rows else None,
        "q3": _mo(km_quantile(times, events, 0.75)) if rows else None,
        "landmarks": [
            {**km.survival_at(m * DAYS_PER_MONTH).to_dict(), "months": m}
            for m in analysis.landmark_months
        ],
        "follow_up_median": _mo(follow["median"]) if follow else None,
        "follow_up_method": follow["method"] if follow else None,
    }
    return data


def grid_for(outcomes: Sequence[Mapping[str, Any]]) -> list[float]:
    """Numbers-at-risk grid in months over the whole follow-up (see ``at_risk_grid``)."""
    longest = max((max(o.get("os_days") or 0, o.get("pfs_days") or 0) for o in outcomes), default=0)
    return at_risk_grid(longest / DAYS_PER_MONTH)


def _two_arm_survival(
    outcomes: Sequence[Mapping[str, Any]], kind: str, a: str, b: str
) -> dict[str, Any]:
    rows = [o for o in outcomes if o.get(f"{kind}_days") is not None and o["arm"] in (a, b)]
    times = _months([float(o[f"{kind}_days"]) for o in rows])
    events = [bool(o[f"{kind}_event"]) for o in rows]
    group = [1 if o["arm"] == b else 0 for o in rows]
    strata = [str(o.get("stratum") or "") for o in rows]
    stratified = len(set(strata)) > 1
    return {
        "hazard_ratio": cox_hazard_ratio(times, events, group),
        "hazard_ratio_stratified": cox_hazard_ratio(times, events, group, strata=strata)
        if stratified
        else None,
        "logrank_stratified": stratified_logrank(times, events, group, strata)
        if stratified
        else None,
        "hr_of": f"{b} vs {a}",
    }


def comparisons(
    by_arm: Mapping[str, Sequence[Mapping[str, Any]]],
    rates_by_arm: Mapping[str, Mapping[str, Any]],
    a: str,
    b: str,
) -> dict[str, Any]:
    """Arm b versus arm a (a is the first arm code: the control arm by convention)."""
    both = list(by_arm.get(a, [])) + list(by_arm.get(b, []))
    ra, rb = rates_by_arm[a], rates_by_arm[b]
    ka = ra["counts"]["CR"] + ra["counts"]["PR"]
    kb = rb["counts"]["CR"] + rb["counts"]["PR"]
    out: dict[str, Any] = {
        "orr_difference": {
            "of": f"{b} - {a}",
            **difference_ci(kb, rb["evaluable"], ka, ra["evaluable"]),
        },
    }
    for kind in ("pfs", "os"):
        out[kind] = _two_arm_survival(both, kind, a, b)
    return out


def forest(
    outcomes: Sequence[Mapping[str, Any]], analysis: AnalysisSettings, a: str, b: str
) -> list[dict[str, Any]]:
    """ORR difference (b - a) and PFS/OS HR (b vs a) by subgroup: site and stratum
    (each factor of the stratum label ``factor=value;...`` or the whole label)."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for o in outcomes:
        if o["arm"] not in (a, b):
            continue
        groups[("all", "all")].append(o)
        groups[("site", str(o.get("site")))].append(o)
        stratum = str(o.get("stratum") or "")
        if stratum:
            parts = [p for p in stratum.replace("|", ";").split(";") if p]
            for part in parts:
                factor, _, value = part.partition("=")
                groups[("stratum " + factor, value or factor)].append(o)
    rows = []
    for (factor, level), members in sorted(
        groups.items(), key=lambda kv: (kv[0][0] != "all", kv[0])
    ):
        arm_a = [o for o in members if o["arm"] == a]
        arm_b = [o for o in members if o["arm"] == b]
        ra, rb = rates(arm_a, analysis), rates(arm_b, analysis)
        row: dict[str, Any] = {
            "factor": factor,
            "level": level,
            "n": {a: len(arm_a), b: len(arm_b)},
            "orr_difference": difference_ci(
                rb["counts"]["CR"] + rb["counts"]["PR"],
                rb["evaluable"],
                ra["counts"]["CR"] + ra["counts"]["PR"],
                ra["evaluable"],
            ),
        }
        for kind in ("pfs", "os"):
            sub = [o for o in members if o.get(f"{kind}_days") is not None]
            row[f"{kind}_hr"] = cox_hazard_ratio(
                _months([float(o[f"{kind}_days"]) for o in sub]),
                [bool(o[f"{kind}_event"]) for o in sub],
                [1 if o["arm"] == b else 0 for o in sub],
            )
        rows.append(row)
    return rows


def cross_patient_problems(
    datacut: Mapping[str, Any], patients: Sequence[Mapping[str, Any]]
) -> list[dict[str, str]]:
    """Problems between records: repeated subject ids, arm or site codes that the cut
    does not define, missing arm or enrollment date."""
    arms = {a.get("code") for a in datacut.get("arms", []) if isinstance(a, Mapping)}
    sites = {s.get("code") for s in datacut.get("sites", []) if isinstance(s, Mapping)}
    seen: Counter = Counter()
    problems: list[dict[str, str]] = []
    for p in patients:
        sid = str(p.get("subject_id"))
        seen[sid] += 1
        if seen[sid] == 2:
            problems.append(
                {
                    "subject_id": sid,
                    "field": "subject_id",
                    "message": "subject id appears more than once",
                }
            )
        if not p.get("arm"):
            problems.append({"subject_id": sid, "field": "arm", "message": "no arm"})
        elif arms and p.get("arm") not in arms:
            problems.append(
                {
                    "subject_id": sid,
                    "field": "arm",
                    "message": f"arm {p.get('arm')!r} is not in arms",
                }
            )
        if sites and p.get("site") not in sites:
            problems.append(
                {
                    "subject_id": sid,
                    "field": "site",
                    "message": f"site {p.get('site')!r} is not in sites",
                }
            )
        if not p.get("enrolled_on"):
            problems.append(
                {"subject_id": sid, "field": "enrolled_on", "message": "enrolled_on is required"}
            )
    return problems


def definitions(analysis: AnalysisSettings) -> dict[str, str]:
    """The methods statements shown with every figure (English; the dashboard and the
    report translate them)."""
    origin = (
        "randomization date" if analysis.time_origin == "randomization" else "first treatment date"
    )
    return {
        "day0": f"{origin}, else enrollment date",
        "evaluable": "enrolled patients with a baseline tumour assessment (or a recorded response)",
        "population": POPULATION_TEXT[analysis.population],
        "not_yet_assessable": (
            f"no post-baseline scan and fewer than {analysis.nya_days} days since day 0: "
            + (
                "excluded from the response denominator and counted apart"
                if analysis.nya_handling == "exclude"
                else "counted as NE in the response denominator"
            )
        ),
        "pfs": "progression (RECIST PD / iRECIST confirmed iUPD) or death; censored at the last tumour assessment",
        "os": "death from any cause; censored at the last date known alive",
        "dor": "responders only: first documented response to progression or death",
        "ci_band": f"Kaplan-Meier pointwise band and median CI: {analysis.ci_band} transform",
        "hazard_ratio": COX_METHOD,
        "orr_difference": NEWCOMBE_METHOD,
        "binomial_test": (
            "none (no null rate in the protocol)"
            if analysis.orr_null_rate is None
            else f"exact binomial test of the ORR against {analysis.orr_null_rate:g}, "
            f"{analysis.orr_sided}"
        ),
        "follow_up": "median follow-up by reverse Kaplan-Meier (Schemper & Smith 1996)",
    }
