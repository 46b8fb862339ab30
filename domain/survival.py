"""Survival quantities a statistical analysis plan asks for beyond Kaplan-Meier and the
log-rank test (pure Python: NumPy, SciPy and statsmodels; no Django).

* Cox proportional-hazards hazard ratio of arm B versus arm A with its Wald CI and
  p-value, Efron ties (R ``survival::coxph``'s default), optionally stratified
  (separate baseline hazards per stratum): ``statsmodels`` ``PHReg``.
* Stratified log-rank test: the stratum-wise observed-minus-expected events and
  hypergeometric variances summed over strata (R ``survdiff(... + strata(s))``).
* Median follow-up by the reverse Kaplan-Meier method (Schemper & Smith, Control Clin
  Trials 1996;17:343-6): the KM of the censoring distribution, deaths/events being the
  censored observations.
* Quartiles of a KM curve, landmark rates with their CI, and a numbers-at-risk grid
  that spans the whole follow-up at a readable step.

Every function takes times in one unit (the caller's; the analysis uses months) and
returns plain JSON types, ``None`` where a quantity is undefined.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "at_risk_grid",
    "cox_hazard_ratio",
    "km_quantile",
    "reverse_km_followup",
    "stratified_logrank",
]

COX_METHOD = (
    "Cox proportional hazards, Efron ties, Wald CI and p-value (statsmodels PHReg; "
    "as R survival::coxph)"
)


def cox_hazard_ratio(
    times: Sequence[float],
    events: Sequence[bool],
    group: Sequence[int],
    *,
    strata: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Hazard ratio of ``group == 1`` versus ``group == 0``.

    Undefined (None values with a note) when a group is empty, there is no event, or the
    model does not converge (e.g. all events in one group: the estimate is infinite).
    """
    t = np.asarray(times, dtype=float)
    e = np.asarray(events, dtype=bool)
    g = np.asarray(group, dtype=float)
    out: dict[str, Any] = {
        "hr": None,
        "ci_lower": None,
        "ci_upper": None,
        "coef": None,
        "se": None,
        "p_value": None,
        "confidence": confidence,
        "n": int(t.size),
        "events": int(e.sum()),
        "stratified": strata is not None,
        "method": COX_METHOD + ("; stratified" if strata is not None else ""),
        "notes": [],
    }
    if t.size == 0 or g.min(initial=1) == g.max(initial=0) or not e.any():
        out["notes"].append("hazard ratio undefined: an empty group or no events")
        return out
    if not e[g == 1].any() or not e[g == 0].any():
        out["notes"].append("hazard ratio undefined: no events in one group")
        return out
    from statsmodels.duration.hazard_regression import PHReg

    kwargs: dict[str, Any] = {"status": e.astype(int), "ties": "efron"}
    if strata is not None:
        kwargs["strata"] = np.asarray([str(s) for s in strata])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = PHReg(t, g[:, None], **kwargs).fit()
    except (np.linalg.LinAlgError, ValueError) as exc:
        out["notes"].append(f"Cox model failed: {exc}")
        return out
    coef, se = float(fit.params[0]), float(fit.bse[0])
    if not (math.isfinite(coef) and math.isfinite(se)) or se == 0 or abs(coef) + 4 * se > 50:
        # e.g. monotone likelihood: every event in one group before the other's first
        out["notes"].append("Cox model did not converge (hazard ratio not estimable)")
        return out
    z = stats.norm.ppf(0.5 + confidence / 2)
    out.update(
        hr=math.exp(coef),
        ci_lower=math.exp(coef - z * se),
        ci_upper=math.exp(coef + z * se),
        coef=coef,
        se=se,
        p_value=float(2 * stats.norm.sf(abs(coef / se))),
    )
    return out


