"""Trial statistics for the response and survival dashboards (pure Python, no Django).

Everything here is database free and deterministic so that the dashboard and the
command-line analysis of a frozen data cut show the same numbers.  All heavy lifting is
done by SciPy; this module fixes the conventions, handles the degenerate cases that
real trial data produce (empty arms, no events, zero cells) and states the method used
in every result.

Conventions
-----------
* Proportions (ORR, DCR): Clopper-Pearson exact confidence interval, in closed form from
  the beta quantiles (``scipy.special.betaincinv``; equal to
  ``scipy.stats.binomtest(k, n).proportion_ci(method="exact")`` to 1e-9, tested).
* Arm comparison of proportions: Fisher's exact test, two-sided
  (``scipy.stats.fisher_exact``), with the conditional maximum-likelihood odds ratio and
  its exact CI, which is what R's ``fisher.test`` reports, computed on arrays over the
  support of the conditional (Fisher noncentral hypergeometric) distribution: the same
  definitions as ``scipy.stats.contingency.odds_ratio(kind="conditional")`` (tested
  against it), at a cost linear in the support instead of SciPy's ~n^1.4, memoised by
  the four counts.  Above ``ODDS_RATIO_EXACT_LIMIT`` patients in the table the stated
  alternative is used: the sample odds ratio with Woolf's logit CI (the method string
  says which).  SciPy's ``fisher_exact`` statistic is the *sample*
  odds ratio (ad/bc); it is returned separately and labelled as such.
* Survival: Kaplan-Meier (``scipy.stats.ecdf`` on ``scipy.stats.CensoredData``) with a
  pointwise CI from the Greenwood variance on the log(-log S) scale by default (as
  lifelines and Stata), or plain Greenwood ("linear", SciPy's default) or the log scale
  ("log", R ``survfit``'s default).  Median = smallest time with S(t) <= 0.5; its CI is
  obtained by inverting the pointwise band (Brookmeyer-Crowley type, as R and
  lifelines do).
* Log-rank test: ``scipy.stats.logrank`` (two-sided); reported as the chi-square
  statistic on 1 df, i.e. the square of SciPy's standardised statistic.

Every result is a frozen dataclass with ``to_dict()`` returning plain JSON types: full
precision floats (rounding is a presentation matter, see ``Proportion.format`` and
``format_p_value``) and ``None`` wherever a quantity is undefined or infinite.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from scipy import special, stats

__all__ = [
    "BOR_CATEGORIES",
    "AtRiskRow",
    "FisherResult",
    "KMResult",
    "KMStep",
    "LogRankResult",
    "Proportion",
    "ResponseRates",
    "SurvivalEstimate",
    "compare_proportions",
    "duration_of_response",
    "format_p_value",
    "kaplan_meier",
    "logrank",
    "proportion_ci",
    "response_rates",
]

CIMethod = Literal["log-log", "linear", "log"]

#: Best overall response categories understood by :func:`response_rates`
#: (RECIST 1.1; "NON-CR/NON-PD" is the BOR for non-target-only disease).
BOR_CATEGORIES: tuple[str, ...] = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")

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
# Small helpers
# ---------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    """Return ``value`` as a plain finite float, or None if missing, NaN or infinite."""
    if value is None:
        return None
    result = float(value)
    if not math.isfinite(result):
        return None
    return result


def _check_confidence(confidence: float) -> float:
    """Validate a confidence level strictly between 0 and 1 and return it as float."""
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return confidence


def _pct_label(confidence: float) -> str:
    """Format a confidence level for method strings: 0.95 -> '95%'."""
    return f"{confidence * 100:g}%"


def _check_count(name: str, value: int) -> int:
    """Validate a non-negative integer count (bool is rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def format_p_value(p_value: float | None, digits: int = 3) -> str:
    """Format a p-value for display: 'p = 0.600', 'p < 0.001', or 'p not estimable'.

    Presentation helper so that the dashboard and the command-line report round the
    same way; the stored numbers stay at full precision.
    """
    if p_value is None or not math.isfinite(p_value):
        return "p not estimable"
    threshold = 10.0**-digits
    if p_value < threshold:
        return f"p < {threshold:.{digits}f}"
    return f"p = {p_value:.{digits}f}"


# ---------------------------------------------------------------------------
# Proportions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Proportion:
    """A binomial proportion k/n with an exact (Clopper-Pearson) confidence interval.

    ``estimate``, ``ci_lower`` and ``ci_upper`` are fractions in [0, 1] (not percent)
    and are None when n == 0.
    """

    k: int
    n: int
    estimate: float | None
    ci_lower: float | None
    ci_upper: float | None
    confidence: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        """Keys: k, n, estimate, ci_lower, ci_upper, confidence, method."""
        return {
            "k": self.k,
            "n": self.n,
            "estimate": self.estimate,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "confidence": self.confidence,
            "method": self.method,
        }

    def format(self, digits: int = 1) -> str:
        """Human-readable form, e.g. '32.3% (95% CI 16.7%-51.4%)'; 'NE (n = 0)' if n == 0."""
        if self.estimate is None or self.ci_lower is None or self.ci_upper is None:
            return "NE (n = 0)"
        return (
            f"{self.estimate * 100:.{digits}f}% ({_pct_label(self.confidence)} CI "
            f"{self.ci_lower * 100:.{digits}f}%-{self.ci_upper * 100:.{digits}f}%)"
        )


def proportion_ci(k: int, n: int, confidence: float = 0.95) -> Proportion:
    """Estimate k/n with a Clopper-Pearson exact two-sided confidence interval.

    Method: the Clopper-Pearson interval from beta quantiles (:func:`clopper_pearson`,
    equal to ``scipy.stats.binomtest(k, n).proportion_ci(confidence_level,
    method="exact")``; at k = 0 the lower limit is 0 and at k = n the upper limit is 1).  For n == 0 the estimate and the interval are
    None rather than an error, so an arm without evaluable patients can still be shown.

    Raises ValueError for negative counts, k > n or a confidence outside (0, 1).
    """
    k = _check_count("k", k)
    n = _check_count("n", n)
    confidence = _check_confidence(confidence)
    if k > n:
        raise ValueError(f"k ({k}) must not exceed n ({n})")
    method = f"Clopper-Pearson exact {_pct_label(confidence)} CI"
    if n == 0:
        return Proportion(k, n, None, None, None, confidence, method)
    low, high = clopper_pearson(k, n, confidence)
    return Proportion(
        k=k, n=n, estimate=k / n, ci_lower=low, ci_upper=high, confidence=confidence, method=method
    )


@lru_cache(maxsize=4096)
def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson limits in closed form: the beta quantiles
    ``B(alpha/2; k, n - k + 1)`` and ``B(1 - alpha/2; k + 1, n - k)`` (0 at k = 0, 1 at
    k = n), computed with ``scipy.special.betaincinv``.

    The same limits as ``scipy.stats.binomtest(k, n).proportion_ci(method="exact")``
    (which finds them by root-finding on the binomial tail, ~6 ms a call) to 1e-9, in
    microseconds; memoised by (k, n, confidence). Requires 0 <= k <= n, n > 0.
    """
    alpha = (1.0 - confidence) / 2.0
    low = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, alpha))
    high = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1.0 - alpha))
    return low, high


# ---------------------------------------------------------------------------
# Response rates
# ---------------------------------------------------------------------------


_CANONICAL_BOR = {"".join(ch for ch in c if ch.isalnum()): c for c in BOR_CATEGORIES}


@lru_cache(maxsize=256)
def _normalise_bor(label: str) -> str:
    """Map a BOR label to one of BOR_CATEGORIES (case and punctuation insensitive)."""
    key = "".join(ch for ch in str(label).upper() if ch.isalnum())
    canonical = _CANONICAL_BOR
    if key not in canonical:
        raise ValueError(
            f"unknown best overall response {label!r}; expected one of {BOR_CATEGORIES}"
        )
    return canonical[key]


@dataclass(frozen=True)
class ResponseRates:
    """Counts by best overall response with ORR and DCR (Clopper-Pearson CIs).

    ``evaluable`` is the denominator of both rates; see :func:`response_rates` for its
    definition.
    """

    cr: int
    pr: int
    sd: int
    non_cr_non_pd: int
    pd: int
    ne: int
    evaluable: int
    exclude_ne: bool
    orr: Proportion
    dcr: Proportion
    denominator: str
    method: str

    @property
    def counts(self) -> dict[str, int]:
        """Counts keyed by the labels of BOR_CATEGORIES (CR, PR, SD, NON-CR/NON-PD, PD, NE)."""
        values = (self.cr, self.pr, self.sd, self.non_cr_non_pd, self.pd, self.ne)
        return dict(zip(BOR_CATEGORIES, values, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """Keys: counts (CR, PR, SD, NON-CR/NON-PD, PD, NE), evaluable, exclude_ne,
        orr, dcr (each a Proportion dict), denominator, method."""
        return {
            "counts": self.counts,
            "evaluable": self.evaluable,
            "exclude_ne": self.exclude_ne,
            "orr": self.orr.to_dict(),
            "dcr": self.dcr.to_dict(),
            "denominator": self.denominator,
            "method": self.method,
        }


def response_rates(
    bor_counts: Mapping[str, int],
    *,
    exclude_ne: bool = False,
    confidence: float = 0.95,
) -> ResponseRates:
    """Objective response rate and disease control rate from counts of best overall response.

    ``bor_counts`` maps BOR labels to patient counts; labels are matched case- and
    punctuation-insensitively against CR, PR, SD, NON-CR/NON-PD, PD and NE, missing
    categories count 0 and unknown labels raise ValueError.

    Denominator ("evaluable"): by default every patient with a best overall response,
    *including* NE (CR + PR + SD + NON-CR/NON-PD + PD + NE).  This is the RECIST 1.1 /
    intention-to-treat convention: patients who were never adequately assessed (early
    death, missing scans, SD before the protocol's minimum interval) are non-responders,
    so the caller should count them as NE rather than drop them.  With
    ``exclude_ne=True`` NE patients are removed from the denominator (a "per-protocol
    evaluable" population; it inflates the rates and must be labelled as such).

    ORR = (CR + PR) / evaluable.  DCR = (CR + PR + SD + NON-CR/NON-PD) / evaluable;
    NON-CR/NON-PD is the RECIST 1.1 equivalent of SD for non-target-only disease and is
    zero for trials that require measurable disease.  Both rates carry a
    Clopper-Pearson exact CI (see :func:`proportion_ci`).
    """
    counts = dict.fromkeys(BOR_CATEGORIES, 0)
    for label, value in bor_counts.items():
        category = _normalise_bor(label)
        counts[category] += _check_count(f"count for {label!r}", value)

    responders = counts["CR"] + counts["PR"]
    controlled = responders + counts["SD"] + counts["NON-CR/NON-PD"]
    evaluable = sum(counts.values()) - (counts["NE"] if exclude_ne else 0)
    if exclude_ne:
        denominator = "patients with a best overall response other than NE (NE excluded)"
    else:
        denominator = "all patients with a best overall response, NE included (RECIST 1.1 / ITT)"
    orr = proportion_ci(responders, evaluable, confidence)
    dcr = proportion_ci(controlled, evaluable, confidence)
    method = (
        "ORR = (CR + PR) / evaluable; DCR = (CR + PR + SD + non-CR/non-PD) / evaluable; "
        f"{orr.method}"
    )
    return ResponseRates(
        cr=counts["CR"],
        pr=counts["PR"],
        sd=counts["SD"],
        non_cr_non_pd=counts["NON-CR/NON-PD"],
        pd=counts["PD"],
        ne=counts["NE"],
        evaluable=evaluable,
        exclude_ne=exclude_ne,
        orr=orr,
        dcr=dcr,
        denominator=denominator,
        method=method,
    )


# ---------------------------------------------------------------------------
# Conditional odds ratio (exact, on arrays)
# ---------------------------------------------------------------------------

#: Patients in a 2x2 table above which the odds ratio falls back to the sample odds
#: ratio with Woolf's logit CI (stated in the method).  The exact computation is linear
#: in the table's size (about 50 ms at 100,000 patients), so the limit is far above any
#: trial; it bounds the memory of the support arrays.
ODDS_RATIO_EXACT_LIMIT = 2_000_000


class _ConditionalTable:
    """Fisher's noncentral hypergeometric distribution of cell a given the margins of
    [[a, b], [c, d]]: support lo..hi, central log-weights log C(n1, x) + log C(n2, k - x);
    the weight of x at odds ratio psi is that times psi**x."""

    def __init__(self, a: int, b: int, c: int, d: int) -> None:
        n1, n2, k = a + b, c + d, a + c
        self.x = a
        self.lo, self.hi = max(0, k - n2), min(k, n1)
        # At the estimate and the CI limits the distribution is centred within a few
        # standard deviations of a (variance ~ 1 / (1/a + 1/b + 1/c + 1/d)); outside a
        # window of 40 of them every weight is below exp(-800) of the largest, zero in
        # double precision. Only the window is computed (the whole support with a zero
        # cell, where the variance approximation does not hold).
        lo, hi = self.lo, self.hi
        if min(a, b, c, d) > 0:
            width = int(40 * math.sqrt(1.0 / (1 / a + 1 / b + 1 / c + 1 / d))) + 50
            lo, hi = max(lo, a - width), min(hi, a + width)
        self.first = lo
        xs = np.arange(lo, hi + 1, dtype=float)
        self.xs = xs
        self.logw = (
            special.gammaln(n1 + 1)
            - special.gammaln(xs + 1)
            - special.gammaln(n1 - xs + 1)
            + special.gammaln(n2 + 1)
            - special.gammaln(k - xs + 1)
            - special.gammaln(n2 - k + xs + 1)
        )

    def pmf(self, log_psi: float) -> np.ndarray:
        logp = self.logw + self.xs * log_psi
        logp -= logp.max()
        p = np.exp(logp)
        return p / p.sum()

    def mean(self, log_psi: float) -> float:
        return float(self.xs @ self.pmf(log_psi))

    def cdf(self, log_psi: float) -> float:  # P(X <= a)
        return float(self.pmf(log_psi)[: self.x - self.first + 1].sum())

    def sf_below(self, log_psi: float) -> float:  # P(X >= a)
        return float(self.pmf(log_psi)[self.x - self.first :].sum())


def _solve_log(func: Any) -> float:
    """Root in psi > 0 of an increasing func(log psi), bracketing by doublings from
    psi = 1 as SciPy's ``odds_ratio`` does, then Brent's method (xtol 1e-13 on psi)."""
    from scipy.optimize import brentq

    nc = 1.0
    value = func(0.0)
    if value == 0:
        return nc
    if value > 0:
        while func(math.log(nc / 2.0)) > 0:
            nc /= 2.0
        lo, hi = nc / 2.0, nc
    else:
        while func(math.log(nc * 2.0)) < 0:
            nc *= 2.0
        lo, hi = nc, nc * 2.0
    return float(brentq(lambda psi: func(math.log(psi)), lo, hi, xtol=1e-13))


@lru_cache(maxsize=1024)
def conditional_odds_ratio(
    a: int, b: int, c: int, d: int, confidence: float = 0.95
) -> tuple[float, float, float, str]:
    """(estimate, ci_lower, ci_upper, kind) of the odds ratio of [[a, b], [c, d]].

    Up to ``ODDS_RATIO_EXACT_LIMIT`` patients, ``kind`` is ``"conditional"``: the
    conditional maximum-likelihood estimate (the odds ratio whose conditional mean of a
    is a) and the exact CI (lower: P(X >= a) = alpha/2, upper: P(X <= a) = alpha/2),
    0 or infinity at the ends of the support: the definitions of
    ``scipy.stats.contingency.odds_ratio(kind="conditional")`` and R's ``fisher.test``,
    evaluated on the whole support at once. Above the limit ``kind`` is ``"sample"``:
    ad/bc with Woolf's logit CI. Infinite values are ``math.inf``; NaN when undefined.
    Memoised by the four counts and the confidence.
    """
    alpha = (1.0 - confidence) / 2.0
    if a + b + c + d > ODDS_RATIO_EXACT_LIMIT:
        result = stats.contingency.odds_ratio([[a, b], [c, d]], kind="sample")
        ci = result.confidence_interval(confidence_level=confidence)
        return float(result.statistic), float(ci.low), float(ci.high), "sample"
    table = _ConditionalTable(a, b, c, d)
    if table.lo == table.hi:
        return math.nan, 0.0, math.inf, "conditional"
    x = table.x
    with np.errstate(over="ignore", under="ignore"):
        if x == table.lo:
            estimate, lower = 0.0, 0.0
        else:
            estimate = _solve_log(lambda t: table.mean(t) - x)
            lower = _solve_log(lambda t: table.sf_below(t) - alpha)
        if x == table.hi:
            estimate, upper = (math.inf, math.inf)
        else:
            upper = _solve_log(lambda t: alpha - table.cdf(t))
    return estimate, lower, upper, "conditional"


# ---------------------------------------------------------------------------
# Fisher's exact test
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FisherResult:
    """Comparison of two proportions k1/n1 (group 1) and k2/n2 (group 2).

    Odds ratios are (odds of an event in group 1) / (odds in group 2).  ``odds_ratio``
    is the conditional maximum-likelihood estimate with its exact CI (as R's
    ``fisher.test``); ``sample_odds_ratio`` is ad/bc (SciPy's ``fisher_exact``
    statistic).  Infinite or undefined values are None and explained in ``notes``.
    """

    k1: int
    n1: int
    k2: int
    n2: int
    proportion1: Proportion
    proportion2: Proportion
    p_value: float | None
    odds_ratio: float | None
    odds_ratio_ci_lower: float | None
    odds_ratio_ci_upper: float | None
    sample_odds_ratio: float | None
    confidence: float
    method: str
    notes: tuple[str, ...] = ()
    #: "conditional" (exact) or "sample" (ad/bc, Woolf CI: above ODDS_RATIO_EXACT_LIMIT)
    odds_ratio_kind: str = "conditional"

    def to_dict(self) -> dict[str, Any]:
        """Keys: k1, n1, k2, n2, proportion1, proportion2 (Proportion dicts), p_value,
        odds_ratio, odds_ratio_ci_lower, odds_ratio_ci_upper, odds_ratio_kind,
        sample_odds_ratio, confidence, method, notes."""
        return {
            "k1": self.k1,
            "n1": self.n1,
            "k2": self.k2,
            "n2": self.n2,
            "proportion1": self.proportion1.to_dict(),
            "proportion2": self.proportion2.to_dict(),
            "p_value": self.p_value,
            "odds_ratio": self.odds_ratio,
            "odds_ratio_ci_lower": self.odds_ratio_ci_lower,
            "odds_ratio_ci_upper": self.odds_ratio_ci_upper,
            "odds_ratio_kind": self.odds_ratio_kind,
            "sample_odds_ratio": self.sample_odds_ratio,
            "confidence": self.confidence,
            "method": self.method,
            "notes": list(self.notes),
        }


def compare_proportions(
    k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95
) -> FisherResult:
    """Fisher's exact test of k1/n1 against k2/n2 with the conditional MLE odds ratio.

    Table [[k1, n1 - k1], [k2, n2 - k2]].  The p-value is two-sided from
    ``scipy.stats.fisher_exact`` (sum of the probabilities of all tables with the same
    margins that are no more likely than the observed one).  The odds ratio and its
    exact CI come from ``scipy.stats.contingency.odds_ratio(table, kind="conditional")``
    (conditional MLE, i.e. R's ``fisher.test`` estimate); the sample odds ratio ad/bc
    that SciPy's ``fisher_exact`` returns is reported separately.

    Degenerate tables do not raise: with an empty group the p-value is None; with no
    events or no non-events at all the p-value is 1 and the odds ratio undefined (None);
    a zero cell can make the odds ratio or a CI limit infinite, which is reported as
    None with a note.
    """
    k1 = _check_count("k1", k1)
    n1 = _check_count("n1", n1)
    k2 = _check_count("k2", k2)
    n2 = _check_count("n2", n2)
    confidence = _check_confidence(confidence)
    if k1 > n1 or k2 > n2:
        raise ValueError("k must not exceed n in either group")

    proportion1 = proportion_ci(k1, n1, confidence)
    proportion2 = proportion_ci(k2, n2, confidence)
    method = (
        "Fisher's exact test, two-sided p (scipy.stats.fisher_exact); odds ratio = "
        "conditional maximum-likelihood estimate with exact "
        f"{_pct_label(confidence)} CI (the definitions of scipy.stats.contingency."
        'odds_ratio kind="conditional" and R fisher.test, on the whole support at once); '
        "sample_odds_ratio = ad/bc"
    )
    notes: list[str] = []

    if n1 == 0 or n2 == 0:
        notes.append("a group has no patients: no comparison possible")
        return FisherResult(
            k1=k1,
            n1=n1,
            k2=k2,
            n2=n2,
            proportion1=proportion1,
            proportion2=proportion2,
            p_value=None,
            odds_ratio=None,
            odds_ratio_ci_lower=None,
            odds_ratio_ci_upper=None,
            sample_odds_ratio=None,
            confidence=confidence,
            method=method,
            notes=tuple(notes),
        )

    table = [[k1, n1 - k1], [k2, n2 - k2]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fisher = stats.fisher_exact(table, alternative="two-sided")
    estimate, low, high, kind = conditional_odds_ratio(k1, n1 - k1, k2, n2 - k2, confidence)
    if kind == "sample":
        method = (
            "Fisher's exact test, two-sided p (scipy.stats.fisher_exact); odds ratio = "
            f"sample odds ratio ad/bc with Woolf's logit {_pct_label(confidence)} CI (more "
            f"than {ODDS_RATIO_EXACT_LIMIT:,} patients: the conditional estimate is not "
            "computed); sample_odds_ratio = ad/bc"
        )
    p_value = _num(fisher.pvalue)
    if p_value is not None:
        p_value = min(p_value, 1.0)
    sample_or = _num(fisher.statistic)
    odds_ratio = _num(estimate)
    ci_lower = _num(low)
    ci_upper = _num(high)

    if k1 + k2 == 0 or k1 + k2 == n1 + n2:
        notes.append(
            "no events or no non-events in either group: the odds ratio is undefined "
            "(p = 1 by construction)"
        )
        odds_ratio = ci_lower = ci_upper = None
    else:
        if odds_ratio is None:
            notes.append("odds ratio is infinite (zero cell): reported as None")
        if ci_upper is None and math.isinf(high):
            notes.append("upper CI limit of the odds ratio is infinite: reported as None")
    if sample_or is None:
        notes.append("sample odds ratio ad/bc is infinite or undefined (zero cell)")

    return FisherResult(
        k1=k1,
        n1=n1,
        k2=k2,
        n2=n2,
        proportion1=proportion1,
        proportion2=proportion2,
        p_value=p_value,
        odds_ratio=odds_ratio,
        odds_ratio_ci_lower=ci_lower,
        odds_ratio_ci_upper=ci_upper,
        sample_odds_ratio=sample_or,
        confidence=confidence,
        method=method,
        notes=tuple(notes),
        odds_ratio_kind=kind,
    )


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


# ---------------------------------------------------------------------------
# Log-rank test
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LogRankResult:
    """Two-sample log-rank test.

    ``statistic`` is the chi-square on 1 df, (O_a - E_a)^2 / V, i.e. the square of
    SciPy's standardised statistic ``z_statistic``; a negative z means fewer events than
    expected in group a.  ``expected_a``/``expected_b`` are the expected numbers of
    events under the null (as R's ``survdiff`` prints).
    """

    label_a: str
    label_b: str
    n_a: int
    n_b: int
    observed_a: int
    observed_b: int
    expected_a: float | None
    expected_b: float | None
    statistic: float | None
    z_statistic: float | None
    p_value: float | None
    method: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Keys: label_a, label_b, n_a, n_b, observed_a, observed_b, expected_a,
        expected_b, statistic, df, z_statistic, p_value, method, notes."""
        return {
            "label_a": self.label_a,
            "label_b": self.label_b,
            "n_a": self.n_a,
            "n_b": self.n_b,
            "observed_a": self.observed_a,
            "observed_b": self.observed_b,
            "expected_a": self.expected_a,
            "expected_b": self.expected_b,
            "statistic": self.statistic,
            "df": 1,
            "z_statistic": self.z_statistic,
            "p_value": self.p_value,
            "method": self.method,
            "notes": list(self.notes),
        }


def logrank(
    times_a: Iterable[float],
    events_a: Iterable[bool | int],
    times_b: Iterable[float],
    events_b: Iterable[bool | int],
    *,
    label_a: str = "A",
    label_b: str = "B",
) -> LogRankResult:
    """Two-sided log-rank (Mantel-Cox) test comparing the survival of two groups.

    Method: ``scipy.stats.logrank(CensoredData_a, CensoredData_b, alternative="two-sided")``.
    SciPy returns the standardised statistic z = (O_a - E_a) / sqrt(V); the reported
    ``statistic`` is z**2, the chi-square on 1 df printed by R's ``survdiff``, and the
    two-sided p-value equals P(chi2_1 >= z**2).  Expected event counts are computed here
    from the pooled event table (hypergeometric expectation at each event time).

    If either group is empty or there are no events at all the test is undefined:
    statistic and p-value are None with a note.
    """
    ta, ea = _as_survival_data(times_a, events_a)
    tb, eb = _as_survival_data(times_b, events_b)
    method = (
        "log-rank (Mantel-Cox) test, two-sided (scipy.stats.logrank); statistic = "
        "chi-square on 1 df (square of SciPy's standardised statistic)"
    )
    notes: list[str] = []
    observed_a, observed_b = int(ea.sum()), int(eb.sum())

    def undefined(reason: str) -> LogRankResult:
        notes.append(reason)
        return LogRankResult(
            label_a=label_a,
            label_b=label_b,
            n_a=int(ta.size),
            n_b=int(tb.size),
            observed_a=observed_a,
            observed_b=observed_b,
            expected_a=None,
            expected_b=None,
            statistic=None,
            z_statistic=None,
            p_value=None,
            method=method,
            notes=tuple(notes),
        )

    if ta.size == 0 or tb.size == 0:
        return undefined("a group has no patients: log-rank test undefined")
    if observed_a + observed_b == 0:
        return undefined("no events in either group: log-rank test undefined")

    # Expected events in group a: sum over event times of d * n_a / n.
    all_times = np.concatenate([ta, tb])
    all_events = np.concatenate([ea, eb])
    event_times, deaths = np.unique(all_times[all_events], return_counts=True)
    at_risk_a = ta.size - np.searchsorted(np.sort(ta), event_times, side="left")
    at_risk = all_times.size - np.searchsorted(np.sort(all_times), event_times, side="left")
    expected_a = float(np.sum(deaths * at_risk_a / at_risk))
    expected_b = observed_a + observed_b - expected_a

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.logrank(
            stats.CensoredData(uncensored=ta[ea], right=ta[~ea]),
            stats.CensoredData(uncensored=tb[eb], right=tb[~eb]),
            alternative="two-sided",
        )
    z = _num(result.statistic)
    p_value = _num(result.pvalue)
    if z is None or p_value is None:
        notes.append("log-rank variance is zero: statistic undefined")
        z = p_value = None
    return LogRankResult(
        label_a=label_a,
        label_b=label_b,
        n_a=int(ta.size),
        n_b=int(tb.size),
        observed_a=observed_a,
        observed_b=observed_b,
        expected_a=expected_a,
        expected_b=expected_b,
        statistic=None if z is None else z * z,
        z_statistic=z,
        p_value=p_value,
        method=method,
        notes=tuple(notes),
    )
