"""Survival and response statistics checked against published R output.

Data set: ``aml`` of the R survival package (acute myelogenous leukaemia, Miller 1981;
``survival::aml``), 23 patients, time in weeks, embedded below.

Reference numbers (R, survival package; printed in the package's help pages and in
its vignette "survival", section on the Cox model, and reproduced in countless
tutorials):

    > coxph(Surv(time, status) ~ x, data = aml)
                     coef exp(coef) se(coef)     z      p
    xNonmaintained 0.9155    2.4981   0.5119 1.788 0.0737
    (summary: exp(coef) 2.498, lower .95 0.9159, upper .95 6.813)

    > survdiff(Surv(time, status) ~ x, data = aml)
    Chisq= 3.4 on 1 degrees of freedom, p= 0.07      (3.3963, p = 0.0653)

    > survfit(Surv(time, status) ~ x, data = aml)
                     n events median 0.95LCL 0.95UCL
    x=Maintained    11      7     31      18      NA
    x=Nonmaintained 12     11     23       8      NA

Reverse-KM median follow-up and the 12-week landmark are derived by hand below from the
same product-limit arithmetic R's ``survfit(Surv(time, 1 - status) ~ 1, data = aml)`` and
``summary(survfit(Surv(time, status) ~ 1, data = aml), times = 12)`` do.

Binomial test: R ``?binom.test`` example ``binom.test(c(682, 243), p = 3/4)``:
p-value = 0.3825. ORR difference: Newcombe (Stat Med 1998;17:873-90) table II,
example (a) 56/70 versus 48/80, method 10: 0.2000 (0.0524, 0.3339).
"""

from __future__ import annotations

import pytest

from domain.response_tests import binomial_test, difference_ci
from domain.statistics import kaplan_meier
from domain.survival import (
    at_risk_grid,
    cox_hazard_ratio,
    km_quantile,
    reverse_km_followup,
    stratified_logrank,
)

MAINTAINED = [(9, 1), (13, 1), (13, 0), (18, 1), (23, 1), (28, 0), (31, 1), (34, 1), (45, 0),
              (48, 1), (161, 0)]  # fmt: skip
NONMAINTAINED = [(5, 1), (5, 1), (8, 1), (8, 1), (12, 1), (16, 0), (23, 1), (27, 1), (30, 1),
                 (33, 1), (43, 1), (45, 1)]  # fmt: skip
ROWS = [(t, s, 0) for t, s in MAINTAINED] + [(t, s, 1) for t, s in NONMAINTAINED]
TIMES = [float(r[0]) for r in ROWS]
EVENTS = [bool(r[1]) for r in ROWS]
GROUP = [r[2] for r in ROWS]


def test_cox_matches_r_coxph_on_aml() -> None:
    cox = cox_hazard_ratio(TIMES, EVENTS, GROUP)
    assert cox["coef"] == pytest.approx(0.9155, abs=5e-5)
    assert cox["se"] == pytest.approx(0.5119, abs=5e-5)
    assert cox["hr"] == pytest.approx(2.4981, abs=5e-4)
    assert cox["ci_lower"] == pytest.approx(0.9159, abs=5e-4)
    assert cox["ci_upper"] == pytest.approx(6.813, abs=5e-3)
    assert cox["p_value"] == pytest.approx(0.0737, abs=5e-5)


def test_logrank_matches_r_survdiff_on_aml() -> None:
    result = stratified_logrank(TIMES, EVENTS, GROUP)
    assert result["statistic"] == pytest.approx(3.3963, abs=5e-4)
    assert result["p_value"] == pytest.approx(0.0653, abs=5e-4)


def test_stratified_logrank_with_one_stratum_equals_unstratified() -> None:
    one = stratified_logrank(TIMES, EVENTS, GROUP, ["x"] * len(TIMES))
    assert one["statistic"] == pytest.approx(stratified_logrank(TIMES, EVENTS, GROUP)["statistic"])
    # two strata: a different (stratum-wise) statistic, still defined
    halves = ["a" if i % 2 else "b" for i in range(len(TIMES))]
    two = stratified_logrank(TIMES, EVENTS, GROUP, halves)
    assert two["statistic"] != pytest.approx(one["statistic"])
    strat_cox = cox_hazard_ratio(TIMES, EVENTS, GROUP, strata=halves)
    assert strat_cox["stratified"] and strat_cox["hr"] != pytest.approx(2.4981, abs=1e-3)


