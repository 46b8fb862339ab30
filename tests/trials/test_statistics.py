"""Tests of domain.statistics against published values (no Django, no database).

References
----------
* Clopper-Pearson intervals: 10/31 -> 16.7%-51.4%, 24/30 -> 61.4%-92.3%,
  12/30 -> 22.7%-59.4% (shared/DOMAIN.md and standard tables).
* Freireich 6-MP remission data (Gehan 1965), as analysed in Kalbfleisch & Prentice,
  Klein & Moeschberger and R ``survfit``/``survdiff`` on ``MASS::gehan``: KM estimates,
  Greenwood SEs, medians 23 (6-MP) and 8 (placebo), log-rank chi-square 16.8 (16.79),
  p = 4.2e-5, expected events 19.3 / 10.7.
* R ``survival::aml``: ``survfit`` estimates, SEs and log-CI (R's default), medians
  31 (18, NA) and 23 (8, NA); ``survdiff`` chi-square 3.4 on 1 df, p = 0.07, expected
  events 10.69 / 7.31.
"""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from scipy import stats

from domain.statistics import (
    BOR_CATEGORIES,
    FisherResult,
    KMResult,
    compare_proportions,
    duration_of_response,
    format_p_value,
    kaplan_meier,
    logrank,
    proportion_ci,
    response_rates,
)

# Freireich et al. / Gehan (1965): weeks in remission; 0 = censored.
SIX_MP_TIMES = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_EVENTS = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO_TIMES = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
PLACEBO_EVENTS = [1] * 21

# R survival::aml (weeks); 0 = censored.
AML_MAINTAINED_TIMES = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161]
AML_MAINTAINED_EVENTS = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]
AML_NONMAINTAINED_TIMES = [5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
AML_NONMAINTAINED_EVENTS = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]


def assert_json_clean(payload: dict) -> None:
    """The dict must be plain JSON (no NaN/inf, no numpy types) and round-trip."""
    text = json.dumps(payload, allow_nan=False)
    assert json.loads(text) == payload


def step_at(result: KMResult, time: float):
    """The KM step at exactly ``time``."""
    matches = [step for step in result.steps if step.time == time]
    assert len(matches) == 1, f"no unique step at {time}"
    return matches[0]


# ---------------------------------------------------------------------------
# Clopper-Pearson
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "estimate", "lower", "upper"),
    [
        (10, 31, 0.323, 0.167, 0.514),
        (24, 30, 0.800, 0.614, 0.923),
        (12, 30, 0.400, 0.227, 0.594),
    ],
)
def test_clopper_pearson_published_values(k, n, estimate, lower, upper):
    result = proportion_ci(k, n)
    assert result.k == k and result.n == n
    assert result.estimate == pytest.approx(estimate, abs=5e-4)
    assert result.ci_lower == pytest.approx(lower, abs=5e-4)
    assert result.ci_upper == pytest.approx(upper, abs=5e-4)
    assert result.confidence == 0.95
    assert result.method == "Clopper-Pearson exact 95% CI"


def test_clopper_pearson_matches_beta_quantiles():
    # Clopper-Pearson by definition: Beta(k, n-k+1) and Beta(k+1, n-k) quantiles.
    result = proportion_ci(10, 31)
    assert result.ci_lower == pytest.approx(stats.beta.ppf(0.025, 10, 22), rel=1e-9)
    assert result.ci_upper == pytest.approx(stats.beta.ppf(0.975, 11, 21), rel=1e-9)


def test_clopper_pearson_boundaries_and_other_levels():
    zero = proportion_ci(0, 5)
    assert zero.estimate == 0.0 and zero.ci_lower == 0.0
    assert zero.ci_upper == pytest.approx(1 - 0.025 ** (1 / 5), rel=1e-9)
    full = proportion_ci(5, 5)
    assert full.ci_upper == 1.0
    assert full.ci_lower == pytest.approx(0.025 ** (1 / 5), rel=1e-9)
    ninety = proportion_ci(10, 31, confidence=0.90)
    assert ninety.method == "Clopper-Pearson exact 90% CI"
    assert 0.167 < ninety.ci_lower < ninety.ci_upper < 0.514


