"""Dashboard and report tables of the analysis plan (issue 11): the settings stated with
every figure, survival details in months, hazard ratios, confirmed/unconfirmed response,
the forest-plot rows, the data-quality list and the methods text. Pure functions over
the statistics dict, like ``dashboard_tables``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from domain.statistics import format_p_value

from .dashboard_tables import km_groups, proportion_text


def _months(value: float | None) -> str:
    return _("not reached") if value is None else _("%(m).1f mo") % {"m": value}


def _ci_text(estimate: float | None, lower: float | None, upper: float | None, fmt: str) -> str:
    if estimate is None:
        return _("not estimable")
    low = "–" if lower is None else fmt % lower
    high = "NR" if upper is None else fmt % upper
    return f"{fmt % estimate} ({low}, {high})"


def settings_facts(stats: dict[str, Any]) -> list[tuple[str, str]]:
    """The statistical analysis plan's choices, stated with every figure."""
    s = stats.get("analysis_settings") or {}
    if not s:
        return []
    origin = {
        "randomization": _("randomization date"),
        "first_treatment": _("first treatment date"),
    }
    population = {
        "itt": _("intention to treat (all randomized)"),
        "per_protocol": _("per protocol (treated, with a baseline scan)"),
        "evaluable": _("evaluable (with a baseline scan)"),
    }
    nya = {
        "exclude": _("excluded from the denominator and counted apart"),
        "include_as_ne": _("counted as not evaluable (NE)"),
    }
    null_rate = s.get("orr_null_rate")
    test = (
        _("none (no null rate set)")
        if null_rate is None
        else _("exact binomial test against %(p)s%%, %(sided)s")
        % {"p": f"{null_rate * 100:g}", "sided": _(s.get("orr_sided", "two-sided"))}
    )
    return [
        (_("Time origin"), origin.get(s.get("time_origin"), s.get("time_origin", ""))),
        (_("Analysis population"), population.get(s.get("population"), "")),
        (
            _("Not yet assessable"),
            _("%(how)s (no post-baseline scan within %(days)s days of day 0)")
            % {"how": nya.get(s.get("nya_handling"), ""), "days": s.get("nya_days")},
        ),
        (
            _("Primary best overall response"),
            _("confirmed") if s.get("primary_bor") == "confirmed" else _("unconfirmed"),
        ),
        (_("Confidence band (Kaplan-Meier)"), s.get("ci_band", "")),
        (_("ORR test"), test),
        (
            _("Landmarks"),
            ", ".join(_("%(m)s months") % {"m": f"{m:g}"} for m in s.get("landmark_months", [])),
        ),
    ]


