"""The numbers behind each dashboard chart, as tables.

One function per chart turns the statistics dict (``analysis.selectors``) into a
:class:`Table`; the page shows it under the chart ("Numbers") and the CSV download writes
the very same rows, so the table, the download and the chart cannot disagree.
Pure functions over plain data.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.formats import get_format, localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from domain import csv_safety
from domain.analysis import BOR_ORDER, DAYS_PER_MONTH
from domain.statistics import format_p_value
from ui import engine_text

CHARTS = ("enrollment", "rates", "waterfall", "swimmer", "km-pfs", "km-os")


@dataclass(frozen=True)
class Table:
    """Columns as (csv key, label shown on the page) and rows of plain values."""

    columns: tuple[tuple[str, str], ...]
    rows: list[list[Any]]

    @property
    def keys(self) -> list[str]:
        return [key for key, _label in self.columns]

    @property
    def labels(self) -> list[str]:
        return [label for _key, label in self.columns]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv_safety.writer(out, lineterminator="\n")
        writer.writerow(self.keys)
        writer.writerows([["" if v is None else v for v in row] for row in self.rows])
        return out.getvalue()


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 3)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


# --- groups ----------------------------------------------------------------------------


def scope_label(stats: dict[str, Any]) -> str:
    site_filter = (stats.get("scope") or {}).get("site_filter")
    if site_filter:
        return _("Site %(code)s") % {"code": site_filter}
    if stats.get("trial_level"):
        return _("Your site(s)")
    return _("Whole trial")


def rate_groups(stats: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(scope label, group label, rates dict) in display order.

    Arms then all arms for the user's scope; for a site investigator the whole trial's
    arms and total follow; then each site of the scope.
    """
    scope = scope_label(stats)
    groups: list[tuple[str, str, dict[str, Any]]] = []
    for code, arm in (stats.get("by_arm") or {}).items():
        groups.append((scope, _("Arm %(code)s") % {"code": code}, arm["rates"]))
    groups.append((scope, _("All patients"), stats["overall"]["rates"]))
    trial_level = stats.get("trial_level")
    if trial_level:
        whole = _("Whole trial (all sites)")
        for code, arm in (trial_level.get("by_arm") or {}).items():
            groups.append((whole, _("Arm %(code)s") % {"code": code}, arm["rates"]))
        groups.append((whole, _("All patients"), trial_level["overall"]["rates"]))
    by_site = stats.get("by_site") or {}
    for code, site in by_site.items() if len(by_site) > 1 else ():
        groups.append((_("Site %(code)s") % {"code": code}, _("All patients"), site["rates"]))
    return groups