def test_proportion_with_zero_n_is_none_not_a_crash():
    result = proportion_ci(0, 0)
    assert (result.estimate, result.ci_lower, result.ci_upper) == (None, None, None)
    assert result.format() == "NE (n = 0)"
    assert_json_clean(result.to_dict())


def test_proportion_validation():
    with pytest.raises(ValueError):
        proportion_ci(5, 4)
    with pytest.raises(ValueError):
        proportion_ci(-1, 4)
    with pytest.raises(ValueError):
        proportion_ci(1, 4, confidence=1.0)
    with pytest.raises(TypeError):
        proportion_ci(1.0, 4)  # type: ignore[arg-type]


def test_proportion_to_dict_and_format():
    result = proportion_ci(10, 31)
    payload = result.to_dict()
    assert set(payload) == {"k", "n", "estimate", "ci_lower", "ci_upper", "confidence", "method"}
    assert payload["estimate"] == 10 / 31  # full precision, no rounding
    assert_json_clean(payload)
    assert result.format() == "32.3% (95% CI 16.7%-51.4%)"


# ---------------------------------------------------------------------------
# Response rates
# ---------------------------------------------------------------------------


def test_response_rates_ne_in_denominator_by_default():
    result = response_rates({"CR": 2, "PR": 8, "SD": 14, "PD": 5, "NE": 2})
    assert result.evaluable == 31
    assert result.counts == {"CR": 2, "PR": 8, "SD": 14, "NON-CR/NON-PD": 0, "PD": 5, "NE": 2}
    assert (result.orr.k, result.orr.n) == (10, 31)
    assert result.orr.ci_lower == pytest.approx(0.167, abs=5e-4)
    assert result.orr.ci_upper == pytest.approx(0.514, abs=5e-4)
    assert (result.dcr.k, result.dcr.n) == (24, 31)
    assert "NE included" in result.denominator
    payload = result.to_dict()
    assert set(payload) == {
        "counts",
        "evaluable",
        "exclude_ne",
        "orr",
        "dcr",
        "denominator",
        "method",
    }
    assert list(payload["counts"]) == list(BOR_CATEGORIES)
    assert_json_clean(payload)


def test_response_rates_exclude_ne():
    result = response_rates({"CR": 1, "PR": 11, "SD": 12, "PD": 6, "NE": 3}, exclude_ne=True)
    assert result.evaluable == 30
    assert (result.orr.k, result.orr.n) == (12, 30)
    assert result.orr.ci_lower == pytest.approx(0.227, abs=5e-4)
    assert result.orr.ci_upper == pytest.approx(0.594, abs=5e-4)
    assert (result.dcr.k, result.dcr.n) == (24, 30)
    assert result.dcr.ci_lower == pytest.approx(0.614, abs=5e-4)
    assert result.dcr.ci_upper == pytest.approx(0.923, abs=5e-4)
    assert result.ne == 3 and result.exclude_ne is True


def test_response_rates_labels_missing_categories_and_non_cr_non_pd():
    result = response_rates({"cr": 1, "Non-CR/Non-PD": 2, " pd ": 1})
    assert result.evaluable == 4
    assert result.orr.k == 1
    assert result.dcr.k == 3  # non-CR/non-PD counts towards disease control like SD
    assert result.sd == 0 and result.ne == 0


def test_response_rates_empty_and_invalid():
    empty = response_rates({})
    assert empty.evaluable == 0
    assert empty.orr.estimate is None and empty.dcr.ci_lower is None
    assert_json_clean(empty.to_dict())
    with pytest.raises(ValueError):
        response_rates({"iUPD": 1})
    with pytest.raises(ValueError):
        response_rates({"CR": -1})


# ---------------------------------------------------------------------------
# Fisher's exact test
# ---------------------------------------------------------------------------


