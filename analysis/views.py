"""The investigator dashboard: page, its data (JSON), the waterfall's and the swimmer's
rows (JSON) and one CSV per chart.

All read ``analysis.selectors`` (cached, scoped, blinded where it must be), so the
page, the charts and the downloads show the same numbers. The page and data.json read
the summary only (its size does not grow with the number of patients); waterfall.json
and swimmer.json read the per-patient rows, all of them up to ``PATIENT_ROWS_LIMIT``
patients, binned or the longest on study above; the CSV downloads have every row.
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

from domain import analysis_payload
from domain.analysis import BOR_ORDER
from sites.mixins import get_visible_or_404, require_perm
from sites.roles import Perm
from trials import svg_charts
from trials.models import Trial
from ui import engine_text

from . import dashboard_details as details
from . import dashboard_tables as tables
from .selectors import HEAD_ROWS, patient_rows_for, trial_statistics_for

ROW_LIMIT = HEAD_ROWS  # rows of a "Numbers" table on the page; the CSV has them all


#: Up to this many patients, waterfall.json and swimmer.json send every row; above, the
#: waterfall is binned and the swimmer holds the ``SWIMMER_LONGEST`` longest on study.
PATIENT_ROWS_LIMIT = 2000
SWIMMER_LONGEST = 60  # rows the swimmer chart draws (dashboard.js SWIMMER_MAX)
WATERFALL_BIN = analysis_payload.WATERFALL_BIN  # percentage points of best change per bin


def _trial(request: HttpRequest, pk: int) -> tuple[Trial, str | None]:
    trial = get_visible_or_404(Trial, request.user, pk=pk)
    require_perm(request.user, Perm.VIEW_DASHBOARD, trial=trial)
    return trial, (request.GET.get("site") or "").strip() or None


def _load(request: HttpRequest, pk: int, *, part: str = "full") -> tuple[Trial, dict[str, Any]]:
    trial, site = _trial(request, pk)
    return trial, trial_statistics_for(trial=trial, user=request.user, site_code=site, part=part)


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
        "binned": _(
            "%(total)s patients, counted in bins of %(width)s percentage points of best "
            "change (too many for one bar each); the CSV lists every patient."
        ),
        "censored": _("Censored"),
        "loadError": _("The chart data could not be loaded."),
        "noData": _("No data yet."),
    }


def dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    # The summary only (never the per-patient rows): its first rows of each list and KM
    # curve fill the "Numbers" tables, its row counts their "first 100 of N".
    trial, summary = _load(request, pk, part="summary")
    stats = analysis_payload.with_heads(summary)
    charts = tables.available_charts(stats)
    site = stats["scope"]["site_filter"]
    query = "?" + urlencode({"site": site}) if site else ""
    sections = {}
    for chart in charts:
        table = tables.TABLES[chart](stats)
        total = tables.row_total(summary, chart, table)
        rows = tables.limited(table.rows, ROW_LIMIT)
        sections[chart.replace("-", "_")] = {
            "labels": table.labels,
            "rows": rows,
            "body": tables.rows_html(rows),
            "total": total,
            "truncated": total > ROW_LIMIT,
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
        "waterfall_url": reverse("trials:dashboard_waterfall", args=[trial.pk]) + query,
        "swimmer_url": reverse("trials:dashboard_swimmer", args=[trial.pk]) + query,
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
        # what waterfall.json will send: the method line says how the chart was drawn
        "waterfall_binned": "waterfall" in sections
        and sections["waterfall"]["total"] > PATIENT_ROWS_LIMIT,
        "waterfall_bin": WATERFALL_BIN,
    }
    return render(request, "trials/dashboard.html", context)


# gzip for the data and the CSV downloads only (a few % of their size): they carry no
# CSRF token nor any other secret, so compression cannot leak one (BREACH). HTML pages,
# which carry the CSRF token, are not compressed.
@gzip_page
def dashboard_data(request: HttpRequest, pk: int) -> JsonResponse:
    """The summary: every figure but the per-patient rows (see waterfall.json and
    swimmer.json); KM curves compressed for drawing. Its size does not grow with the
    number of patients."""
    _trial, summary = _load(request, pk, part="summary")
    return JsonResponse(analysis_payload.public(summary))


def _rows(request: HttpRequest, pk: int, chart: str) -> list[dict[str, Any]]:
    trial, site = _trial(request, pk)
    _summary, rows = patient_rows_for(trial=trial, user=request.user, site_code=site)
    if chart not in rows:  # blinded: no patient-level chart (as its CSV)
        raise Http404(chart)
    return rows[chart]


@gzip_page
def dashboard_waterfall(request: HttpRequest, pk: int) -> JsonResponse:
    """The waterfall's rows (best change first), or above ``PATIENT_ROWS_LIMIT`` patients
    the same patients in bins (``binned``); ``total`` patients, ``shown`` rows listed."""
    rows = _rows(request, pk, "waterfall")
    total = len(rows)
    if total <= PATIENT_ROWS_LIMIT:
        return JsonResponse({"total": total, "shown": total, "binned": False, "rows": rows})
    bins = analysis_payload.waterfall_bins(rows)
    return JsonResponse(
        {
            "total": total,
            "shown": 0,
            "binned": True,
            "bin_width": WATERFALL_BIN,
            "bins": bins,
        }
    )


@gzip_page
def dashboard_swimmer(request: HttpRequest, pk: int) -> JsonResponse:
    """The swimmer's rows (longest on study first): all up to ``PATIENT_ROWS_LIMIT``
    patients, else the ``SWIMMER_LONGEST`` longest (``truncated``)."""
    rows = _rows(request, pk, "swimmer")
    total = len(rows)
    shown = rows if total <= PATIENT_ROWS_LIMIT else rows[:SWIMMER_LONGEST]
    return JsonResponse(
        {"total": total, "shown": len(shown), "truncated": len(shown) < total, "rows": shown}
    )


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
