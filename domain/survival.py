"""Survival quantities a statistical analysis plan asks for beyond Kaplan-Meier and the
log-rank test (pure Python: NumPy and SciPy; no Django).

* Cox proportional-hazards hazard ratio of arm B versus arm A with its Wald CI and
  p-value, Efron ties (R ``survival::coxph``'s default), optionally stratified
  (separate baseline hazards per stratum): a vectorised fit of the one-covariate model,
  checked against R and against ``statsmodels`` ``PHReg`` in the tests.
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
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special, stats

__all__ = [
    "at_risk_grid",
    "cox_hazard_ratio",
    "km_quantile",
    "reverse_km_followup",
    "stratified_logrank",
]

COX_METHOD = (
    "Cox proportional hazards, Efron ties, Wald CI and p-value (as R survival::coxph; "
    "checked against R and statsmodels PHReg)"
)


def _efron_terms(
    times: np.ndarray, events: np.ndarray, group: np.ndarray, strata: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Sufficient statistics of the Efron partial likelihood of one binary covariate.

    At each distinct event time of a stratum, with n0/n1 at risk and d0/d1 events in the
    two groups, Efron's approximation contributes, for l = 0..d-1, a risk-set term
    A + B*exp(beta) with A = n0 - l/d*d0 and B = n1 - l/d*d1. Returns (events in group
    1, A, B) over all those terms, so that the log-likelihood, score and information
    are vectorised sums."""
    d1_total = 0.0
    a_parts, b_parts = [], []
    for stratum in np.unique(strata):
        mask = strata == stratum
        t, e, g = times[mask], events[mask], group[mask]
        u = np.unique(t[e])
        if u.size == 0:
            continue
        t0, t1 = np.sort(t[g == 0]), np.sort(t[g == 1])
        n0 = t0.size - np.searchsorted(t0, u, side="left")
        n1 = t1.size - np.searchsorted(t1, u, side="left")
        d0 = _counts_at(t[e & (g == 0)], u)
        d1 = _counts_at(t[e & (g == 1)], u)
        d = (d0 + d1).astype(int)
        d1_total += float(d1.sum())
        k = np.repeat(np.arange(u.size), d)
        frac = (np.arange(k.size) - np.repeat(np.cumsum(d) - d, d)) / d[k]
        a_parts.append(n0[k] - frac * d0[k])
        b_parts.append(n1[k] - frac * d1[k])
    if not a_parts:
        return 0.0, np.array([]), np.array([])
    return d1_total, np.concatenate(a_parts), np.concatenate(b_parts)


def _cox_fit(
    times: np.ndarray, events: np.ndarray, group: np.ndarray, strata: np.ndarray
) -> tuple[float, float] | None:
    """Newton-Raphson maximum of the Efron partial likelihood: (beta, SE) or None."""
    d1, a, b = _efron_terms(times, events, group, strata)
    if a.size == 0:
        return None
    beta = 0.0
    for _ in range(60):
        eb = b * math.exp(beta)
        p = eb / (a + eb)
        score = d1 - float(p.sum())
        info = float((p * (1 - p)).sum())
        if info <= 0:
            return None
        step = score / info
        beta += max(min(step, 5.0), -5.0)
        if abs(beta) > 30:
            return None  # monotone likelihood: the estimate is infinite
        if abs(step) < 1e-10:
            break
    eb = b * math.exp(beta)
    p = eb / (a + eb)
    info = float((p * (1 - p)).sum())
    return (beta, 1 / math.sqrt(info)) if info > 0 else None


def cox_hazard_ratio(
    times: Sequence[float],
    events: Sequence[bool],
    group: Sequence[int],
    *,
    strata: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Hazard ratio of ``group == 1`` versus ``group == 0`` (Cox model, Efron ties).

    The model has one binary covariate, so its Efron partial likelihood depends only on
    the numbers at risk and of events per group at each event time: it is maximised
    here by Newton-Raphson over those counts (vectorised, linear in the patients after
    sorting), which gives exactly what R ``coxph`` and statsmodels ``PHReg`` give (the
    tests check both) at a fraction of the cost, for the forest plot's many subgroups.
    Undefined (None values with a note) when a group is empty, there is no event in a
    group, or the likelihood is monotone (the estimate is infinite).
    """
    t = np.asarray(times, dtype=float)
    e = np.asarray(events, dtype=bool)
    g = np.asarray(group, dtype=int)
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
    s = np.asarray(["" for _ in range(t.size)] if strata is None else [str(x) for x in strata])
    fit = _cox_fit(t, e, g, s)
    if fit is None:
        out["notes"].append("Cox model did not converge (hazard ratio not estimable)")
        return out
    coef, se = fit
    z = special.ndtri(0.5 + confidence / 2)  # = stats.norm.ppf, without its checks
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
        d = _counts_at(ts[es], event_times)
        d1 = _counts_at(ts[es & (gs == 1)], event_times)
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


def _counts_at(values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """How many of ``values`` equal each of the sorted ``points`` (vectorised)."""
    ordered = np.sort(values)
    return (
        np.searchsorted(ordered, points, side="right")
        - np.searchsorted(ordered, points, side="left")
    ).astype(float)


def _km_curve(times: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct event times and S(t) just after each (product-limit), vectorised."""
    if times.size == 0:
        return np.array([]), np.array([])
    event_times, d = np.unique(times[events], return_counts=True)
    order = np.sort(times)
    n = times.size - np.searchsorted(order, event_times, side="left")
    return event_times, np.cumprod(1 - d / n)


def km_quantile(
    times: Sequence[float] | np.ndarray, events: Sequence[bool] | np.ndarray, p: float
) -> float | None:
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