def test_fisher_10_of_31_vs_12_of_30():
    result = compare_proportions(10, 31, 12, 30)
    assert isinstance(result, FisherResult)

    # Two-sided p by definition: sum of the hypergeometric probabilities of all tables
    # (same margins) that are no more likely than the observed one.
    dist = stats.hypergeom(61, 22, 31)  # population, responders, size of group 1
    observed = dist.pmf(10)
    expected_p = sum(dist.pmf(x) for x in range(0, 23) if dist.pmf(x) <= observed * (1 + 1e-7))
    assert result.p_value == pytest.approx(expected_p, rel=1e-9)
    assert result.p_value == pytest.approx(0.5996, abs=1e-4)

    # Conditional MLE: the Fisher noncentral hypergeometric mean equals the observed 10.
    assert result.odds_ratio == pytest.approx(0.718, abs=1e-3)
    assert stats.nchypergeom_fisher(61, 31, 22, result.odds_ratio).mean() == pytest.approx(
        10, abs=1e-6
    )
    # Exact CI: each limit leaves 2.5% in its tail.
    lower_tail = stats.nchypergeom_fisher(61, 31, 22, result.odds_ratio_ci_lower).sf(9)
    upper_tail = stats.nchypergeom_fisher(61, 31, 22, result.odds_ratio_ci_upper).cdf(10)
    assert lower_tail == pytest.approx(0.025, abs=1e-6)
    assert upper_tail == pytest.approx(0.025, abs=1e-6)
    assert result.odds_ratio_ci_lower == pytest.approx(0.219, abs=1e-3)
    assert result.odds_ratio_ci_upper == pytest.approx(2.310, abs=1e-3)

    # SciPy's fisher_exact statistic is the sample odds ratio ad/bc.
    assert result.sample_odds_ratio == pytest.approx((10 * 18) / (21 * 12))
    assert "conditional" in result.method and "sample_odds_ratio" in result.method
    assert result.proportion1.ci_lower == pytest.approx(0.167, abs=5e-4)
    assert result.proportion2.ci_upper == pytest.approx(0.594, abs=5e-4)
    assert result.notes == ()
    payload = result.to_dict()
    assert set(payload) == {
        "k1",
        "n1",
        "k2",
        "n2",
        "proportion1",
        "proportion2",
        "p_value",
        "odds_ratio",
        "odds_ratio_ci_lower",
        "odds_ratio_ci_upper",
        "odds_ratio_kind",
        "sample_odds_ratio",
        "confidence",
        "method",
        "notes",
    }
    assert_json_clean(payload)


@pytest.mark.parametrize(
    ("args", "p_value"),
    [
        ((0, 0, 3, 7), None),  # empty group
        ((0, 5, 0, 6), 1.0),  # no responders at all
        ((3, 3, 2, 2), 1.0),  # everybody responded
    ],
)
def test_fisher_degenerate_tables_do_not_crash(args, p_value):
    result = compare_proportions(*args)
    assert result.p_value == p_value
    assert result.odds_ratio is None
    assert result.odds_ratio_ci_lower is None and result.odds_ratio_ci_upper is None
    assert result.notes
    assert_json_clean(result.to_dict())


def test_fisher_zero_cells_infinite_and_zero_odds_ratio():
    infinite = compare_proportions(5, 5, 0, 6)
    assert infinite.p_value == pytest.approx(1 / math.comb(11, 5))
    assert infinite.odds_ratio is None
    assert infinite.odds_ratio_ci_lower is not None and infinite.odds_ratio_ci_lower > 1
    assert infinite.odds_ratio_ci_upper is None
    assert any("infinite" in note for note in infinite.notes)
    assert_json_clean(infinite.to_dict())

    zero = compare_proportions(0, 5, 3, 7)
    assert zero.odds_ratio == 0.0
    assert zero.odds_ratio_ci_lower == 0.0
    assert zero.odds_ratio_ci_upper is not None and zero.odds_ratio_ci_upper > 1
    assert_json_clean(zero.to_dict())


# ---------------------------------------------------------------------------
# Kaplan-Meier
# ---------------------------------------------------------------------------

# Published KM estimates and Greenwood SEs for the 6-MP arm (event times only).
SIX_MP_PUBLISHED = {
    # time: (at risk, events, S(t), Greenwood SE)
    6: (21, 3, 0.857, 0.0764),
    7: (17, 1, 0.807, 0.0869),
    10: (15, 1, 0.753, 0.0963),
    13: (12, 1, 0.690, 0.1068),
    16: (11, 1, 0.627, 0.1141),
    22: (7, 1, 0.538, 0.1282),
    23: (6, 1, 0.448, 0.1346),
}


