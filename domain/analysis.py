"""Trial analysis over a *data cut*: the one engine behind the dashboard, the API and
``manage.py analyze_datacut``.

Pure Python over plain data (no Django), so a frozen data cut - ours, or one written by
another system in the documented format (README, "Data cuts") - gives the same numbers
years later.

Two steps:

1. :func:`patient_outcome` turns one patient's lesions and assessments into an outcome
   (best overall response by RECIST 1.1 or iRECIST, best % change, progression, PFS, OS
   and duration-of-response times). The application stores this outcome whenever the
   underlying data changes, so the dashboard does not re-read 100,000 measurements.
2. :func:`trial_statistics` aggregates outcomes: ORR/DCR with Clopper-Pearson CIs overall,
   per arm and per site, Fisher's exact test between two arms, Kaplan-Meier PFS/OS per
   arm with median CIs and numbers at risk, the log-rank test, duration of response, and
   the rows behind the waterfall, swimmer and enrollment charts.

Time origin (day 0): the first treatment date, else the enrollment date. PFS: event at
the first progression (RECIST PD; iRECIST: the iUPD confirmed as iCPD) or death,
whichever comes first; otherwise censored at the last tumour assessment (day 0 if none).
OS: event at death; otherwise censored at the last date the patient was known alive.
Both are capped at the data-cut date.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, cast

from . import analysis_efficacy as efficacy
from . import recist
from .analysis_settings import AnalysisSettings, SettingsError, analysis_settings
from .statistics import compare_proportions, duration_of_response, logrank

FORMAT = "hbtrials-datacut"
FORMAT_VERSION = 1
DAYS_PER_MONTH = 30.4375
BOR_ORDER = efficacy.BOR_ORDER  # the order of best overall responses in every table


class DataCutError(ValueError):
    """The data cut does not follow the documented format; the message says where."""


def _date(value: Any, where: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise DataCutError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from exc


def response_settings(trial: Mapping[str, Any]) -> recist.ResponseSettings:
    return recist.ResponseSettings(
        confirmation_required=bool(trial.get("confirmation_required", False)),
        confirmation_min_days=int(trial.get("confirmation_min_days", 28)),
        min_sd_days=int(trial.get("min_sd_days", 42)),
        criteria=recist.Criteria.IRECIST
        if str(trial.get("response_criteria", "")).lower() in ("irecist", "irecist1.1")
        else recist.Criteria.RECIST11,
    )


def _bor_label(bor: recist.Response | recist.IResponse) -> str:
    """Report iRECIST and RECIST responses in the RECIST categories of the statistics."""
    response = recist.recist_equivalent(bor)
    return {
        recist.Response.CR: "CR",
        recist.Response.PR: "PR",
        recist.Response.SD: "SD",
        recist.Response.NON_CR_NON_PD: "NON-CR/NON-PD",
        recist.Response.PD: "PD",
    }.get(response, "NE")


def _problem(sid: Any, field: str, message: str) -> dict[str, str]:
    return {"subject_id": str(sid), "field": field, "message": message}


def time_origin(patient: Mapping[str, Any], analysis: AnalysisSettings, where: str) -> date:
    """Day 0 of the patient's time-to-event endpoints (see ``AnalysisSettings``)."""
    enrolled = _date(patient.get("enrolled_on"), f"{where}.enrolled_on")
    if enrolled is None:
        raise DataCutError(f"{where}: enrolled_on is required")
    if analysis.time_origin == "randomization":
        key = "randomization_date"
    else:
        key = "first_treatment_date"
    return _date(patient.get(key), f"{where}.{key}") or enrolled


