"""Tests and intervals for response rates (pure Python over SciPy; no Django).

* :func:`binomial_test` - exact one-sample binomial test of the ORR against the
  protocol's null rate (``scipy.stats.binomtest``), one-sided (H1: rate > p0) or
  two-sided (as R ``binom.test``, which sums the probabilities of outcomes no more likely
  than the observed one).
* :func:`difference_ci` - CI for the difference of two proportions by Newcombe's hybrid
  score method (Newcombe, Stat Med 1998;17:873-90, method 10): Wilson score intervals of
  each rate combined. Good coverage with small arms and zero cells, unlike the Wald
  interval.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from scipy import special, stats

__all__ = ["binomial_test", "difference_ci", "wilson_ci"]

Sided = Literal["one-sided", "two-sided"]

NEWCOMBE_METHOD = "Newcombe hybrid score interval (Wilson score limits of each rate)"


def binomial_test(k: int, n: int, null_rate: float, *, sided: Sided = "two-sided") -> dict:
    """Exact binomial test of k responders in n against ``null_rate``."""
    if not 0 < null_rate < 1:
        raise ValueError("null_rate must lie strictly between 0 and 1")
    out: dict[str, Any] = {
        "responders": k,
        "n": n,
        "null_rate": null_rate,
        "sided": sided,
        "alternative": "rate > null rate" if sided == "one-sided" else "rate != null rate",
        "p_value": None,
        "method": "exact binomial test (scipy.stats.binomtest)",
    }
    if n == 0:
        return out
    alternative = "greater" if sided == "one-sided" else "two-sided"
    out["p_value"] = float(stats.binomtest(k, n, null_rate, alternative=alternative).pvalue)
    return out


def wilson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    z = special.ndtri(0.5 + confidence / 2)  # = stats.norm.ppf, without its checks
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def difference_ci(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> dict:
    """Rate 1 minus rate 2 with Newcombe's hybrid score CI (None when an arm is empty)."""
    out: dict[str, Any] = {
        "difference": None,
        "ci_lower": None,
        "ci_upper": None,
        "confidence": confidence,
        "method": NEWCOMBE_METHOD,
    }
    if n1 == 0 or n2 == 0:
        return out
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_ci(k1, n1, confidence)
    l2, u2 = wilson_ci(k2, n2, confidence)
    d = p1 - p2
    out.update(
        difference=d,
        ci_lower=d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        ci_upper=d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )
    return out