def test_kaplan_meier_freireich_6mp_published_estimates():
    result = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS)
    assert (result.n, result.events, result.censored) == (21, 9, 12)
    for time, (at_risk, events, survival, std_err) in SIX_MP_PUBLISHED.items():
        step = step_at(result, time)
        assert step.at_risk == at_risk
        assert step.events == events
        assert step.survival == pytest.approx(survival, abs=5e-4)
        assert step.std_err == pytest.approx(std_err, abs=5e-5)
    # Exact values: S(6) = 18/21, S(7) = 18/21 * 16/17.
    assert step_at(result, 6).survival == pytest.approx(18 / 21, rel=1e-12)
    assert step_at(result, 7).survival == pytest.approx(18 / 21 * 16 / 17, rel=1e-12)
    # Tie at t = 6: three events and one censoring, events first.
    assert step_at(result, 6).censored == 1
    # Censored times are steps too (flat), with counts.
    assert step_at(result, 9).events == 0 and step_at(result, 9).censored == 1
    assert step_at(result, 9).survival == step_at(result, 7).survival
    assert [s.time for s in result.steps] == sorted({float(t) for t in SIX_MP_TIMES})


def test_kaplan_meier_freireich_medians():
    six_mp = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS)
    placebo = kaplan_meier(PLACEBO_TIMES, PLACEBO_EVENTS)
    assert six_mp.median == 23
    assert placebo.median == 8
    assert step_at(placebo, 8).survival == pytest.approx(8 / 21)
    # Placebo: everybody relapses, S reaches 0 at 23 where the band is undefined.
    last = placebo.steps[-1]
    assert last.time == 23 and last.survival == 0.0
    assert last.ci_lower is None and last.ci_upper is None and last.std_err is None
    assert any("reaches 0" in note for note in placebo.notes)


def test_kaplan_meier_log_log_band_matches_greenwood_formula():
    result = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS)  # default: log-log
    assert result.ci_method == "log-log"
    assert "log-log" in result.method
    z = stats.norm.ppf(0.975)
    var_sum = 0.0
    for time, (at_risk, events, _, _) in SIX_MP_PUBLISHED.items():
        var_sum += events / (at_risk * (at_risk - events))
        step = step_at(result, time)
        s = step.survival
        half_width = z * math.sqrt(var_sum) / abs(math.log(s))
        lower = s ** math.exp(half_width)
        upper = s ** math.exp(-half_width)
        assert step.ci_lower == pytest.approx(lower, rel=1e-9)
        assert step.ci_upper == pytest.approx(upper, rel=1e-9)
    # Median CI from the log-log band: lower band first <= 0.5 at 13, upper never.
    assert step_at(result, 10).ci_lower > 0.5
    assert step_at(result, 13).ci_lower <= 0.5
    assert (result.median_ci_lower, result.median_ci_upper) == (13, None)


def test_kaplan_meier_linear_band_is_plain_greenwood():
    result = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS, ci_method="linear")
    z = stats.norm.ppf(0.975)
    step = step_at(result, 13)
    assert step.ci_lower == pytest.approx(step.survival - z * step.std_err, rel=1e-9)
    assert step.ci_upper == pytest.approx(step.survival + z * step.std_err, rel=1e-9)
    assert step_at(result, 6).ci_upper == 1.0  # clipped
    assert "Greenwood" in result.method


def test_kaplan_meier_log_band_matches_r_survfit_gehan():
    # R: survfit(Surv(time, cens) ~ treat, data = MASS::gehan) (conf.type = "log").
    six_mp = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS, ci_method="log")
    published = {
        6: (0.720, 1.000),
        7: (0.653, 0.996),
        10: (0.586, 0.968),
        13: (0.510, 0.935),
        16: (0.439, 0.896),
        22: (0.337, 0.858),
        23: (0.249, 0.807),
    }
    for time, (lower, upper) in published.items():
        step = step_at(six_mp, time)
        assert step.ci_lower == pytest.approx(lower, abs=5e-4)
        assert step.ci_upper == pytest.approx(upper, abs=5e-4)
    # R: median 23, 0.95LCL 16, 0.95UCL NA; control: 8 (4, 12).
    assert (six_mp.median, six_mp.median_ci_lower, six_mp.median_ci_upper) == (23, 16, None)
    placebo = kaplan_meier(PLACEBO_TIMES, PLACEBO_EVENTS, ci_method="log")
    assert (placebo.median, placebo.median_ci_lower, placebo.median_ci_upper) == (8, 4, 12)