def patient_outcome(
    patient: Mapping[str, Any],
    settings: recist.ResponseSettings,
    cutoff: date,
    *,
    analysis: AnalysisSettings | None = None,
) -> dict[str, Any]:
    """One patient's outcome from the raw data-cut record (see the README format).

    Data problems that this patient's record shows on its own (a follow-up scan dated on
    or before the baseline scan or day 0, an assessment after death, death before
    enrollment, lesion data that fail RECIST validation) are listed in
    ``outcome["problems"]`` (subject, field, message): ``analyze(strict=True)`` refuses the
    cut with them, the dashboard lists them. An offending scan is left out of the
    response evaluation; the patient is never dropped.
    """
    analysis = analysis or AnalysisSettings()
    sid = patient.get("subject_id", "?")
    where = f"patient {sid}"
    enrolled = _date(patient.get("enrolled_on"), f"{where}.enrolled_on")
    if enrolled is None:
        raise DataCutError(f"{where}: enrolled_on is required")
    day0 = time_origin(patient, analysis, where)
    treated = _date(patient.get("first_treatment_date"), f"{where}.first_treatment_date")
    death = _date(patient.get("death_date"), f"{where}.death_date")
    alive = _date(patient.get("last_known_alive_date"), f"{where}.last_known_alive_date")
    problems: list[dict[str, str]] = []
    if death is not None and death < enrolled:
        problems.append(
            _problem(sid, "death_date", f"death {death} is before enrollment {enrolled}")
        )

    lesions = [
        recist.Lesion(
            lesion_id=str(les["lesion_id"]),
            organ=str(les.get("organ", "")),
            nodal=bool(les.get("nodal", False)),
            diameter_mm=float(les.get("baseline_mm") or 0),
            target=bool(les.get("target", False)),
            ablated=bool(les.get("ablated", False)),
            ablated_on_study=bool(les.get("ablated_on_study", False)),
        )
        for les in patient.get("lesions", [])
    ]
    followups: list[recist.Assessment] = []
    assessment_dates: list[date] = []
    raw_assessments = list(patient.get("assessments", []))
    dated = [
        (i, raw, _date(raw.get("date"), f"{where}.assessments[{i}].date"))
        for i, raw in enumerate(raw_assessments)
    ]
    baselines = [when for _, raw, when in dated if raw.get("baseline") and when is not None]
    baseline_date: date | None = max(baselines) if baselines else None
    for i, raw, when in sorted(dated, key=lambda item: str(item[2])):
        if when is None or when > cutoff:
            continue
        field = f"assessments[{i}].date"
        if death is not None and when > death:
            problems.append(_problem(sid, field, f"assessment {when} is after death {death}"))
        if raw.get("baseline"):
            continue
        if baseline_date is not None and when <= baseline_date:
            problems.append(
                _problem(
                    sid,
                    field,
                    f"follow-up scan {when} is not after the baseline scan {baseline_date}",
                )
            )
            continue
        if when <= day0:
            problems.append(
                _problem(sid, field, f"follow-up scan {when} is not after day 0 ({day0})")
            )
            continue
        assessment_dates.append(when)
        followups.append(
            recist.Assessment(
                day=(when - day0).days,
                measurements=tuple(
                    recist.LesionMeasurement(
                        lesion_id=str(m["lesion_id"]),
                        diameter_mm=m.get("diameter_mm"),
                        state=m.get("state", "measured"),
                        merged_into=m.get("merged_into"),
                    )
                    for m in raw.get("measurements", [])
                ),
                non_target=cast(
                    recist.NonTargetStatus,
                    raw.get("non_target")
                    or ("NONE" if not any(not les.target for les in lesions) else "NE"),
                ),
                new_lesions=cast(recist.NewLesions, raw.get("new_lesions") or "none"),
                recorded_response=raw.get("recorded_response") or None,
                nontarget_increased=bool(raw.get("nontarget_increased", False)),
                new_lesions_increased=bool(raw.get("new_lesions_increased", False)),
            )
        )
    has_targets = any(les.target for les in lesions)
    any_recorded = any(a.recorded_response is not None for a in followups)
    evaluable = bool((baseline_date is not None and lesions) or any_recorded)

    out: dict[str, Any] = {
        "subject_id": sid,
        "site": patient.get("site"),
        "arm": patient.get("arm"),
        "enrolled_on": enrolled.isoformat(),
        "day0": day0.isoformat(),
        "evaluable": evaluable,
        "measurable_disease": has_targets,
        "bor": "NE",
        "confirmed": False,
        "best_change_pct": None,
        "recorded": any_recorded,
        "first_response_day": None,
        "progression_day": None,
        "timepoints": [],
        "non_ablated_bor": None,
        "notes": [],
        "stratum": patient.get("stratum") or None,
        "treated": treated is not None,
        "bor_confirmed": "NE",
        "bor_unconfirmed": "NE",
        "followups": len(followups),
        "not_yet_assessable": bool(
            evaluable
            and not followups
            and not any_recorded
            and death is None
            and (cutoff - day0).days < analysis.nya_days
        ),
        "problems": problems,
    }
    bor = None
    if evaluable and (followups or any_recorded):
        try:
            points = recist.evaluate_timepoints(lesions, followups, settings)
        except recist.RecistInputError as exc:
            # The patient stays in the denominator (NE) and the problem is reported.
            out["notes"] = [e.message for e in exc.errors][:5]
            problems.extend(
                _problem(
                    sid,
                    f"lesions[{e.lesion_id}].{e.field}" if e.lesion_id else e.field,
                    e.message,
                )
                for e in exc.errors[:5]
            )
            points = []
        if points:
            bor = recist.best_overall_response(points, settings)
            for key, required in (("bor_confirmed", True), ("bor_unconfirmed", False)):
                other = (
                    bor
                    if required is settings.confirmation_required
                    else recist.best_overall_response(
                        points, replace(settings, confirmation_required=required)
                    )
                )
                out[key] = _bor_label(other.bor)
            out.update(
                bor=_bor_label(bor.bor),
                bor_label=str(bor.bor),
                confirmed=bor.confirmed,
                best_change_pct=bor.best_change_pct,
                first_response_day=bor.first_response_day,
                progression_day=bor.progression_day,
                recorded=bor.any_recorded,
                notes=list(bor.notes),
                timepoints=[
                    {
                        "day": p.day,
                        "overall": str(p.overall),
                        "iresponse": str(p.iresponse),
                        "sum_mm": p.sum_mm,
                        "change_from_baseline_pct": p.change_from_baseline_pct,
                        "change_from_nadir_pct": p.change_from_nadir_pct,
                        "recorded": p.recorded,
                    }
                    for p in points
                ],
            )
            try:
                non_ablated = recist.evaluate_non_ablated(lesions, followups, settings)
            except recist.RecistInputError:
                non_ablated = []
            if non_ablated:
                out["non_ablated_bor"] = _bor_label(
                    recist.best_overall_response(non_ablated, settings).bor
                )

    last_assessment_day = max(((d - day0).days for d in assessment_dates), default=0)
    cap = (cutoff - day0).days
    # a death before day 0 is a data error (listed in problems): counted at day 0
    death_day = max((death - day0).days, 0) if death and death <= cutoff else None
    progression_day = out["progression_day"]
    # PFS
    pfs_events = [d for d in (progression_day, death_day) if d is not None]
    if pfs_events:
        out["pfs_days"], out["pfs_event"] = min(min(pfs_events), cap), True
    else:
        out["pfs_days"], out["pfs_event"] = max(min(last_assessment_day, cap), 0), False
    # OS
    if death_day is not None:
        out["os_days"], out["os_event"] = death_day, True
    else:
        known = [
            d
            for d in (alive, assessment_dates[-1] if assessment_dates else None, enrolled)
            if d is not None
        ]
        out["os_days"], out["os_event"] = max(min((max(known) - day0).days, cap), 0), False
    # Duration of response (responders only)
    if bor is not None and bor.is_responder and out["first_response_day"] is not None:
        start = out["first_response_day"]
        if pfs_events:
            out["dor_days"], out["dor_event"] = max(min(pfs_events) - start, 0), True
        else:
            out["dor_days"], out["dor_event"] = max(last_assessment_day - start, 0), False
    else:
        out["dor_days"], out["dor_event"] = None, None
    out["days_on_study"] = max(min(out["os_days"], cap), 0)
    return out


