"""The investigator dashboard: page, its data (JSON) and one CSV per chart.

All three read ``trials.selectors_stats.trial_statistics_for`` (cached, scoped, blinded
where it must be), so the page, the charts and the downloads show the same numbers.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page

from domain.analysis import BOR_ORDER
from sites.mixins import get_visible_or_404, require_perm
from sites.roles import Perm
from ui import engine_text

from . import dashboard_details as details
from . import dashboard_tables as tables
from . import svg_charts
from .models import Trial
from .selectors_stats import trial_statistics_for

ROW_LIMIT = 100  # rows of a "Numbers" table on the page; the CSV has them all


def _load(request: HttpRequest, pk: int) -> tuple[Trial, dict[str, Any]]:
    trial = get_visible_or_404(Trial, request.user, pk=pk)
    require_perm(request.user, Perm.VIEW_DASHBOARD, trial=trial)
    site = (request.GET.get("site") or "").strip() or None
    return trial, trial_statistics_for(trial=trial, user=request.user, site_code=site)


def _js_strings() -> dict[str, str]:
    return {
        "enrolled": _("Enrolled (ever, incl. withdrawn; cumulative)"),
        "total": _("All sites"),
        "target": _("Target"),
        "totalTarget": _("Total target"),
        "month": _("Month of enrollment"),
        "patients": _("Patients"),
        "orr": _("ORR"),
        "dcr": _("DCR"),
        "percent": _("Percent of evaluable patients"),
        "ci": _("95% CI"),
        "bestChange": _("Best change from baseline (%)"),
        "patient": _("Patient"),
        "pr30": _("−30% (PR)"),
        "pd20": _("+20% (PD)"),
        "daysOnStudy": _("Days on study"),
        "firstResponse": _("First response"),
        "progression": _("Progression"),
        "death": _("Death"),
        "ongoing": _("On study"),
        "days": _("Days from day 0"),
        "months": _("Months from day 0"),
        "survival": _("Probability"),
        "ciBand": _("95% CI band"),
        "arm": _("Arm"),
        "allPatients": _("All patients"),
        "wholeTrial": _("Whole trial (all sites)"),
        "showing": _("Showing the %(n)s patients longest on study of %(total)s; the CSV has all."),
        "loadError": _("The chart data could not be loaded."),
        "noData": _("No data yet."),
    }


def dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    trial, stats = _load(request, pk)
    charts = tables.available_charts(stats)
    site = stats["scope"]["site_filter"]
    query = "?" + urlencode({"site": site}) if site else ""
    sections = {}
    for chart in charts:
        table = tables.TABLES[chart](stats)
        sections[chart.replace("-", "_")] = {
            "labels": table.labels,
            "rows": tables.limited(table.rows, ROW_LIMIT),
            "total": len(table.rows),
            "truncated": len(table.rows) > ROW_LIMIT,
            "csv_url": reverse("trials:dashboard_csv", args=[trial.pk, chart]) + query,
        }
    overall = stats["overall"]
    comparisons = stats.get("comparisons") or {}
    trial_comparisons = (stats.get("trial_level") or {}).get("comparisons") or {}
    context = {
        "trial": trial,
        "stats": stats,
        "computed_at": parse_datetime(stats["computed_at"]),
        "sections": sections,
        "row_limit": ROW_LIMIT,
        "rates_method": _("%(method)s. Denominator: %(denominator)s.")
        % {
            "method": engine_text.translate(overall["rates"]["method"]),
            "denominator": engine_text.translate(overall["rates"]["denominator"]),
        },
        "km_method": _("%(km)s; %(median)s.")
        % {
            "km": engine_text.translate(overall["pfs"]["method"]),
            "median": engine_text.translate(overall["pfs"]["median_method"]),
        },
        "dor_summary": tables.dor_summary(stats),
        "km_sections": [
            (
                kind,
                title,
                sections[f"km_{kind}"],
                tables.km_summary(stats, kind),
                tables.at_risk_table(stats, kind),
                tables.p_text(comparisons.get(f"{kind}_logrank")) if comparisons else None,
                comparisons.get(f"{kind}_logrank"),
                {
                    "rows": details.survival_details(stats, kind),
                    "hr": details.hazard_ratio_rows(stats, kind),
                },
            )
            for kind, title in (
                ("pfs", _("Progression-free survival (Kaplan-Meier)")),
                ("os", _("Overall survival (Kaplan-Meier)")),
            )
        ],
        "fisher_p": tables.p_text(comparisons.get("orr_fisher")) if comparisons else None,
        "comparisons": comparisons,
        "trial_comparisons": [
            (label, tables.p_text(result), result["method"])
            for label, result in (
                (_("ORR, Fisher's exact test"), trial_comparisons.get("orr_fisher")),
                (_("PFS, log-rank test"), trial_comparisons.get("pfs_logrank")),
                (_("OS, log-rank test"), trial_comparisons.get("os_logrank")),
            )
            if result
        ],
        "blinded_hidden": not stats["arm_level"],
        "data_url": reverse("trials:dashboard_data", args=[trial.pk]) + query,
        "js_strings": _js_strings(),
        "summary_rows": tables.summary_rows(stats),
        "bor_order": BOR_ORDER,
        "settings_facts": details.settings_facts(stats),
        "response_details": details.response_details(stats),
        "orr_difference": details.orr_difference_text(stats),
        "orr_difference_method": (comparisons.get("orr_difference") or {}).get("method"),
        "forest_rows": details.forest_rows(stats),
        "forest_svgs": [
            # every label in the SVG is escaped by svg_charts
            mark_safe(svg_charts.forest_svg(stats["forest"], key, title, log=log))  # noqa: S308
            for key, title, log in (
                ("orr_difference", _("ORR difference (percentage points)"), False),
                ("pfs_hr", _("PFS hazard ratio"), True),
                ("os_hr", _("OS hazard ratio"), True),
            )
        ]
        if stats.get("forest")
        else [],
        "data_quality": details.data_quality_rows(stats),
    }
    return render(request, "trials/dashboard.html", context)


# gzip for the data and the CSV downloads only (a few % of their size): they carry no
# CSRF token nor any other secret, so compression cannot leak one (BREACH). HTML pages,
# which carry the CSRF token, are not compressed.
@gzip_page
def dashboard_data(request: HttpRequest, pk: int) -> JsonResponse:
    _trial, stats = _load(request, pk)
    return JsonResponse(stats)


@gzip_page
def dashboard_csv(request: HttpRequest, pk: int, chart: str) -> HttpResponse:
    trial, stats = _load(request, pk)
    if chart not in tables.available_charts(stats):
        raise Http404(chart)
    table = tables.TABLES[chart](stats)
    site = stats["scope"]["site_filter"]
    name = f"{trial.protocol_code}-{site + '-' if site else ''}{chart}-{stats['cutoff_date']}.csv"
    response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