def test_kaplan_meier_r_aml():
    # R: summary(survfit(Surv(time, status) ~ x, data = aml)), Maintained group.
    maintained = kaplan_meier(AML_MAINTAINED_TIMES, AML_MAINTAINED_EVENTS, ci_method="log")
    published = {
        # time: (n.risk, survival, std.err, lower 95% CI, upper 95% CI)
        9: (11, 0.909, 0.0867, 0.7541, 1.000),
        13: (10, 0.818, 0.1163, 0.6192, 1.000),
        18: (8, 0.716, 0.1397, 0.4884, 1.000),
        23: (7, 0.614, 0.1526, 0.3769, 0.999),
        31: (5, 0.491, 0.1642, 0.2549, 0.946),
        34: (4, 0.368, 0.1627, 0.1549, 0.875),
        48: (2, 0.184, 0.1535, 0.0359, 0.944),
    }
    for time, (at_risk, survival, std_err, lower, upper) in published.items():
        step = step_at(maintained, time)
        assert step.at_risk == at_risk
        assert step.survival == pytest.approx(survival, abs=5e-4)
        assert step.std_err == pytest.approx(std_err, abs=5e-5)
        assert step.ci_lower == pytest.approx(lower, abs=5e-4)
        assert step.ci_upper == pytest.approx(upper, abs=5e-4)
    # R print(survfit): Maintained median 31 (18, NA); Nonmaintained 23 (8, NA).
    assert (maintained.median, maintained.median_ci_lower, maintained.median_ci_upper) == (
        31,
        18,
        None,
    )
    nonmaintained = kaplan_meier(AML_NONMAINTAINED_TIMES, AML_NONMAINTAINED_EVENTS, ci_method="log")
    assert (
        nonmaintained.median,
        nonmaintained.median_ci_lower,
        nonmaintained.median_ci_upper,
    ) == (23, 8, None)
    for time, survival in {5: 0.8333, 8: 0.6667, 12: 0.5833, 23: 0.4861, 43: 0.0972}.items():
        assert step_at(nonmaintained, time).survival == pytest.approx(survival, abs=5e-5)


def test_median_convention_at_flat_half():
    # S = 0.5 exactly on [2, 3): first time S <= 0.5 is 2 (lifelines); R would say 2.5.
    result = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    assert step_at(result, 2).survival == pytest.approx(0.5)
    assert result.median == 2
    assert "midpoint" in result.median_method


def test_median_not_reached_and_confidence_level():
    result = kaplan_meier([1, 2, 3, 4, 5, 6], [1, 0, 0, 0, 0, 0], confidence=0.9)
    assert result.median is None
    assert result.median_ci_upper is None
    assert result.confidence == 0.9 and "90%" in result.method
    assert any("not reached" in note for note in result.notes)


def test_kaplan_meier_empty_input():
    result = kaplan_meier([], [])
    assert (result.n, result.events, result.steps) == (0, 0, ())
    assert result.median is None and result.median_ci_lower is None
    assert result.notes
    assert [row.at_risk for row in result.numbers_at_risk([0, 30])] == [0, 0]
    assert result.survival_at(10).survival is None
    assert_json_clean(result.to_dict())


def test_kaplan_meier_all_censored():
    result = kaplan_meier([30.0, 60.5, 90.0], [False, False, False])
    assert (result.n, result.events, result.censored) == (3, 0, 3)
    assert all(step.survival == 1.0 for step in result.steps)
    assert all((step.ci_lower, step.ci_upper) == (1.0, 1.0) for step in result.steps)
    assert result.median is None
    assert result.median_ci_lower is None and result.median_ci_upper is None
    assert any("all observations censored" in note for note in result.notes)
    assert_json_clean(result.to_dict())


@pytest.mark.parametrize("ci_method", ["log-log", "linear", "log"])
def test_kaplan_meier_single_event_does_not_crash(ci_method):
    result = kaplan_meier([5], [1], ci_method=ci_method)
    assert result.median == 5
    assert result.steps[0].survival == 0.0
    assert result.median_ci_lower is None and result.median_ci_upper is None
    assert_json_clean(result.to_dict())


