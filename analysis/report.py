"""The data-cut report: one self-contained HTML file (inline CSS and SVG, no script, no
external asset) with the CONSORT flow, baseline characteristics by arm, every dashboard
figure and table, the methods text, the cut's SHA-256 and the code version, so that a
DSMB or a journal gets the same numbers years later (``manage.py report_datacut``).

The figures come from ``domain.analysis.analyze`` (strict, as
``analyze_datacut``), whose full result is embedded in the report as JSON: the report's
numbers are that result's, formatted.
"""

from __future__ import annotations

import hashlib
import shutil
import statistics as pystats
import subprocess
from collections import Counter
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from domain.analysis import DAYS_PER_MONTH
from trials import svg_charts

from . import dashboard_details as details
from . import dashboard_tables as tables

ROOT = Path(__file__).resolve().parent.parent


def sha256_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def code_version() -> str:
    """``git describe --always --dirty`` of the checkout, else the package version."""
    git = shutil.which("git")
    try:
        if git is None:
            raise OSError("git not installed")
        out = subprocess.run(  # noqa: S603 - fixed arguments, no user input
            [git, "describe", "--always", "--dirty", "--tags"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        if out:
            return f"git {out}"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return f"hbtrials {metadata.version('hbtrials')}"
    except metadata.PackageNotFoundError:
        return "unknown"


def consort(cut: Mapping[str, Any], result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """CONSORT-style flow per arm: randomized, treated, with a baseline scan, not yet
    assessable, analysed for response, died, with a data problem."""
    problems = {p["subject_id"] for p in result.get("data_quality", [])}
    arms = [a["code"] for a in cut.get("arms", [])] or sorted(
        {str(p.get("arm")) for p in cut.get("patients", [])}
    )
    seen: set[str] = set()
    patients = []
    for p in cut.get("patients", []):
        if str(p.get("subject_id")) not in seen:
            seen.add(str(p.get("subject_id")))
            patients.append(p)
    rows = []
    for code in arms:
        members = [p for p in patients if p.get("arm") == code]
        rates = (result.get("by_arm") or {}).get(code, {}).get("rates", {})
        rows.append(
            {
                "arm": code,
                "randomized": len(members),
                "treated": sum(1 for p in members if p.get("first_treatment_date")),
                "baseline": sum(
                    1 for p in members if any(a.get("baseline") for a in p.get("assessments", []))
                ),
                "nya": rates.get("not_yet_assessable", 0),
                "analysed": rates.get("evaluable", 0),
                "died": sum(1 for p in members if p.get("death_date")),
                "problems": sum(1 for p in members if str(p.get("subject_id")) in problems),
            }
        )
    return rows


def _median_range(values: Sequence[float]) -> str:
    if not values:
        return "–"
    return f"{pystats.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def baseline_by_arm(cut: Mapping[str, Any]) -> dict[str, Any]:
    """Baseline characteristics by arm from what a (pseudonymous) cut holds: site,
    stratum, measurable disease, target lesions and their sum, organs involved."""
    arms = [a["code"] for a in cut.get("arms", [])]
    by_arm: dict[str, list] = {code: [] for code in arms}
    for p in cut.get("patients", []):
        by_arm.setdefault(str(p.get("arm")), []).append(p)
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, fn: Any) -> None:
        rows.append((label, [fn(by_arm[code]) for code in by_arm]))

    add(_("Patients"), lambda ps: str(len(ps)))
    add(
        _("Measurable disease, n (%)"),
        lambda ps: _n_pct(
            sum(1 for p in ps if any(les.get("target") for les in p.get("lesions", []))), len(ps)
        ),
    )
    add(
        _("Target lesions, median (range)"),
        lambda ps: _median_range(
            [float(sum(1 for les in p.get("lesions", []) if les.get("target"))) for p in ps]
        ),
    )
    add(
        _("Sum of target diameters, mm, median (range)"),
        lambda ps: _median_range(
            [
                float(
                    sum(
                        les.get("baseline_mm") or 0
                        for les in p.get("lesions", [])
                        if les.get("target")
                    )
                )
                for p in ps
                if any(les.get("target") for les in p.get("lesions", []))
            ]
        ),
    )
    sites = sorted({str(p.get("site")) for p in cut.get("patients", [])})
    for site in sites:
        add(
            _("Site %(code)s, n (%%)") % {"code": site},
            lambda ps, site=site: _n_pct(sum(1 for p in ps if str(p.get("site")) == site), len(ps)),
        )
    strata = Counter(str(p.get("stratum")) for p in cut.get("patients", []) if p.get("stratum"))
    for stratum in sorted(strata):
        add(
            _("Stratum %(s)s, n (%%)") % {"s": stratum},
            lambda ps, s=stratum: _n_pct(sum(1 for p in ps if str(p.get("stratum")) == s), len(ps)),
        )
    organs = sorted(
        {str(les.get("organ")) for p in cut.get("patients", []) for les in p.get("lesions", [])}
    )
    for organ in organs:
        add(
            _("Lesion in %(organ)s, n (%%)") % {"organ": organ},
            lambda ps, o=organ: _n_pct(
                sum(
                    1 for p in ps if any(str(les.get("organ")) == o for les in p.get("lesions", []))
                ),
                len(ps),
            ),
        )
    return {"arms": list(by_arm), "rows": rows}


def _n_pct(k: int, n: int) -> str:
    return f"{k} ({k / n * 100:.0f}%)" if n else "0"


def figures(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(title, inline SVG) for every dashboard figure."""
    out: list[tuple[str, str]] = []
    months = (result.get("enrollment") or {}).get("months", [])
    out.append(
        (
            _("Enrollment over time"),
            svg_charts.hbars_svg(
                [(m["month"], float(m["total"]), "#0b6e8a") for m in months],
                _("Cumulative enrollment"),
                _("patients"),
            ),
        )
    )
    groups = tables.rate_groups(dict(result))
    out.append(
        (
            _("ORR and DCR"),
            svg_charts.hbars_svg(
                [(f"{g} ORR", (r["orr"]["estimate"] or 0) * 100, "#0b6e8a") for _s, g, r in groups]
                + [
                    (f"{g} DCR", (r["dcr"]["estimate"] or 0) * 100, "#27ae60")
                    for _s, g, r in groups
                ],
                _("ORR and DCR (%)"),
                "%",
            ),
        )
    )
    if result.get("waterfall"):
        out.append(
            (
                _("Waterfall: best change in target lesions"),
                svg_charts.bars_svg(
                    [
                        (
                            r["subject_id"],
                            r["best_change_pct"],
                            svg_charts.BOR_COLORS.get(r["bor"], "#999"),
                        )
                        for r in result["waterfall"]
                    ],
                    _("Best change from baseline (%)"),
                    lo=-100,
                    hi=100,
                ),
            )
        )
    if result.get("swimmer"):
        out.append(
            (
                _("Swimmer plot: time on study"),
                svg_charts.hbars_svg(
                    [
                        (
                            r["subject_id"],
                            r["days_on_study"] / DAYS_PER_MONTH,
                            svg_charts.BOR_COLORS.get(r["bor"], "#999"),
                        )
                        for r in result["swimmer"][:60]
                    ],
                    _("Months on study"),
                    _("months"),
                ),
            )
        )
    for kind, title in (
        ("pfs", _("Progression-free survival (Kaplan-Meier)")),
        ("os", _("Overall survival (Kaplan-Meier)")),
    ):
        out.append((title, svg_charts.km_svg(tables.km_groups(dict(result), kind), title)))
    if result.get("forest"):
        for key, title, log in (
            ("orr_difference", _("ORR difference (percentage points)"), False),
            ("pfs_hr", _("PFS hazard ratio"), True),
            ("os_hr", _("OS hazard ratio"), True),
        ):
            out.append(
                (
                    _("Forest plot: %(t)s") % {"t": title},
                    svg_charts.forest_svg(result["forest"], key, title, log=log),
                )
            )
    return [(title, mark_safe(svg)) for title, svg in out]  # noqa: S308 - labels escaped


def render_report(
    cut: Mapping[str, Any], result: Mapping[str, Any], *, raw: bytes, source: str
) -> str:
    """The report as HTML text, in the active language."""
    stats = dict(result)
    table_list = []
    for chart in tables.available_charts(stats):
        table = tables.TABLES[chart](stats)
        table_list.append({"chart": chart, "labels": table.labels, "rows": table.rows})
    context = {
        "cut": cut,
        "stats": stats,
        "source": source,
        "sha256": sha256_of(raw),
        "code_version": code_version(),
        "consort": consort(cut, result),
        "baseline": baseline_by_arm(cut),
        "figures": figures(result),
        "tables": table_list,
        "summary_rows": tables.summary_rows(stats),
        "settings_facts": details.settings_facts(stats),
        "response_details": details.response_details(stats),
        "orr_difference": details.orr_difference_text(stats),
        "survival": [
            (
                kind,
                tables.km_summary(stats, kind),
                details.survival_details(stats, kind),
                details.hazard_ratio_rows(stats, kind),
                tables.at_risk_table(stats, kind),
            )
            for kind in ("pfs", "os")
        ],
        "forest_rows": details.forest_rows(stats),
        "dor_summary": tables.dor_summary(stats),
        "data_quality": stats.get("data_quality", []),
        "analysis": result,
        "methods": details.methods_text(stats),
        "bor_order": ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"),
    }
    return render_to_string("trials/report_datacut.html", context)