def survival_details(stats: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Per group: median (months) with CI, quartiles, landmark rates, median follow-up."""
    rows = []
    for label, km in km_groups(stats, kind):
        m = km.get("months")
        if not m:
            continue
        rows.append(
            {
                "group": label,
                "median": _ci_text(m["median"], m["median_ci_lower"], m["median_ci_upper"], "%.1f"),
                "q1": _months(m.get("q1")),
                "q3": _months(m.get("q3")),
                "landmarks": [
                    _("%(m)s mo: %(rate)s")
                    % {
                        "m": f"{lm['months']:g}",
                        "rate": _ci_text(
                            None if lm["survival"] is None else lm["survival"] * 100,
                            None if lm["ci_lower"] is None else lm["ci_lower"] * 100,
                            None if lm["ci_upper"] is None else lm["ci_upper"] * 100,
                            "%.1f%%",
                        ),
                    }
                    for lm in m.get("landmarks", [])
                ],
                "follow_up": _months(m.get("follow_up_median")),
            }
        )
    return rows


def hazard_ratio_rows(stats: dict[str, Any], kind: str) -> list[dict[str, str]]:
    comp = (stats.get("comparisons") or {}).get(kind)
    if not comp:
        return []
    out = []
    for label, hr in (
        (_("Cox, unstratified"), comp.get("hazard_ratio")),
        (_("Cox, stratified by the randomization strata"), comp.get("hazard_ratio_stratified")),
    ):
        if hr:
            out.append(
                {
                    "label": label,
                    "of": comp.get("hr_of", ""),
                    "hr": _ci_text(hr["hr"], hr["ci_lower"], hr["ci_upper"], "%.2f"),
                    "p": format_p_value(hr["p_value"]),
                }
            )
    strat = comp.get("logrank_stratified")
    if strat:
        out.append(
            {
                "label": _("Log-rank, stratified"),
                "of": comp.get("hr_of", ""),
                "hr": "",
                "p": format_p_value(strat.get("p_value")),
            }
        )
    return out


def response_details(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Per group: confirmed and unconfirmed ORR, not-yet-assessable count, the exact
    binomial test against the null rate, time to response."""
    rows = []
    groups = [(_("All patients"), stats["overall"])] + [
        (_("Arm %(code)s") % {"code": code}, block)
        for code, block in (stats.get("by_arm") or {}).items()
    ]
    for label, block in groups:
        rates = block["rates"]
        test = rates.get("binomial_test")
        ttr = block.get("time_to_response")
        rows.append(
            {
                "group": label,
                "confirmed": proportion_text(block["rates_confirmed"]["orr"])
                if block.get("rates_confirmed")
                else "",
                "unconfirmed": proportion_text(block["rates_unconfirmed"]["orr"])
                if block.get("rates_unconfirmed")
                else "",
                "nya": rates.get("not_yet_assessable", 0),
                "binomial_p": format_p_value(test["p_value"]) if test else "",
                "ttr": _months(ttr["median_months"]) if ttr else "",
            }
        )
    return rows


def orr_difference_text(stats: dict[str, Any]) -> str:
    diff = (stats.get("comparisons") or {}).get("orr_difference")
    if not diff or diff.get("difference") is None:
        return ""
    return "%s: %s" % (
        diff["of"],
        _ci_text(diff["difference"] * 100, diff["ci_lower"] * 100, diff["ci_upper"] * 100, "%.1f"),
    )


def forest_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for r in stats.get("forest") or []:
        d = r["orr_difference"]
        rows.append(
            {
                "subgroup": _("All patients")
                if r["factor"] == "all"
                else f"{r['factor']}: {r['level']}",
                "n": " / ".join(str(v) for v in r["n"].values()),
                "orr": _ci_text(
                    None if d["difference"] is None else d["difference"] * 100,
                    None if d["ci_lower"] is None else d["ci_lower"] * 100,
                    None if d["ci_upper"] is None else d["ci_upper"] * 100,
                    "%.1f",
                ),
                "pfs": _ci_text(
                    r["pfs_hr"]["hr"], r["pfs_hr"]["ci_lower"], r["pfs_hr"]["ci_upper"], "%.2f"
                ),
                "os": _ci_text(
                    r["os_hr"]["hr"], r["os_hr"]["ci_lower"], r["os_hr"]["ci_upper"], "%.2f"
                ),
            }
        )
    return rows


def data_quality_rows(stats: dict[str, Any]) -> list[dict[str, str]]:
    return list(stats.get("data_quality") or [])


def methods_text(stats: dict[str, Any]) -> list[tuple[str, str]]:
    """The methods statements, translated (the report's "Methods" section)."""
    s = stats.get("analysis_settings") or {}
    origin = (
        _("the randomization date")
        if s.get("time_origin") == "randomization"
        else _("the first treatment date")
    )
    confirmation = (
        _(
            "CR and PR must be confirmed by a later assessment at least %(days)s days later, "
            "every assessment in between meeting the response criteria in sequence (RECIST 1.1 "
            "section 4.6); the confirmed best overall response is primary, the unconfirmed "
            "one is also reported."
        )
        % {"days": s.get("confirmation_min_days")}
        if s.get("confirmation_required")
        else _(
            "Confirmation of CR/PR is not required; the unconfirmed best overall response is "
            "primary, the confirmed one is also reported."
        )
    )
    return [
        (_("Response criteria"), f"{stats.get('criteria')}. {confirmation}"),
        (
            _("Stable disease"),
            _("SD counts as best response if seen at least %(days)s days after day 0.")
            % {"days": s.get("min_sd_days")},
        ),
        (
            _("Time origin"),
            _("Day 0 is %(origin)s, else the enrollment date.") % {"origin": origin},
        ),
        (
            _("Response rates"),
            _(
                "ORR and DCR with exact Clopper-Pearson confidence intervals (95%) over the "
                "analysis population; arms compared by Fisher's exact test and the ORR "
                "difference with Newcombe's hybrid score interval."
            ),
        ),
        (
            _("Survival"),
            _(
                "Kaplan-Meier estimates with Greenwood variance and a %(band)s-transformed "
                "pointwise band; median and quartiles as the smallest time where the curve "
                "reaches the level; median follow-up by reverse Kaplan-Meier; hazard ratios "
                "from a Cox model (Efron ties, Wald CI and p), unstratified and stratified by "
                "the randomization strata; log-rank tests, also stratified. Times in months "
                "(30.4375 days)."
            )
            % {"band": s.get("ci_band", "log-log")},
        ),
        (
            _("PFS"),
            _(
                "Progression or death, whichever comes first; otherwise censored at the last "
                "tumour assessment."
            ),
        ),
        (_("OS"), _("Death from any cause; otherwise censored at the last date known alive.")),
        (
            _("Duration of response"),
            _("Responders only, from the first documented response to progression or death."),
        ),
    ] + settings_facts(stats)