def test_kaplan_meier_validation():
    with pytest.raises(ValueError):
        kaplan_meier([1, 2], [1])
    with pytest.raises(ValueError):
        kaplan_meier([-1], [1])
    with pytest.raises(ValueError):
        kaplan_meier([float("nan")], [1])
    with pytest.raises(ValueError):
        kaplan_meier([1, 2], [1, 2])  # R-style 1/2 status coding is rejected
    with pytest.raises(ValueError):
        kaplan_meier([1], [1], ci_method="arcsine")  # type: ignore[arg-type]


def test_numbers_at_risk():
    result = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS)
    rows = result.numbers_at_risk([0, 5, 6, 10, 20, 30, 40])
    assert [row.at_risk for row in rows] == [21, 21, 21, 15, 8, 4, 0]
    assert [row.events for row in rows] == [0, 0, 0, 4, 7, 9, 9]
    assert [row.censored for row in rows] == [0, 0, 0, 2, 6, 8, 12]
    for row in rows:
        assert row.at_risk + row.events + row.censored == 21
        assert row.at_risk == sum(1 for t in SIX_MP_TIMES if t >= row.time)
    assert rows[3].to_dict() == {"time": 10.0, "at_risk": 15, "events": 4, "censored": 2}
    placebo = kaplan_meier(PLACEBO_TIMES, PLACEBO_EVENTS)
    assert [r.at_risk for r in placebo.numbers_at_risk([0, 10, 20])] == [21, 8, 2]


def test_survival_at_landmarks():
    result = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS)
    before = result.survival_at(3)
    assert (before.survival, before.ci_lower, before.ci_upper) == (1.0, 1.0, 1.0)
    at_event = result.survival_at(6)  # right-continuous: the event at 6 is included
    assert at_event.survival == pytest.approx(0.857, abs=5e-4)
    assert at_event.at_risk == 21
    between = result.survival_at(12)
    assert between.survival == pytest.approx(0.753, abs=5e-4)
    assert between.ci_lower == step_at(result, 10).ci_lower
    assert result.survival_at(35).survival == pytest.approx(0.448, abs=5e-4)
    beyond = result.survival_at(36)
    assert beyond.survival is None and beyond.at_risk == 0
    assert_json_clean(between.to_dict())


def test_kaplan_meier_to_dict():
    result = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS)
    payload = result.to_dict()
    assert set(payload) == {
        "n",
        "events",
        "censored",
        "median",
        "median_ci_lower",
        "median_ci_upper",
        "confidence",
        "ci_method",
        "method",
        "median_method",
        "notes",
        "steps",
    }
    assert set(payload["steps"][0]) == {
        "time",
        "survival",
        "ci_lower",
        "ci_upper",
        "std_err",
        "at_risk",
        "events",
        "censored",
    }
    assert payload["steps"][0]["survival"] == 18 / 21  # not rounded
    assert payload["median_ci_upper"] is None
    assert_json_clean(payload)


# ---------------------------------------------------------------------------
# Log-rank
# ---------------------------------------------------------------------------


def test_logrank_freireich_published():
    result = logrank(
        SIX_MP_TIMES,
        SIX_MP_EVENTS,
        PLACEBO_TIMES,
        PLACEBO_EVENTS,
        label_a="6-MP",
        label_b="placebo",
    )
    assert result.statistic == pytest.approx(16.79, abs=0.01)
    assert result.p_value == pytest.approx(4.2e-5, rel=0.02)
    assert result.p_value == pytest.approx(stats.chi2.sf(result.statistic, 1), rel=1e-9)
    assert result.z_statistic is not None and result.z_statistic < 0  # 6-MP: fewer relapses
    assert result.statistic == pytest.approx(result.z_statistic**2)
    # R survdiff: observed 9 / 21, expected 19.3 / 10.7.
    assert (result.observed_a, result.observed_b) == (9, 21)
    assert result.expected_a == pytest.approx(19.25, abs=0.01)
    assert result.expected_b == pytest.approx(10.75, abs=0.01)
    assert "log-rank" in result.method and "chi-square" in result.method
    payload = result.to_dict()
    assert set(payload) == {
        "label_a",
        "label_b",
        "n_a",
        "n_b",
        "observed_a",
        "observed_b",
        "expected_a",
        "expected_b",
        "statistic",
        "df",
        "z_statistic",
        "p_value",
        "method",
        "notes",
    }
    assert payload["df"] == 1 and payload["label_a"] == "6-MP"
    assert_json_clean(payload)