def test_km_medians_and_ci_match_r_survfit_log_band() -> None:
    for rows, median, lower in ((MAINTAINED, 31, 18), (NONMAINTAINED, 23, 8)):
        km = kaplan_meier([t for t, _ in rows], [bool(s) for _, s in rows], ci_method="log")
        assert (km.median, km.median_ci_lower, km.median_ci_upper) == (median, lower, None)
        assert km_quantile([t for t, _ in rows], [bool(s) for _, s in rows], 0.5) == median


def test_reverse_km_median_follow_up_on_aml() -> None:
    # Reverse KM (censorings are the events): 13: 16/17; 16: x 14/15; 28: x 9/10;
    # 45: x 3/4 = 0.593; 161: 0 -> the median follow-up is 161 weeks.
    follow = reverse_km_followup(TIMES, EVENTS)
    assert follow["median"] == 161
    assert follow["q1"] == 45  # S first <= 0.75 at 45 (0.593), 28 leaves 0.791


def test_landmark_rate_at_12_weeks_on_aml() -> None:
    # deaths at 5, 5, 8, 8, 9, 12 among 23, no censoring before: S(12) = 17/23
    km = kaplan_meier(TIMES, EVENTS, ci_method="log")
    assert km.survival_at(12).survival == pytest.approx(17 / 23)


def test_binomial_test_matches_r_binom_test() -> None:
    assert binomial_test(682, 925, 0.75)["p_value"] == pytest.approx(0.3825, abs=5e-5)
    one = binomial_test(682, 925, 0.75, sided="one-sided")["p_value"]
    assert one > 0.5  # 682/925 = 0.737 is below 0.75: no evidence for a higher rate


def test_binomial_test_one_sided_from_5_percent() -> None:
    # 3 responders of 20 against a null rate of 5%: P(X >= 3 | 20, 0.05) = 0.0755
    assert binomial_test(3, 20, 0.05, sided="one-sided")["p_value"] == pytest.approx(
        0.07548, abs=5e-5
    )


def test_newcombe_difference_matches_the_paper() -> None:
    d = difference_ci(56, 70, 48, 80)
    assert d["difference"] == pytest.approx(0.2)
    assert (d["ci_lower"], d["ci_upper"]) == (
        pytest.approx(0.0524, abs=5e-5),
        pytest.approx(0.3339, abs=5e-5),
    )


def test_undefined_hazard_ratio_says_why() -> None:
    cox = cox_hazard_ratio([1, 2, 3], [True, True, False], [0, 0, 0])
    assert cox["hr"] is None and cox["notes"]


@pytest.mark.parametrize(
    ("longest", "first_steps", "last"),
    [(5, [0, 1, 2], 5), (20, [0, 2, 4], 20), (40, [0, 6, 12], 36), (100, [0, 12, 24], 96)],
)
def test_at_risk_grid_covers_the_whole_follow_up(longest, first_steps, last) -> None:
    grid = at_risk_grid(longest)
    assert grid[:3] == first_steps and grid[-1] == last and len(grid) <= 12


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cox_equals_statsmodels_phreg_with_ties_and_strata(seed) -> None:
    import numpy as np
    from statsmodels.duration.hazard_regression import PHReg

    rng = np.random.default_rng(seed)
    n = 300
    group = rng.integers(0, 2, n)
    times = np.round(rng.exponential(10 / np.where(group == 1, 1.6, 1.0)))  # many ties
    events = rng.random(n) < 0.7
    strata = rng.choice(["a", "b", "c"], n)
    for kwargs in ({}, {"strata": strata}):
        ours = cox_hazard_ratio(times, events, group, **kwargs)
        ref = PHReg(times, group[:, None].astype(float), status=events.astype(int), ties="efron",
                    **kwargs).fit()  # fmt: skip
        assert ours["coef"] == pytest.approx(float(ref.params[0]), abs=1e-6)
        assert ours["se"] == pytest.approx(float(ref.bse[0]), abs=1e-6)
        assert ours["p_value"] == pytest.approx(float(ref.pvalues[0]), abs=1e-6)
