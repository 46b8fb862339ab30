"""Inline SVG charts of the statistics dict: the forest plot on the dashboard and every
figure of the self-contained data-cut report (no script, no external asset).

Pure functions returning SVG text; every label is escaped. Times are drawn in months.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from domain.analysis import DAYS_PER_MONTH

PALETTE = ("#0b6e8a", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#2c3e50")
BOR_COLORS = {
    "CR": "#1e8449",
    "PR": "#58d68d",
    "SD": "#f4d03f",
    "NON-CR/NON-PD": "#f8c471",
    "PD": "#c0392b",
    "NE": "#aab7b8",
}
FONT = 'font-family="sans-serif" font-size="11"'


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" {FONT}>'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def forest_svg(rows: Sequence[dict[str, Any]], key: str, title: str, *, log: bool = True) -> str:
    """One line per subgroup: estimate and CI; ``key`` is ``pfs_hr``/``os_hr`` (log
    scale, reference 1) or ``orr_difference`` (linear, reference 0, in %)."""
    items = []
    for r in rows:
        est = r[key]
        value = est.get("hr") if log else est.get("difference")
        if value is None:
            items.append((r, None, None, None))
            continue
        lo, hi = est.get("ci_lower"), est.get("ci_upper")
        if log:
            items.append((r, math.log(value), math.log(lo), math.log(hi)))
        else:
            items.append((r, value * 100, lo * 100, hi * 100))
    finite = [v for _, *vals in items for v in vals if v is not None]
    ref = 0.0
    lo_all = min([ref, *finite]) if finite else -1
    hi_all = max([ref, *finite]) if finite else 1
    if hi_all - lo_all < 1e-9:
        lo_all, hi_all = lo_all - 1, hi_all + 1
    left, width, row_h = 170, 300, 20
    height = 30 + row_h * len(items) + 30

    def x(v: float) -> float:
        return left + (v - lo_all) / (hi_all - lo_all) * width

    body = [
        f'<line x1="{x(ref):.1f}" y1="20" x2="{x(ref):.1f}" y2="{height - 25}" '
        'stroke="#555" stroke-dasharray="3,3"/>'
    ]
    for i, (r, est, lo, hi) in enumerate(items):
        y = 30 + i * row_h
        label = "all" if r["factor"] == "all" else f"{r['factor']}: {r['level']}"
        body.append(f'<text x="4" y="{y + 4}">{escape(label)}</text>')
        if est is None:
            body.append(f'<text x="{left}" y="{y + 4}" fill="#888">NE</text>')
            continue
        body.append(
            f'<line x1="{x(lo):.1f}" y1="{y}" x2="{x(hi):.1f}" y2="{y}" stroke="#0b6e8a" '
            'stroke-width="2"/>'
            f'<rect x="{x(est) - 4:.1f}" y="{y - 4}" width="8" height="8" fill="#0b6e8a"/>'
        )
    for v in (lo_all, ref, hi_all):
        text = f"{math.exp(v):.2g}" if log else f"{v:.0f}%"
        body.append(f'<text x="{x(v):.1f}" y="{height - 8}" text-anchor="middle">{text}</text>')
    return _svg(left + width + 30, height, body, title)


def km_svg(curves: Sequence[tuple[str, dict[str, Any]]], title: str) -> str:
    """Kaplan-Meier step curves (months on the x axis) with their CI band."""
    width, height, left, bottom = 460, 240, 40, 30
    longest = (
        max((s["time"] for _, km in curves for s in km.get("steps", [])), default=0)
        / DAYS_PER_MONTH
        or 1
    )
    plot_w, plot_h = width - left - 10, height - bottom - 10

    def px(t: float) -> float:
        return left + t / DAYS_PER_MONTH / longest * plot_w

    def py(s: float) -> float:
        return 10 + (1 - s) * plot_h

    body = [
        f'<line x1="{left}" y1="{10 + plot_h}" x2="{left + plot_w}" y2="{10 + plot_h}" stroke="#333"/>',
        f'<line x1="{left}" y1="10" x2="{left}" y2="{10 + plot_h}" stroke="#333"/>',
        f'<text x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle">months</text>',
    ]
    for frac in (0, 0.5, 1):
        body.append(
            f'<text x="{left - 4}" y="{py(frac) + 4:.1f}" text-anchor="end">{frac:g}</text>'
        )
    for i, (label, km) in enumerate(curves):
        color = PALETTE[i % len(PALETTE)]
        points = [(0.0, 1.0)]
        for s in km.get("steps", []):
            points.append((s["time"], points[-1][1]))
            points.append((s["time"], s["survival"]))
        path = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in points)
        body.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{path}"/>')
        body.append(
            f'<text x="{left + plot_w - 4}" y="{20 + 14 * i}" text-anchor="end" '
            f'fill="{color}">{escape(label)}</text>'
        )
    ticks = max(1, math.ceil(longest / 6))
    for m in range(0, int(longest) + 1, ticks):
        body.append(
            f'<text x="{left + m / longest * plot_w:.1f}" y="{10 + plot_h + 14}" '
            f'text-anchor="middle">{m}</text>'
        )
    return _svg(width, height, body, title)


def bars_svg(
    items: Sequence[tuple[str, float | None, str]], title: str, *, lo: float, hi: float
) -> str:
    """Vertical bars (label, value, colour) on a fixed scale, e.g. the waterfall."""
    width, height = 460, 220
    n = max(len(items), 1)
    bar = (width - 50) / n

    def py(v: float) -> float:
        return 10 + (hi - v) / (hi - lo) * (height - 40)

    body = [f'<line x1="40" y1="{py(0):.1f}" x2="{width}" y2="{py(0):.1f}" stroke="#333"/>']
    for v in (lo, 0, hi):
        body.append(f'<text x="36" y="{py(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    for i, (label, value, color) in enumerate(items):
        if value is None:
            continue
        y0, y1 = sorted((py(0), py(max(min(value, hi), lo))))
        body.append(
            f'<rect x="{40 + i * bar:.1f}" y="{y0:.1f}" width="{max(bar - 1, 1):.1f}" '
            f'height="{y1 - y0:.1f}" fill="{color}"><title>{escape(label)}: {value:.1f}</title></rect>'
        )
    return _svg(width, height, body, title)


def hbars_svg(items: Sequence[tuple[str, float, str]], title: str, unit: str) -> str:
    """Horizontal bars (label, value, colour): swimmer plot and rates."""
    row_h = 14
    width, left = 460, 90
    height = 20 + row_h * max(len(items), 1) + 20
    top = max((v for _, v, _ in items), default=1) or 1
    body = []
    for i, (label, value, color) in enumerate(items):
        y = 10 + i * row_h
        w = value / top * (width - left - 50)
        body.append(f'<text x="{left - 4}" y="{y + 10}" text-anchor="end">{escape(label)}</text>')
        body.append(
            f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row_h - 4}" fill="{color}"/>'
            f'<text x="{left + w + 3:.1f}" y="{y + 10}">{value:.1f}</text>'
        )
    body.append(f'<text x="{width - 4}" y="{height - 4}" text-anchor="end">{escape(unit)}</text>')
    return _svg(width, height, body, title)