def test_logrank_is_symmetric_in_chi_square():
    forward = logrank(SIX_MP_TIMES, SIX_MP_EVENTS, PLACEBO_TIMES, PLACEBO_EVENTS)
    backward = logrank(PLACEBO_TIMES, PLACEBO_EVENTS, SIX_MP_TIMES, SIX_MP_EVENTS)
    assert backward.statistic == pytest.approx(forward.statistic)
    assert backward.p_value == pytest.approx(forward.p_value)
    assert backward.z_statistic == pytest.approx(-forward.z_statistic)


def test_logrank_r_aml():
    # R: survdiff(Surv(time, status) ~ x, data = aml): Chisq = 3.4 on 1 df, p = 0.07;
    # expected 10.69 (Maintained) and 7.31 (Nonmaintained).
    result = logrank(
        AML_MAINTAINED_TIMES,
        AML_MAINTAINED_EVENTS,
        AML_NONMAINTAINED_TIMES,
        AML_NONMAINTAINED_EVENTS,
    )
    assert result.statistic == pytest.approx(3.4, abs=0.05)
    assert result.p_value == pytest.approx(0.07, abs=0.005)
    assert (result.observed_a, result.observed_b) == (7, 11)
    assert result.expected_a == pytest.approx(10.69, abs=0.005)
    assert result.expected_b == pytest.approx(7.31, abs=0.005)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (([], []), ([1, 2], [1, 1])),  # empty group
        (([1, 2], [0, 0]), ([3, 4], [0, 0])),  # no events
    ],
)
def test_logrank_degenerate(a, b):
    result = logrank(*a, *b)
    assert result.statistic is None and result.p_value is None
    assert result.notes
    assert_json_clean(result.to_dict())


# ---------------------------------------------------------------------------
# Duration of response
# ---------------------------------------------------------------------------


def test_duration_of_response_is_km_of_differences():
    starts = [56, 56, 84, 112, 56]
    ends = [140, 230, 200, 150, 400]
    progressed = [True, False, True, True, False]
    result = duration_of_response(starts, ends, progressed)
    direct = kaplan_meier([84, 174, 116, 38, 344], progressed)
    assert [s.time for s in result.steps] == [s.time for s in direct.steps]
    assert [s.survival for s in result.steps] == [s.survival for s in direct.steps]
    assert result.median == direct.median == 116
    assert result.method.startswith("Duration of response")
    assert "responders only" in result.notes[0]
    assert_json_clean(result.to_dict())


def test_duration_of_response_with_dates():
    result = duration_of_response(
        [date(2025, 1, 10), date(2025, 2, 1)],
        [date(2025, 4, 10), date(2025, 3, 3)],
        [1, 0],
    )
    assert [s.time for s in result.steps] == [30.0, 90.0]
    assert result.events == 1 and result.censored == 1
    with pytest.raises(ValueError):
        duration_of_response([date(2025, 2, 1)], [date(2025, 1, 1)], [1])
    with pytest.raises(TypeError):
        duration_of_response([date(2025, 2, 1)], [40.0], [1])
    empty = duration_of_response([], [], [])
    assert empty.n == 0 and empty.median is None


# ---------------------------------------------------------------------------
# Presentation helper
# ---------------------------------------------------------------------------


def test_format_p_value():
    assert format_p_value(0.5995) == "p = 0.600"
    assert format_p_value(4.17e-5) == "p < 0.001"
    assert format_p_value(None) == "p not estimable"


# --- closed-form / array implementations against SciPy's reference routines -----------


