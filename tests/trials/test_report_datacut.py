"""``manage.py report_datacut``: a self-contained report whose numbers are
``analyze_datacut``'s, in English and Chinese, refusing bad cuts like the analysis."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from analysis import dashboard_tables as tables

from .helpers_dashboard import seed
from .test_analysis import datacut, patient, scan


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _analyze(path) -> dict:
    out = io.StringIO()
    call_command("analyze_datacut", str(path), stdout=out)
    return json.loads(out.getvalue())


def _embedded(html: str) -> dict:
    match = re.search(r'<script id="analysis" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the report embeds its analysis result"
    return json.loads(match.group(1))


def test_report_numbers_equal_analyze_datacut(tmp_path, trial, trial_site_a, trial_site_b):
    seed(trial, trial_site_a, trial_site_b)
    cut_path = tmp_path / "cut.json"
    call_command(
        "export_datacut", trial.protocol_code, "--out", str(cut_path), stdout=io.StringIO()
    )
    report = tmp_path / "report.html"
    call_command("report_datacut", str(cut_path), "--out", str(report), stdout=io.StringIO())
    html = report.read_text(encoding="utf-8")
    analysed = _analyze(cut_path)

    assert _embedded(html) == analysed
    # the numbers shown are the analysis' numbers, formatted
    for arm in ("A", "B"):
        assert tables.proportion_text(analysed["by_arm"][arm]["rates"]["orr"]) in html
    hr = analysed["comparisons"]["os"]["hazard_ratio"]
    if hr["hr"] is not None:
        assert f"{hr['hr']:.2f}" in html
    counts = analysed["overall"]["rates"]["counts"]
    assert f'<td class="num">{counts["PR"]}</td>' in html
    # provenance, self-containment
    assert hashlib.sha256(cut_path.read_bytes()).hexdigest() in html
    assert re.search(r'id="code-version">(git |hbtrials )\S+', html)
    assert "<svg" in html and 'id="consort"' in html and 'id="baseline"' in html
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)  # no external asset
    assert "Methods" in html and "Clopper-Pearson" in html


def test_report_in_chinese(tmp_path):
    cut = datacut([patient("P1", "A", "S1", [scan("2026-02-18", {"T1": 60})])])
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(cut))
    report = tmp_path / "report.html"
    call_command(
        "report_datacut", str(path), "--out", str(report), "--language", "zh-hans",
        stdout=io.StringIO(),
    )  # fmt: skip
    html = report.read_text(encoding="utf-8")
    assert "方法" in html and "基线特征" in html
    assert _embedded(html)["overall"]["rates"]["counts"]["PR"] == 1


def test_report_refuses_a_contradictory_cut_with_exit_2(tmp_path):
    p = patient("P1", "A", "S1", [scan("2025-12-20", {"T1": 50})])
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(datacut([p])))
    with pytest.raises(CommandError) as info:
        call_command("report_datacut", str(path), "--out", str(tmp_path / "r.html"))
    assert info.value.returncode == 2 and "patient P1: assessments[1].date" in str(info.value)
    assert not (tmp_path / "r.html").exists()
