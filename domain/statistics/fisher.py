"""Comparison of two proportions: Fisher's exact test with the conditional maximum-likelihood
odds ratio and its exact CI (computed on arrays, memoised), or the sample odds ratio with
Woolf's CI above ``ODDS_RATIO_EXACT_LIMIT``.

``compare_proportions`` and ``conditional_odds_ratio`` both read ``ODDS_RATIO_EXACT_LIMIT``
from this module at call time (a test that changes it patches ``domain.statistics.fisher``)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special, stats

from .helpers import _check_confidence, _check_count, _num, _pct_label
from .proportions import Proportion, proportion_ci

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