@pytest.mark.parametrize("n", [1, 2, 7, 31, 100, 251, 5_000, 100_000])
def test_clopper_pearson_closed_form_equals_binomtest(n):
    # The closed form (beta quantiles) against SciPy's root-finding on the binomial
    # tail, over every k (a spread of k for the large n), at 95% and 90%.
    ks = range(n + 1) if n <= 31 else sorted({0, 1, 2, 7, n // 3, n // 2, n - 3, n - 1, n})
    for confidence in (0.95, 0.90):
        for k in ks:
            ours = proportion_ci(k, n, confidence)
            ref = stats.binomtest(k, n).proportion_ci(confidence, method="exact")
            assert abs(ours.ci_lower - ref.low) < 1e-9, (k, n)
            assert abs(ours.ci_upper - ref.high) < 1e-9, (k, n)


def _conditional_reference(a, b, c, d, confidence=0.95):
    ref = stats.contingency.odds_ratio([[a, b], [c, d]], kind="conditional")
    ci = ref.confidence_interval(confidence_level=confidence)
    return float(ref.statistic), float(ci.low), float(ci.high)


def _same(x, y, rel=1e-9):
    if math.isinf(x) or math.isinf(y) or x == 0 or y == 0:
        return x == y
    return abs(x - y) <= rel * abs(x)


@pytest.mark.parametrize(
    "table",
    [
        (10, 21, 12, 18),
        (3, 4, 5, 0),
        (0, 5, 3, 4),
        (5, 0, 3, 4),
        (1, 1, 1, 1),
        (2, 7, 8, 2),
        (40, 60, 20, 80),
        (350, 650, 300, 700),
    ],
)
def test_conditional_odds_ratio_equals_scipy(table):
    from domain.statistics import conditional_odds_ratio

    estimate, low, high, kind = conditional_odds_ratio(*table)
    ref = _conditional_reference(*table)
    assert kind == "conditional"
    assert _same(estimate, ref[0]) and _same(low, ref[1]) and _same(high, ref[2]), (
        (estimate, low, high),
        ref,
    )


def test_conditional_odds_ratio_random_tables_equal_scipy():
    import random

    from domain.statistics import conditional_odds_ratio

    rng = random.Random(17)
    for _ in range(25):
        n1, n2 = rng.randint(1, 80), rng.randint(1, 80)
        a, c = rng.randint(0, n1), rng.randint(0, n2)
        if a + c in (0, n1 + n2):
            continue  # no events or no non-events: compare_proportions reports None
        ours = conditional_odds_ratio(a, n1 - a, c, n2 - c)
        ref = _conditional_reference(a, n1 - a, c, n2 - c)
        assert all(_same(x, y) for x, y in zip(ours[:3], ref, strict=True)), (a, n1, c, n2)


def test_odds_ratio_above_the_size_limit_is_the_stated_sample_alternative(monkeypatch):
    from domain.statistics import fisher as module

    monkeypatch.setattr(module, "ODDS_RATIO_EXACT_LIMIT", 100)
    module.conditional_odds_ratio.cache_clear()
    try:
        result = compare_proportions(40, 100, 20, 100)
        sample = stats.contingency.odds_ratio([[40, 60], [20, 80]], kind="sample")
        ci = sample.confidence_interval(0.95)
        assert result.odds_ratio == pytest.approx(sample.statistic, rel=1e-12)
        assert result.odds_ratio_ci_lower == pytest.approx(ci.low, rel=1e-12)
        assert result.odds_ratio_ci_upper == pytest.approx(ci.high, rel=1e-12)
        assert "Woolf" in result.method and "100" in result.method
        assert result.odds_ratio_kind == "sample"
        small = compare_proportions(4, 10, 2, 10)  # under the limit: exact, says so
        assert "conditional maximum-likelihood" in small.method
    finally:
        module.conditional_odds_ratio.cache_clear()


def test_logrank_expected_events_equal_the_event_table_sum():
    # Expected events in group a: sum over event times of d * n_a / n (R survdiff).
    import random

    rng = random.Random(3)
    ta = [float(rng.randint(1, 60)) for _ in range(80)]
    tb = [float(rng.randint(1, 60)) for _ in range(70)]
    ea = [rng.random() < 0.6 for _ in ta]
    eb = [rng.random() < 0.5 for _ in tb]
    times = ta + tb
    events = ea + eb
    expected = 0.0
    for t in sorted({t for t, e in zip(times, events, strict=True) if e}):
        d = sum(1 for x, e in zip(times, events, strict=True) if e and x == t)
        expected += d * sum(1 for x in ta if x >= t) / sum(1 for x in times if x >= t)
    result = logrank(ta, ea, tb, eb)
    assert result.expected_a == pytest.approx(expected, rel=1e-12)
    assert result.expected_a + result.expected_b == pytest.approx(sum(events))
