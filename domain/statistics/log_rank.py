"""Two-sample log-rank test (``scipy.stats.logrank``), reported as chi-square on 1 df."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from .helpers import _num
from .survival import _as_survival_data

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
