"""The dashboard's statistics split in two: a small *summary* and the per-patient *rows*.

``trial_statistics`` returns one dict whose size grows with the number of patients: one
waterfall and one swimmer row per patient, and one Kaplan-Meier step per distinct time
(about a thousand per curve after three years of follow-up, on every curve of every
arm). :func:`split` cuts it into

- the summary, whose size does not grow with the number of patients: every aggregate
  (rates, comparisons, forest, enrollment, data quality, KM medians and numbers at
  risk), each KM curve compressed for drawing (:func:`compress_curve`), the number of
  rows of each per-patient list and KM curve, and under ``heads`` their first rows (the
  page's "Numbers" tables show the first rows only);
- the rows: the waterfall and swimmer lists and every KM curve's full ``steps``.

:func:`join` puts the two back together into exactly the dict ``trial_statistics``
returned. Pure Python over plain data (no Django).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .analysis_efficacy import BOR_ORDER

PATIENT_LISTS = ("waterfall", "swimmer")
#: Summary keys that ``join`` drops (they exist only in the summary).
SUMMARY_ONLY = ("heads", "patient_rows")
CURVE_KEYS = ("curve", "censor_marks", "steps_total")
#: Above this many points where the curve changes, points closer than ``CURVE_RESOLUTION``
#: to the last point kept (in S(t) and both CI limits) are dropped.
CURVE_POINTS = 400
CURVE_RESOLUTION = 0.002  # of the 0..1 axis: under a pixel on the dashboard's chart
CENSOR_MARKS = 100  # above this many censoring times, marks are aggregated in time bins
DIGITS = 4  # decimals of S(t) and its CI on the chart (the tables keep every digit)
WATERFALL_BIN = 5  # percentage points of best change per bin of a binned waterfall
WATERFALL_RANGE = (-100, 200)  # bins between; changes above the top share the last bin

Path = tuple[str, ...]


def _curves(stats: Mapping[str, Any], path: Path = ()) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every dict holding a KM curve (``steps``), with its path of keys."""
    for key, value in stats.items():
        if isinstance(value, dict):
            if isinstance(value.get("steps"), list):
                yield (*path, key), value
            else:
                yield from _curves(value, (*path, key))


def _replace(stats: dict[str, Any], path: Path, value: dict[str, Any]) -> None:
    """Set ``stats[path]`` copying every dict on the way (the input is never changed)."""
    node = stats
    for key in path[:-1]:
        node[key] = dict(node[key])
        node = node[key]
    node[path[-1]] = value


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS)


def _no_ci(step: Mapping[str, Any]) -> bool:
    return step["ci_lower"] is None or step["ci_upper"] is None


def _moved(step: Mapping[str, Any], last: Mapping[str, Any]) -> bool:
    """S(t) or a CI limit differs from the last point kept by ``CURVE_RESOLUTION``."""
    return any(
        (step[k] is None) != (last[k] is None)
        or (step[k] is not None and abs(step[k] - last[k]) >= CURVE_RESOLUTION)
        for k in ("survival", "ci_lower", "ci_upper")
    )