def km_groups(stats: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(label, KM dict) per arm when arm-level figures are shown, else the whole scope."""
    by_arm = stats.get("by_arm")
    if by_arm:
        return [(_("Arm %(code)s") % {"code": code}, arm[kind]) for code, arm in by_arm.items()]
    return [(_("All patients"), stats["overall"][kind])]


# --- tables ----------------------------------------------------------------------------


def enrollment_table(stats: dict[str, Any]) -> Table:
    enrollment = stats.get("enrollment") or {}
    targets = enrollment.get("targets") or {}
    rows: list[list[Any]] = []
    for month in enrollment.get("months", []):
        for code in targets:
            rows.append([month["month"], code, month["by_site"].get(code, 0), targets[code]])
        rows.append([month["month"], "ALL", month["total"], enrollment.get("total_target", 0)])
    return Table(
        (
            ("month", _("Month")),
            ("site", _("Site")),
            ("enrolled_cumulative", _("Enrolled (cumulative)")),
            ("target", _("Target")),
        ),
        rows,
    )


def rates_table(stats: dict[str, Any]) -> Table:
    rows = []
    for scope, group, rates in rate_groups(stats):
        orr, dcr = rates["orr"], rates["dcr"]
        rows.append(
            [
                scope,
                group,
                rates.get("enrolled"),
                rates["evaluable"],
                *[rates["counts"].get(k, 0) for k in BOR_ORDER],
                _pct(orr["estimate"]),
                _pct(orr["ci_lower"]),
                _pct(orr["ci_upper"]),
                _pct(dcr["estimate"]),
                _pct(dcr["ci_lower"]),
                _pct(dcr["ci_upper"]),
                engine_text.translate(orr["method"]),
            ]
        )
    return Table(
        (
            ("scope", _("Scope")),
            ("group", _("Group")),
            ("enrolled", _("Enrolled")),
            ("evaluable", _("Evaluable")),
            *[(k, k) for k in BOR_ORDER],
            ("orr_pct", _("ORR %")),
            ("orr_ci_lower_pct", _("ORR 95% CI lower")),
            ("orr_ci_upper_pct", _("ORR 95% CI upper")),
            ("dcr_pct", _("DCR %")),
            ("dcr_ci_lower_pct", _("DCR 95% CI lower")),
            ("dcr_ci_upper_pct", _("DCR 95% CI upper")),
            ("method", _("Method")),
        ),
        rows,
    )


def waterfall_table(stats: dict[str, Any]) -> Table:
    return Table(
        (
            ("subject_id", _("Subject")),
            ("site", _("Site")),
            ("arm", _("Arm")),
            ("bor", _("Best overall response")),
            ("best_change_pct", _("Best change from baseline (%)")),
        ),
        [
            [r["subject_id"], r["site"], r["arm"], r["bor"], _round(r["best_change_pct"], 2)]
            for r in stats.get("waterfall") or []
        ],
    )


def swimmer_table(stats: dict[str, Any]) -> Table:
    return Table(
        (
            ("subject_id", _("Subject")),
            ("site", _("Site")),
            ("arm", _("Arm")),
            ("days_on_study", _("Days on study")),
            ("bor", _("Best overall response")),
            ("first_response_day", _("First response (day)")),
            ("progression_day", _("Progression (day)")),
            ("died", _("Died")),
        ),
        [
            [
                r["subject_id"],
                r["site"],
                r["arm"],
                r["days_on_study"],
                r["bor"],
                r["first_response_day"],
                r["progression_day"],
                "yes" if r["died"] else "no",
            ]
            for r in stats.get("swimmer") or []
        ],
    )


def km_table(stats: dict[str, Any], kind: str) -> Table:
    rows = []
    for label, km in km_groups(stats, kind):
        for step in km.get("steps", []):
            rows.append(
                [
                    label,
                    step["time"],
                    _round(step["survival"]),
                    _round(step["ci_lower"]),
                    _round(step["ci_upper"]),
                    step["at_risk"],
                    step["events"],
                    step["censored"],
                ]
            )
    return Table(
        (
            ("group", _("Group")),
            ("time_days", _("Day")),
            ("survival", _("S(t)")),
            ("ci_lower", _("95% CI lower")),
            ("ci_upper", _("95% CI upper")),
            ("at_risk", _("At risk")),
            ("events", _("Events")),
            ("censored", _("Censored")),
        ),
        rows,
    )


def available_charts(stats: dict[str, Any]) -> list[str]:
    """Charts the user may see: patient-level charts need arm-level figures (present in
    the full dict, counted under ``patient_rows`` in the summary)."""
    counted = stats.get("patient_rows") or {}
    return [c for c in CHARTS if c not in ("waterfall", "swimmer") or c in stats or c in counted]


def row_total(summary: dict[str, Any], chart: str, table: Table) -> int:
    """Rows of the chart's full table (its CSV) when ``table`` was built from the first
    rows only (``domain.analysis_payload.with_heads``): the summary's counts."""
    if chart in ("waterfall", "swimmer"):
        return int(summary["patient_rows"][chart]["total"])
    if chart.startswith("km-"):
        return sum(int(km["steps_total"]) for _label, km in km_groups(summary, chart[3:]))
    return len(table.rows)


TABLES: dict[str, Callable[[dict[str, Any]], Table]] = {
    "enrollment": enrollment_table,
    "rates": rates_table,
    "waterfall": waterfall_table,
    "swimmer": swimmer_table,
    "km-pfs": lambda stats: km_table(stats, "pfs"),
    "km-os": lambda stats: km_table(stats, "os"),
}


# --- summaries shown on the page -------------------------------------------------------


def _days_and_months(days: float | None) -> str:
    if days is None:
        return _("not reached")
    return _("%(days)s d (%(months).1f mo)") % {
        "days": f"{days:g}",
        "months": days / DAYS_PER_MONTH,
    }


def km_summary(stats: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Median with its CI, patients and events, per group (and the whole trial for a
    site investigator)."""
    groups = list(km_groups(stats, kind))
    trial_level = stats.get("trial_level")
    if trial_level:
        if trial_level.get("by_arm"):
            groups += [
                (_("Whole trial, arm %(code)s") % {"code": code}, arm[kind])
                for code, arm in trial_level["by_arm"].items()
            ]
        groups.append((_("Whole trial"), trial_level["overall"][kind]))
    return [
        {
            "group": label,
            "n": km["n"],
            "events": km["events"],
            "median": _days_and_months(km["median"]),
            "ci": "%s – %s"
            % (_days_and_months(km["median_ci_lower"]), _days_and_months(km["median_ci_upper"])),
        }
        for label, km in groups
    ]


def dor_summary(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Duration of response (responders only) for the scope and per arm."""
    groups = [(_("All patients"), stats["overall"].get("dor"))]
    groups += [
        (_("Arm %(code)s") % {"code": code}, arm.get("dor"))
        for code, arm in (stats.get("by_arm") or {}).items()
    ]
    return [
        {
            "group": label,
            "n": km["n"],
            "events": km["events"],
            "median": _days_and_months(km["median"]),
            "ci": "%s – %s"
            % (_days_and_months(km["median_ci_lower"]), _days_and_months(km["median_ci_upper"])),
        }
        for label, km in groups
        if km
    ]


def at_risk_table(stats: dict[str, Any], kind: str) -> dict[str, Any]:
    groups = km_groups(stats, kind)
    times: list[float] = []
    for _label, km in groups:
        for row in km.get("numbers_at_risk", []):
            if row["time"] not in times:
                times.append(row["time"])
    times.sort()
    rows = []
    for label, km in groups:
        by_time = {r["time"]: r["at_risk"] for r in km.get("numbers_at_risk", [])}
        rows.append({"group": label, "values": [by_time.get(t, 0) for t in times]})
    months = {
        r["time"]: r.get("time_months")
        for _label, km in groups
        for r in km.get("numbers_at_risk", [])
    }
    labels = [f"{months[t]:g}" if months.get(t) is not None else f"{t:g}" for t in times]
    return {"times": labels, "rows": rows, "months": all(months.get(t) is not None for t in times)}


def proportion_text(prop: dict[str, Any]) -> str:
    """'32.3% (16.7–51.4)' or 'NE' when there is no evaluable patient."""
    if prop.get("estimate") is None:
        return _("NE (no evaluable patient)")
    return "%.1f%% (%.1f–%.1f)" % (
        prop["estimate"] * 100,
        prop["ci_lower"] * 100,
        prop["ci_upper"] * 100,
    )


def summary_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Response summary per group, formatted for the page."""
    return [
        {
            "scope": scope,
            "group": group,
            "enrolled": rates.get("enrolled"),
            "evaluable": rates["evaluable"],
            "counts": [rates["counts"].get(k, 0) for k in BOR_ORDER],
            "orr": proportion_text(rates["orr"]),
            "dcr": proportion_text(rates["dcr"]),
        }
        for scope, group, rates in rate_groups(stats)
    ]


def p_text(result: dict[str, Any] | None) -> str:
    return format_p_value(result.get("p_value") if result else None)


def rows_html(rows: Iterable[list[Any]]) -> SafeString:
    """The ``<tr>`` rows of a "Numbers" table, every value localized and escaped as the
    template would (``{{ value|default_if_none:"—" }}``), built here because six
    tables of a hundred rows cost the template engine more than the rest of the page.
    Plain numbers skip ``localize`` when it would only give ``str(value)`` (no thousand
    separator, "." as decimal separator): most of the time of the table otherwise."""
    plain = not settings.USE_THOUSAND_SEPARATOR and get_format("DECIMAL_SEPARATOR") == "."

    def cell(v: Any) -> str:
        if v is None:
            return "—"
        if type(v) is str:
            return conditional_escape(v)
        if plain and type(v) is int:
            return str(v)
        if plain and type(v) is float and math.isfinite(v) and "e" not in (text := repr(v)):
            return text
        return conditional_escape(str(localize(v)))

    return mark_safe(  # noqa: S308 - every value is escaped
        "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    )


def limited(rows: Iterable[list[Any]], limit: int) -> list[list[Any]]:
    out = []
    for i, row in enumerate(rows):
        if i >= limit:
            break
        out.append(row)
    return out