def stratified_logrank(
    times: Sequence[float],
    events: Sequence[bool],
    group: Sequence[int],
    strata: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Log-rank chi-square (1 df) of group 1 versus 0, summed over strata."""
    t = np.asarray(times, dtype=float)
    e = np.asarray(events, dtype=bool)
    g = np.asarray(group, dtype=int)
    s = np.asarray(["" for _ in range(t.size)] if strata is None else [str(x) for x in strata])
    o_minus_e = variance = 0.0
    for stratum in np.unique(s):
        mask = s == stratum
        ts, es, gs = t[mask], e[mask], g[mask]
        event_times = np.unique(ts[es])
        if event_times.size == 0:
            continue
        # at risk just before each event time, events at it: vectorised with sorting
        order = np.sort(ts)
        order1 = np.sort(ts[gs == 1])
        n = ts.size - np.searchsorted(order, event_times, side="left")
        n1 = order1.size - np.searchsorted(order1, event_times, side="left")
        d = np.array([np.sum(es & (ts == u)) for u in event_times], dtype=float)
        d1 = np.array([np.sum(es & (gs == 1) & (ts == u)) for u in event_times], dtype=float)
        o_minus_e += float(np.sum(d1 - d * n1 / n))
        with np.errstate(invalid="ignore", divide="ignore"):
            v = d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
        variance += float(np.nansum(np.where(n > 1, v, 0.0)))
    if variance <= 0:
        return {"statistic": None, "p_value": None, "stratified": strata is not None}
    chi2 = o_minus_e**2 / variance
    return {
        "statistic": chi2,
        "p_value": float(stats.chi2.sf(chi2, 1)),
        "observed_minus_expected": o_minus_e,
        "variance": variance,
        "stratified": strata is not None,
        "method": "log-rank test"
        + (" stratified by the randomization strata" if strata is not None else "")
        + ", chi-square on 1 df",
    }


def _km_curve(times: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct event times and S(t) just after each (product-limit), vectorised."""
    if times.size == 0:
        return np.array([]), np.array([])
    event_times, d = np.unique(times[events], return_counts=True)
    order = np.sort(times)
    n = times.size - np.searchsorted(order, event_times, side="left")
    return event_times, np.cumprod(1 - d / n)


def km_quantile(times: Sequence[float], events: Sequence[bool], p: float) -> float | None:
    """Smallest time with S(t) <= 1 - p (p = 0.25, 0.5, 0.75: first quartile, median,
    third quartile of the event time), None if not reached. As R ``quantile.survfit``
    for a curve that does not sit exactly on the level."""
    event_times, surv = _km_curve(np.asarray(times, float), np.asarray(events, bool))
    hit = np.nonzero(surv <= 1 - p + 1e-12)[0]
    return float(event_times[hit[0]]) if hit.size else None


def reverse_km_followup(times: Sequence[float], events: Sequence[bool]) -> dict[str, Any]:
    """Median (and quartiles) of follow-up: KM with the event indicator reversed."""
    t = np.asarray(times, float)
    reverse = ~np.asarray(events, bool)
    return {
        "median": km_quantile(t, reverse, 0.5),
        "q1": km_quantile(t, reverse, 0.25),
        "q3": km_quantile(t, reverse, 0.75),
        "method": "reverse Kaplan-Meier (Schemper & Smith 1996)",
        "n": int(t.size),
    }


_NICE_STEPS = (1, 2, 3, 6, 12, 24, 36, 60, 120)


def at_risk_grid(longest: float, *, max_rows: int = 12) -> list[float]:
    """0, step, 2*step, ... up to the longest follow-up, the step the smallest of 1, 2,
    3, 6, 12, ... (months) that keeps the table within ``max_rows`` columns."""
    longest = max(float(longest), 0.0)
    step = next((s for s in _NICE_STEPS if longest / s <= max_rows - 1), None)
    if step is None:
        step = math.ceil(longest / (max_rows - 1))
    count = int(math.floor(longest / step + 1e-9)) + 1
    return [float(step * k) for k in range(count)]