def compress_curve(steps: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A KM curve for drawing: ``curve`` (columns ``time``, ``survival``, ``ci_lower``,
    ``ci_upper``) at the times where S(t) changes (an event), at the last time observed
    (where the curve ends) and at the last time before an event where the CI still
    exists (where the band ends), and ``censor_marks``
    (``time``, ``survival``, ``count``) at the censoring times.

    Exact (``curve.exact``) up to ``CURVE_POINTS`` event times; above, a point is kept
    only once S(t) or a CI limit has moved by ``CURVE_RESOLUTION`` since the last point
    kept (and the last event time is always kept), so the drawn curve is within
    ``CURVE_RESOLUTION`` of the exact one. Up to ``CENSOR_MARKS`` censoring times, one
    mark each; above, the censorings are summed in ``CENSOR_MARKS`` equal time bins, one
    mark per bin at its last censoring time.
    """
    n_events = sum(1 for s in steps if s.get("events"))
    last_event = max((j for j, s in enumerate(steps) if s.get("events")), default=-1)
    exact = n_events <= CURVE_POINTS
    kept: list[Mapping[str, Any]] = []
    for j, step in enumerate(steps):
        if not step.get("events"):
            continue
        before = steps[j - 1] if j else None
        if before is not None and not before.get("events") and _no_ci(step) > _no_ci(before):
            kept.append(before)  # the CI band runs on to the last time it is defined
        if exact or not kept or j == last_event or _moved(step, kept[-1]):
            kept.append(step)
    if steps and not steps[-1].get("events"):
        kept.append(steps[-1])  # the curve runs on, flat, to the last time observed
    censored = [s for s in steps if s.get("censored")]
    marks: list[tuple[float, float, int]] = []
    if len(censored) <= CENSOR_MARKS:
        marks = [(s["time"], s["survival"], s["censored"]) for s in censored]
    else:
        end = max(s["time"] for s in censored) or 1.0
        bins: dict[int, tuple[float, float, int]] = {}
        for s in censored:
            b = min(int(s["time"] / end * CENSOR_MARKS), CENSOR_MARKS - 1)
            count = bins[b][2] if b in bins else 0
            bins[b] = (s["time"], s["survival"], count + s["censored"])
        marks = [bins[b] for b in sorted(bins)]
    return {
        "curve": {
            "time": [s["time"] for s in kept],
            "survival": [_r(s["survival"]) for s in kept],
            "ci_lower": [_r(s["ci_lower"]) for s in kept],
            "ci_upper": [_r(s["ci_upper"]) for s in kept],
            "exact": exact,
        },
        "censor_marks": {
            "time": [m[0] for m in marks],
            "survival": [_r(m[1]) for m in marks],
            "count": [m[2] for m in marks],
            "aggregated": len(censored) > CENSOR_MARKS,
        },
        "steps_total": len(steps),
    }


def split(stats: Mapping[str, Any], *, head: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summary, rows) of a ``trial_statistics`` dict (see the module doc); ``head``:
    how many first rows of each per-patient list and KM curve the summary keeps."""
    summary = {k: v for k, v in stats.items() if k not in PATIENT_LISTS}
    rows: dict[str, Any] = {"steps": {}}
    heads: dict[str, Any] = {"steps": {}}
    for path, km in list(_curves(stats)):
        steps = km["steps"]
        rows["steps"][path] = steps
        heads["steps"][path] = steps[:head]
        compact = {k: v for k, v in km.items() if k != "steps"}
        compact.update(compress_curve(steps))
        _replace(summary, path, compact)
    present = [k for k in PATIENT_LISTS if k in stats]
    for key in present:
        rows[key] = stats[key]
        heads[key] = stats[key][:head]
    summary["patient_rows"] = {key: {"total": len(stats[key])} for key in present}
    summary["heads"] = heads
    return summary, rows


def public(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The summary without ``heads`` (what the dashboard's data.json sends)."""
    return {k: v for k, v in summary.items() if k != "heads"}


def with_heads(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The summary shaped like the full dict but holding only the first rows: each
    per-patient list and each KM curve's ``steps`` is its head (for the page's tables)."""
    return _with(summary, summary["heads"])


def join(summary: Mapping[str, Any], rows: Mapping[str, Any]) -> dict[str, Any]:
    """The full ``trial_statistics`` dict again (plus whatever keys were added to the
    summary, such as ``computed_at``)."""
    return _with(summary, rows)


def _with(summary: Mapping[str, Any], parts: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in summary.items() if k not in SUMMARY_ONLY}
    for path, km in list(_curves_compact(out)):
        full = {k: v for k, v in km.items() if k not in CURVE_KEYS}
        full["steps"] = parts["steps"].get(path, [])
        _replace(out, path, full)
    for key in summary.get("patient_rows", {}):
        out[key] = parts[key]
    return out


def _curves_compact(
    stats: Mapping[str, Any], path: Path = ()
) -> Iterator[tuple[Path, dict[str, Any]]]:
    for key, value in stats.items():
        if isinstance(value, dict):
            if "steps_total" in value and "curve" in value:
                yield (*path, key), value
            else:
                yield from _curves_compact(value, (*path, key))


def waterfall_bins(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Patients per ``WATERFALL_BIN``-point bin of best change from baseline, from the
    largest increase down to -100% (the waterfall's order), with counts by best overall
    response and by arm (the waterfall's rows exist only where arms may be shown)."""
    low, high = WATERFALL_RANGE
    counts: dict[int, dict[str, Any]] = {}
    for r in rows:
        start = int(min(max(r["best_change_pct"], low), high) // WATERFALL_BIN) * WATERFALL_BIN
        b = counts.setdefault(start, {"bor": {}, "arm": {}, "n": 0})
        b["n"] += 1
        b["bor"][r["bor"]] = b["bor"].get(r["bor"], 0) + 1
        b["arm"][r["arm"]] = b["arm"].get(r["arm"], 0) + 1
    out = []
    for start in sorted(counts, reverse=True):
        b = counts[start]
        out.append(
            {
                "from": start,
                "to": None if start >= high else start + WATERFALL_BIN,
                "n": b["n"],
                "by_bor": {k: b["bor"][k] for k in BOR_ORDER if k in b["bor"]},
                "by_arm": dict(sorted(b["arm"].items())),
            }
        )
    return out
