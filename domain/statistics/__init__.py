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

Layout of the package (``from domain.statistics import X`` is the public interface; every
name the former single module defined, private helpers included, is re-exported here):

* ``helpers``: value conversion, argument checks, ``format_p_value``;
* ``proportions``: ``Proportion``, ``proportion_ci``, ``clopper_pearson``,
  ``ResponseRates``, ``response_rates``, ``BOR_CATEGORIES``;
* ``fisher``: ``compare_proportions`` (``FisherResult``), ``conditional_odds_ratio``,
  ``ODDS_RATIO_EXACT_LIMIT``;
* ``survival``: ``kaplan_meier`` (``KMResult``, ``KMStep``, ``AtRiskRow``,
  ``SurvivalEstimate``, ``CIMethod``) and ``duration_of_response``;
* ``log_rank``: ``logrank`` (``LogRankResult``).

Functions look module constants up in their own submodule: to change
``ODDS_RATIO_EXACT_LIMIT`` for a test, patch ``domain.statistics.fisher``.
"""

from __future__ import annotations

# ``name as name``: re-exported for callers of the former single module (outside __all__).
from .fisher import ODDS_RATIO_EXACT_LIMIT as ODDS_RATIO_EXACT_LIMIT
from .fisher import FisherResult, compare_proportions
from .fisher import _ConditionalTable as _ConditionalTable
from .fisher import _solve_log as _solve_log
from .fisher import conditional_odds_ratio as conditional_odds_ratio
from .helpers import _check_confidence as _check_confidence
from .helpers import _check_count as _check_count
from .helpers import _num as _num
from .helpers import _pct_label as _pct_label
from .helpers import format_p_value
from .log_rank import LogRankResult, logrank
from .proportions import _CANONICAL_BOR as _CANONICAL_BOR
from .proportions import BOR_CATEGORIES, Proportion, ResponseRates, proportion_ci, response_rates
from .proportions import _normalise_bor as _normalise_bor
from .proportions import clopper_pearson as clopper_pearson
from .survival import _CI_METHOD_DESCRIPTIONS as _CI_METHOD_DESCRIPTIONS
from .survival import _HALF_TOLERANCE as _HALF_TOLERANCE
from .survival import (
    AtRiskRow,
    KMResult,
    KMStep,
    SurvivalEstimate,
    duration_of_response,
    kaplan_meier,
)
from .survival import CIMethod as CIMethod
from .survival import _as_survival_data as _as_survival_data
from .survival import _elapsed as _elapsed
from .survival import _first_time_at_or_below as _first_time_at_or_below

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
