"""Kaplan-Meier estimates (pointwise CI, median and its CI, numbers at risk) and the
duration of response built on them."""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
from scipy import special, stats

from .helpers import _check_confidence, _num, _pct_label

CIMethod = Literal["log-log", "linear", "log"]

# S(t) is a product of floating-point ratios; a survival that is exactly 0.5 in exact
# arithmetic may come out as 0.5000000000000001.  Comparisons with 0.5 use this slack.
_HALF_TOLERANCE = 1e-12

_CI_METHOD_DESCRIPTIONS: dict[str, str] = {
    "log-log": (
        "log-log transform, exp(-exp(log(-log S) +/- z*SE)), Greenwood variance "
        "(as lifelines and Stata)"
    ),
    "linear": "plain Greenwood, S +/- z*SE(S) clipped to [0, 1] (SciPy's default)",
    "log": "log transform, S*exp(+/- z*SE(log S)), Greenwood variance, upper limit "
    "clipped to 1 (R survfit's default)",
}


# ---------------------------------------------------------------------------
# Kaplan-Meier
# ---------------------------------------------------------------------------


def _as_survival_data(
    times: Iterable[float], events: Iterable[bool | int]
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert times (finite, >= 0) and event flags (bool or 0/1)."""
    time_list = list(times)
    event_list = list(events)
    if len(time_list) != len(event_list):
        raise ValueError(
            f"times and events differ in length ({len(time_list)} != {len(event_list)})"
        )
    for value in event_list:
        if isinstance(value, bool | np.bool_):
            continue
        if value not in (0, 1):
            raise ValueError(
                f"event flags must be True/False or 1/0 (1 = event, 0 = censored), got {value!r}"
            )
    t = np.asarray(time_list, dtype=float).reshape(-1)
    if t.size and (not np.all(np.isfinite(t)) or np.any(t < 0)):
        raise ValueError("times must be finite and >= 0")
    e = np.asarray([bool(v) for v in event_list], dtype=bool)
    return t, e


@dataclass(frozen=True)
class KMStep:
    """One distinct observed time of a Kaplan-Meier curve.

    ``survival`` is S(t) just after ``time`` (the curve is right-continuous);
    ``at_risk`` is the number at risk just before ``time``; ``events`` and
    ``censored`` are the counts at exactly ``time``.  At tied times events are taken to
    precede censorings.  ``std_err`` is the Greenwood standard error of S(t);
    ``ci_lower``/``ci_upper`` the pointwise band of the result's ``ci_method``.
    Undefined values (the band and SE where S(t) = 0) are None.
    """

    time: float
    survival: float
    ci_lower: float | None
    ci_upper: float | None
    std_err: float | None
    at_risk: int
    events: int
    censored: int

    def to_dict(self) -> dict[str, Any]:
        """Keys: time, survival, ci_lower, ci_upper, std_err, at_risk, events, censored."""
        return {
            "time": self.time,
            "survival": self.survival,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "std_err": self.std_err,
            "at_risk": self.at_risk,
            "events": self.events,
            "censored": self.censored,
        }


@dataclass(frozen=True)
class AtRiskRow:
    """Numbers-at-risk table entry at ``time`` (for the table under a KM plot).

    ``at_risk`` = subjects with an observed time >= ``time`` (still at risk just before
    it); ``events`` and ``censored`` are cumulative counts of observed times strictly
    before ``time``, so at_risk + events + censored = n for every row.
    """

    time: float
    at_risk: int
    events: int
    censored: int

    def to_dict(self) -> dict[str, Any]:
        """Keys: time, at_risk, events, censored."""
        return {
            "time": self.time,
            "at_risk": self.at_risk,
            "events": self.events,
            "censored": self.censored,
        }


@dataclass(frozen=True)
class SurvivalEstimate:
    """Kaplan-Meier estimate at a landmark time (e.g. 12-month overall survival).

    ``survival`` etc. are None when the landmark lies beyond the last observed time
    (the KM estimate is not defined there) or the data set is empty.
    """

    time: float
    survival: float | None
    ci_lower: float | None
    ci_upper: float | None
    std_err: float | None
    at_risk: int
    confidence: float
    ci_method: str

    def to_dict(self) -> dict[str, Any]:
        """Keys: time, survival, ci_lower, ci_upper, std_err, at_risk, confidence,
        ci_method."""
        return {
            "time": self.time,
            "survival": self.survival,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "std_err": self.std_err,
            "at_risk": self.at_risk,
            "confidence": self.confidence,
            "ci_method": self.ci_method,
        }


@dataclass(frozen=True)
class KMResult:
    """A Kaplan-Meier curve with pointwise CI, median survival and its CI.

    ``steps`` holds one :class:`KMStep` per distinct observed time (events and
    censorings) in increasing order; S(t) = 1 before the first step.  ``median`` is
    None when S(t) never falls to 0.5 ("not reached"), ``median_ci_lower`` /
    ``median_ci_upper`` are None when the corresponding band never falls to 0.5.
    """

    n: int
    events: int
    censored: int
    steps: tuple[KMStep, ...]
    median: float | None
    median_ci_lower: float | None
    median_ci_upper: float | None
    confidence: float
    ci_method: str
    method: str
    median_method: str
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Keys: n, events, censored, median, median_ci_lower, median_ci_upper,
        confidence, ci_method, method, median_method, notes, steps (list of KMStep
        dicts)."""
        return {
            "n": self.n,
            "events": self.events,
            "censored": self.censored,
            "median": self.median,
            "median_ci_lower": self.median_ci_lower,
            "median_ci_upper": self.median_ci_upper,
            "confidence": self.confidence,
            "ci_method": self.ci_method,
            "method": self.method,
            "median_method": self.median_method,
            "notes": list(self.notes),
            "steps": [step.to_dict() for step in self.steps],
        }

    def numbers_at_risk(self, times_grid: Iterable[float]) -> tuple[AtRiskRow, ...]:
        """Numbers at risk (and cumulative events/censorings) at each time of the grid.

        For a grid time t: at_risk = number of subjects with observed time >= t;
        events / censored = cumulative counts with observed time < t (see AtRiskRow).
        The grid is used as given (typically 0, 3, 6, ... months in the plot's unit).
        """
        step_times = [step.time for step in self.steps]
        cum_events = [0]
        cum_censored = [0]
        for step in self.steps:
            cum_events.append(cum_events[-1] + step.events)
            cum_censored.append(cum_censored[-1] + step.censored)
        rows = []
        for raw in times_grid:
            t = float(raw)
            before = bisect.bisect_left(step_times, t)  # steps with time < t
            events, censored = cum_events[before], cum_censored[before]
            rows.append(AtRiskRow(t, self.n - events - censored, events, censored))
        return tuple(rows)

    def survival_at(self, time: float) -> SurvivalEstimate:
        """Kaplan-Meier estimate S(time) with its pointwise CI (landmark rate).

        S is right-continuous: an event at exactly ``time`` is included.  Before the
        first observed time S = 1 with CI (1, 1).  Beyond the largest observed time the
        estimate is undefined and None is returned (R's ``summary.survfit`` drops such times
        unless ``extend=TRUE``).
        ``at_risk`` is the number at risk just before ``time``.
        """
        t = float(time)
        at_risk = self.numbers_at_risk([t])[0].at_risk
        if not self.steps or t > self.steps[-1].time:
            return SurvivalEstimate(
                t, None, None, None, None, at_risk, self.confidence, self.ci_method
            )
        index = bisect.bisect_right([step.time for step in self.steps], t) - 1
        if index < 0:
            return SurvivalEstimate(t, 1.0, 1.0, 1.0, 0.0, at_risk, self.confidence, self.ci_method)
        step = self.steps[index]
        return SurvivalEstimate(
            t,
            step.survival,
            step.ci_lower,
            step.ci_upper,
            step.std_err,
            at_risk,
            self.confidence,
            self.ci_method,
        )


def _first_time_at_or_below(
    times: Sequence[float], values: Sequence[float | None], level: float = 0.5
) -> float | None:
    """Smallest time whose (defined) value is <= level (with float slack), else None."""
    for t, value in zip(times, values, strict=True):
        if value is not None and value <= level + _HALF_TOLERANCE:
            return t
    return None


def kaplan_meier(
    times: Iterable[float],
    events: Iterable[bool | int],
    confidence: float = 0.95,
    ci_method: CIMethod = "log-log",
) -> KMResult:
    """Kaplan-Meier survival estimate with pointwise CI and median survival.

    ``times`` are non-negative follow-up times in any unit (days in this project);
    ``events`` are 1/True for the event (progression, death, ...) and 0/False for a
    right-censored observation.

    Estimate: ``scipy.stats.ecdf(scipy.stats.CensoredData(uncensored=..., right=...)).sf``
    evaluated at every distinct observed time.  Ties: events precede censorings.

    Pointwise CI (``ci_method``):

    * ``"log-log"`` (default, as lifelines and Stata):
      ``sf.confidence_interval(method="log-log")``;
    * ``"linear"``: plain Greenwood S +/- z*SE(S), clipped to [0, 1]
      (``sf.confidence_interval(method="linear")``, SciPy's default);
    * ``"log"``: S*exp(+/- z*SE(log S)) with the upper limit clipped to 1, computed here
      from the Greenwood variance because SciPy does not offer it; this is R
      ``survfit``'s default and allows checking against R output.

    Where S(t) = 1 the band is (1, 1) (variance zero); where S(t) = 0 it is undefined
    (None), as in R.  ``std_err`` is the Greenwood SE of S(t).

    Median: the smallest observed time with S(t) <= 0.5 (the lifelines convention).  R's
    ``survfit`` differs when S(t) is exactly 0.5 over an interval: it reports the
    midpoint between that time and the next event time.  None if not reached.

    Median CI: inversion of the pointwise band (Brookmeyer-Crowley type, as R and
    lifelines): lower limit = first time the lower band is <= 0.5, upper limit = first
    time the upper band is <= 0.5; None if that band never reaches 0.5 ("not
    reached").  Since lower band <= S <= upper band, lower limit <= median <= upper
    limit.

    Empty input and all-censored input are valid (no steps / a flat curve at 1, with
    median and CI None) and explained in ``notes``.
    """
    confidence = _check_confidence(confidence)
    if ci_method not in _CI_METHOD_DESCRIPTIONS:
        raise ValueError(
            f"ci_method must be one of {tuple(_CI_METHOD_DESCRIPTIONS)}, got {ci_method!r}"
        )
    t, e = _as_survival_data(times, events)
    label = _pct_label(confidence)
    method = (
        "Kaplan-Meier estimator (scipy.stats.ecdf on CensoredData); pointwise "
        f"{label} CI: {_CI_METHOD_DESCRIPTIONS[ci_method]}"
    )
    median_method = (
        "median = smallest time with S(t) <= 0.5 (lifelines convention; R survfit uses "
        "the midpoint where S(t) = 0.5 exactly over an interval); "
        f"{label} CI by inverting the pointwise {ci_method} band (Brookmeyer-Crowley "
        "type, as R survfit and lifelines): lower = first time the lower band <= 0.5, "
        "upper = first time the upper band <= 0.5; None = not reached"
    )
    notes: list[str] = []
    n = int(t.size)
    n_events = int(e.sum())

    if n == 0:
        notes.append("no patients: no Kaplan-Meier estimate")
        return KMResult(
            n=0,
            events=0,
            censored=0,
            steps=(),
            median=None,
            median_ci_lower=None,
            median_ci_upper=None,
            confidence=confidence,
            ci_method=ci_method,
            method=method,
            median_method=median_method,
            notes=tuple(notes),
        )
    if n_events == 0:
        notes.append("no events (all observations censored): S(t) = 1, median not reached")

    # Event table at the distinct observed times (events precede censorings at ties).
    unique_times, inverse = np.unique(t, return_inverse=True)
    d = np.bincount(inverse, weights=e.astype(float), minlength=unique_times.size)
    c = np.bincount(inverse, weights=(~e).astype(float), minlength=unique_times.size)
    d = d.astype(int)
    c = c.astype(int)
    removed_before = np.concatenate(([0], np.cumsum(d + c)[:-1]))
    at_risk = n - removed_before

    # Kaplan-Meier estimate and SciPy's pointwise band.
    sf = stats.ecdf(stats.CensoredData(uncensored=t[e], right=t[~e])).sf
    survival = np.clip(np.asarray(sf.evaluate(unique_times), dtype=float), 0.0, 1.0)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # SciPy warns that the band is undefined where S = 0 or 1; handled below.
        warnings.simplefilter("ignore", RuntimeWarning)

        # Greenwood: Var(log S) ~ sum d / (n (n - d)); infinite once everyone has failed.
        terms = np.where(d > 0, d / (at_risk * (at_risk - d).astype(float)), 0.0)
        se_log = np.sqrt(np.cumsum(terms))
        std_err = survival * se_log

        if ci_method == "log":
            z = float(special.ndtri(0.5 + confidence / 2.0))  # = stats.norm.ppf
            lower = survival * np.exp(-z * se_log)
            upper = np.minimum(1.0, survival * np.exp(z * se_log))
        else:
            band = sf.confidence_interval(confidence_level=confidence, method=ci_method)
            lower = np.asarray(band.low.evaluate(unique_times), dtype=float)
            upper = np.asarray(band.high.evaluate(unique_times), dtype=float)

    steps = []
    zero_reached = False
    for i, time in enumerate(unique_times):
        s = float(survival[i])
        if s >= 1.0:
            lo: float | None = 1.0
            hi: float | None = 1.0
            se: float | None = 0.0
        elif s <= 0.0:
            lo = hi = se = None
            zero_reached = True
        else:
            lo = _num(np.clip(lower[i], 0.0, 1.0))
            hi = _num(np.clip(upper[i], 0.0, 1.0))
            se = _num(std_err[i])
        steps.append(
            KMStep(
                time=float(time),
                survival=s,
                ci_lower=lo,
                ci_upper=hi,
                std_err=se,
                at_risk=int(at_risk[i]),
                events=int(d[i]),
                censored=int(c[i]),
            )
        )
    if zero_reached:
        notes.append("S(t) reaches 0: the pointwise CI and SE are undefined there (None)")

    step_times = [step.time for step in steps]
    median = _first_time_at_or_below(step_times, [step.survival for step in steps])
    median_lower = _first_time_at_or_below(step_times, [step.ci_lower for step in steps])
    median_upper = _first_time_at_or_below(step_times, [step.ci_upper for step in steps])
    if median is None and n_events:
        notes.append("median not reached: S(t) stays above 0.5")

    return KMResult(
        n=n,
        events=n_events,
        censored=n - n_events,
        steps=tuple(steps),
        median=median,
        median_ci_lower=median_lower,
        median_ci_upper=median_upper,
        confidence=confidence,
        ci_method=ci_method,
        method=method,
        median_method=median_method,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------
# Duration of response
# ---------------------------------------------------------------------------


def _elapsed(start: float | date, end: float | date) -> float:
    """end - start as a float: days for date/datetime values, else plain subtraction."""
    if isinstance(start, date) != isinstance(end, date):
        raise TypeError("response start and end must both be dates or both be numbers")
    if isinstance(start, date) and isinstance(end, date):
        if isinstance(start, datetime) != isinstance(end, datetime):
            raise TypeError("do not mix date and datetime values")
        return (end - start).total_seconds() / 86400.0
    return float(end) - float(start)  # type: ignore[arg-type]  # numbers here


def duration_of_response(
    first_response: Iterable[float | date],
    end: Iterable[float | date],
    progressed_or_died: Iterable[bool | int],
    confidence: float = 0.95,
    ci_method: CIMethod = "log-log",
) -> KMResult:
    """Duration of response (DoR): Kaplan-Meier over responders only.

    One entry per responder (confirmed CR or PR; the caller selects them):
    ``first_response`` is when the response was first documented (the first of the
    confirmed assessments), ``end`` the date of progression or death if
    ``progressed_or_died`` is true, else the date of the last adequate tumour
    assessment (censoring).  Values are either all numbers (e.g. days since
    randomisation) or all ``date`` / ``datetime`` objects, in which case durations are
    in days.  A thin wrapper over :func:`kaplan_meier` on end - first_response; the
    median DoR and its CI have the same conventions.  Raises ValueError when an end
    precedes the first response.
    """
    starts = list(first_response)
    ends = list(end)
    flags = list(progressed_or_died)
    if not len(starts) == len(ends) == len(flags):
        raise ValueError("first_response, end and progressed_or_died differ in length")
    durations = [_elapsed(s, f) for s, f in zip(starts, ends, strict=True)]
    if any(value < 0 for value in durations):
        raise ValueError("an end date precedes the first response")
    result = kaplan_meier(durations, flags, confidence=confidence, ci_method=ci_method)
    note = (
        "duration of response: responders only, time from first documented response to "
        "progression or death, censored at the last adequate tumour assessment"
    )
    return KMResult(
        n=result.n,
        events=result.events,
        censored=result.censored,
        steps=result.steps,
        median=result.median,
        median_ci_lower=result.median_ci_lower,
        median_ci_upper=result.median_ci_upper,
        confidence=result.confidence,
        ci_method=result.ci_method,
        method=f"Duration of response; {result.method}",
        median_method=result.median_method,
        notes=(note, *result.notes),
    )