def _dor(outcomes: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    rows = [o for o in outcomes if o.get("dor_days") is not None]
    if not rows:
        return None
    return duration_of_response(
        [0.0] * len(rows),
        [float(o["dor_days"]) for o in rows],
        [bool(o["dor_event"]) for o in rows],
    ).to_dict()


def _ttr(outcomes: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Time to response among responders: median, range, in days and months."""
    days = sorted(
        float(o["first_response_day"])
        for o in outcomes
        if o.get("evaluable") and o["bor"] in ("CR", "PR") and o.get("first_response_day")
    )
    if not days:
        return None
    mid = len(days) // 2
    median = days[mid] if len(days) % 2 else (days[mid - 1] + days[mid]) / 2
    return {
        "n": len(days),
        "median_days": median,
        "min_days": days[0],
        "max_days": days[-1],
        "median_months": median / DAYS_PER_MONTH,
        "method": "responders only: day 0 to the first CR/PR time point; median and range",
    }


def _block(
    outcomes: Sequence[Mapping[str, Any]], analysis: AnalysisSettings, grid: list[float]
) -> dict[str, Any]:
    return {
        "rates": efficacy.rates(outcomes, analysis),
        "rates_confirmed": efficacy.rates(outcomes, analysis, "bor_confirmed"),
        "rates_unconfirmed": efficacy.rates(outcomes, analysis, "bor_unconfirmed"),
        "pfs": efficacy.survival(outcomes, "pfs", analysis, grid),
        "os": efficacy.survival(outcomes, "os", analysis, grid),
        "dor": _dor(outcomes),
        "time_to_response": _ttr(outcomes),
    }


def data_quality(
    datacut: Mapping[str, Any],
    patients: Sequence[Mapping[str, Any]],
    outcomes: Sequence[Mapping[str, Any]],
) -> list[dict[str, str]]:
    """Every problem found: between records, then each patient's own."""
    problems = efficacy.cross_patient_problems(datacut, patients)
    for o in outcomes:
        problems.extend(o.get("problems") or [])
    return problems


def trial_statistics(
    datacut: Mapping[str, Any],
    outcomes: Sequence[Mapping[str, Any]],
    *,
    arm_level: bool = True,
    problems: Sequence[Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """Every figure of the dashboard from per-patient outcomes.

    ``arm_level=False`` (a blinded role in a blinded trial) leaves out everything that
    would reveal efficacy by arm; trial-level aggregates remain. ``problems``: the data
    quality list (default: the cross-record checks over the outcomes and each outcome's
    own problems).
    """
    trial = datacut.get("trial", {})
    analysis = analysis_settings(trial)
    cutoff = _date(datacut.get("cutoff_date"), "cutoff_date")
    if cutoff is not None:
        outcomes = efficacy.refresh_nya(outcomes, analysis, cutoff)
    arms = [a["code"] for a in datacut.get("arms", [])]
    sites = [s["code"] for s in datacut.get("sites", [])]
    grid = efficacy.grid_for(outcomes)
    settings = response_settings(trial)
    result: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "trial": trial.get("protocol_code"),
        "cutoff_date": datacut.get("cutoff_date"),
        "criteria": str(settings.criteria),
        "analysis_settings": {
            **analysis.to_dict(),
            "confirmation_required": settings.confirmation_required,
            "confirmation_min_days": settings.confirmation_min_days,
            "min_sd_days": settings.min_sd_days,
            "primary_bor": "confirmed" if settings.confirmation_required else "unconfirmed",
        },
        "definitions": efficacy.definitions(analysis),
        "overall": _block(outcomes, analysis, grid),
        "by_site": {},
        "arm_level": arm_level,
        "data_quality": list(
            problems if problems is not None else data_quality(datacut, outcomes, outcomes)
        ),
    }
    if not arm_level:  # a blinded reader must not learn a patient's arm code here
        result["data_quality"] = [
            {**p, "message": "arm code not in arms"} if p["field"] == "arm" else p
            for p in result["data_quality"]
        ]
    by_site: dict[str, list] = defaultdict(list)
    for o in outcomes:
        by_site[o["site"]].append(o)
    for code in sites:
        result["by_site"][code] = {"rates": efficacy.rates(by_site.get(code, []), analysis)}

    if arm_level:
        by_arm: dict[str, list] = defaultdict(list)
        for o in outcomes:
            by_arm[o["arm"]].append(o)
        result["by_arm"] = {code: _block(by_arm.get(code, []), analysis, grid) for code in arms}
        if len(arms) == 2:
            a, b = arms
            ra, rb = result["by_arm"][a]["rates"], result["by_arm"][b]["rates"]
            ka = ra["counts"]["CR"] + ra["counts"]["PR"]
            kb = rb["counts"]["CR"] + rb["counts"]["PR"]
            comparisons: dict[str, Any] = {
                "arms": [a, b],
                "orr_fisher": compare_proportions(
                    ka, ra["evaluable"], kb, rb["evaluable"]
                ).to_dict(),
            }
            for kind in ("pfs", "os"):
                xa = [o for o in by_arm.get(a, []) if o.get(f"{kind}_days") is not None]
                xb = [o for o in by_arm.get(b, []) if o.get(f"{kind}_days") is not None]
                comparisons[f"{kind}_logrank"] = (
                    logrank(
                        [o[f"{kind}_days"] for o in xa],
                        [bool(o[f"{kind}_event"]) for o in xa],
                        [o[f"{kind}_days"] for o in xb],
                        [bool(o[f"{kind}_event"]) for o in xb],
                        label_a=a,
                        label_b=b,
                    ).to_dict()
                    if xa and xb
                    else None
                )
            comparisons.update(
                efficacy.comparisons(by_arm, {c: result["by_arm"][c]["rates"] for c in arms}, a, b)
            )
            result["comparisons"] = comparisons
            result["forest"] = efficacy.forest(outcomes, analysis, a, b)
        result["waterfall"] = sorted(
            (
                {
                    "subject_id": o["subject_id"],
                    "arm": o["arm"],
                    "site": o["site"],
                    "bor": o["bor"],
                    "best_change_pct": o["best_change_pct"],
                }
                for o in outcomes
                if o["best_change_pct"] is not None
            ),
            key=lambda r: -r["best_change_pct"],
        )
        result["swimmer"] = [
            {
                "subject_id": o["subject_id"],
                "arm": o["arm"],
                "site": o["site"],
                "days_on_study": o["days_on_study"],
                "bor": o["bor"],
                "first_response_day": o["first_response_day"],
                "progression_day": o["progression_day"],
                "died": bool(o["os_event"]),
            }
            for o in sorted(outcomes, key=lambda o: -o["days_on_study"])
        ]
    result["enrollment"] = enrollment_over_time(datacut, outcomes)
    return result


def enrollment_over_time(
    datacut: Mapping[str, Any], outcomes: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Cumulative enrollments per site by month, with each site's target."""
    months: dict[str, Counter] = defaultdict(Counter)
    for o in outcomes:
        months[o["enrolled_on"][:7]][o["site"]] += 1
    ordered = sorted(months)
    running: Counter = Counter()
    series = []
    for month in ordered:
        running.update(months[month])
        series.append({"month": month, "total": sum(running.values()), "by_site": dict(running)})
    return {
        "months": series,
        "targets": {s["code"]: s.get("enrollment_target", 0) for s in datacut.get("sites", [])},
        "total_target": sum(s.get("enrollment_target", 0) or 0 for s in datacut.get("sites", [])),
    }


class DataQualityError(DataCutError):
    """The cut is well formed but its data contradict themselves (see ``problems``)."""

    def __init__(self, problems: Sequence[Mapping[str, str]]) -> None:
        self.problems = list(problems)
        shown = "; ".join(
            f"patient {p['subject_id']}: {p['field']}: {p['message']}" for p in self.problems[:10]
        )
        more = len(self.problems) - 10
        super().__init__(shown + (f"; and {more} more" if more > 0 else ""))


def analyze(
    datacut: Mapping[str, Any],
    *,
    site: str | None = None,
    arm_level: bool = True,
    strict: bool = False,
) -> dict[str, Any]:
    """Validate a data cut, compute every patient's outcome and the trial statistics.

    Problems in the data (repeated subject ids, unknown arm or site codes, no arm or
    enrollment date, scans before baseline or day 0, death before enrollment, assessments
    after death, lesion data that fail validation) are listed in ``data_quality``; with
    ``strict`` (``manage.py analyze_datacut``) they refuse the cut (``DataQualityError``
    naming patient and field). A repeated subject id is analysed once (its first record).
    """
    if datacut.get("format") != FORMAT:
        raise DataCutError(f"format must be {FORMAT!r}")
    if int(datacut.get("format_version", 0)) > FORMAT_VERSION:
        raise DataCutError(
            f"format_version {datacut.get('format_version')} is newer than {FORMAT_VERSION}"
        )
    cutoff = _date(datacut.get("cutoff_date"), "cutoff_date")
    if cutoff is None:
        raise DataCutError("cutoff_date is required")
    trial = datacut.get("trial", {})
    settings = response_settings(trial)
    try:
        analysis = analysis_settings(trial)
    except SettingsError as exc:
        raise DataCutError(str(exc)) from exc
    patients = list(datacut.get("patients", []))
    if site:
        patients = [p for p in patients if p.get("site") == site]
    problems = efficacy.cross_patient_problems(datacut, patients)
    seen: set[str] = set()
    outcomes = []
    for p in patients:
        sid = str(p.get("subject_id"))
        if sid in seen or not p.get("enrolled_on"):
            continue
        seen.add(sid)
        outcome = patient_outcome(p, settings, cutoff, analysis=analysis)
        problems.extend(outcome["problems"])
        outcomes.append(outcome)
    if strict and problems:
        raise DataQualityError(problems)
    return trial_statistics(datacut, outcomes, arm_level=arm_level, problems=problems)
