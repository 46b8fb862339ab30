"""``export_datacut`` then ``analyze_datacut`` reproduce the dashboard's numbers."""

from __future__ import annotations

import datetime
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from analysis.selectors import trial_statistics_for
from patients.models import Enrollment

from .helpers_dashboard import day0, seed

SAME_NUMBERS = (
    "format",
    "format_version",
    "trial",
    "cutoff_date",
    "criteria",
    "definitions",
    "overall",
    "by_arm",
    "by_site",
    "comparisons",
    "waterfall",
    "swimmer",
    "enrollment",
    "arm_level",
)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def export(trial, path, *extra) -> str:
    out = io.StringIO()
    call_command("export_datacut", trial.protocol_code, "--out", str(path), *extra, stdout=out)
    return out.getvalue()


def analyze(path, *extra) -> dict:
    out = io.StringIO()
    call_command("analyze_datacut", str(path), *extra, stdout=out)
    return json.loads(out.getvalue())


def test_export_then_analyze_reproduces_the_dashboard(
    tmp_path, trial, trial_site_a, trial_site_b, lead_investigator
):
    seed(trial, trial_site_a, trial_site_b, per_site=6)
    path = tmp_path / "cut.json"
    summary = export(trial, path)
    assert "Data cut of CRYO" in summary and "12 enrolled patients" in summary
    cut = json.loads(path.read_text())
    assert cut["format"] == "hbtrials-datacut" and len(cut["patients"]) == 12
    assert {p["site"] for p in cut["patients"]} == {"SA", "SB"}
    assert "full_name" not in path.read_text()  # pseudonymous: subject ids only

    dashboard = trial_statistics_for(trial=trial, user=lead_investigator)
    analysed = analyze(path)
    for key in SAME_NUMBERS:
        assert analysed.get(key) == dashboard.get(key), key

    # One site, as the lead investigator's site filter shows it.
    cache.clear()
    dashboard_sb = trial_statistics_for(trial=trial, user=lead_investigator, site_code="SB")
    analysed_sb = analyze(path, "--site", "SB")
    for key in SAME_NUMBERS:
        assert analysed_sb.get(key) == dashboard_sb.get(key), key


def test_export_with_cutoff_and_blinded_analysis(tmp_path, trial, trial_site_a, trial_site_b):
    seed(trial, trial_site_a, trial_site_b)
    path = tmp_path / "cut.json"
    cutoff = day0() + datetime.timedelta(days=10)  # after some enrollments only
    summary = export(trial, path, "--cutoff", cutoff.isoformat())
    enrolled_by_then = Enrollment.objects.filter(enrolled_on__lte=cutoff).count()
    assert 0 < enrolled_by_then < 6
    assert f"{enrolled_by_then} enrolled patients" in summary
    assert f"{6 - enrolled_by_then} patients enrolled after the cut-off left out" in summary
    result = analyze(path, "--blinded")
    assert result["cutoff_date"] == cutoff.isoformat()
    assert result["overall"]["rates"]["enrolled"] == enrolled_by_then
    # Nothing after the cut-off counts: no scan yet (first follow-up on day 42), so
    # every patient is not yet assessable, out of the interim denominator, counted apart.
    assert result["overall"]["rates"]["counts"]["NE"] == 0
    assert result["overall"]["rates"]["not_yet_assessable"] == enrolled_by_then
    assert "by_arm" not in result and "swimmer" not in result
    with pytest.raises(CommandError, match="not a date"):
        export(trial, path, "--cutoff", "01/01/2020")


def test_unknown_trial_is_refused(tmp_path, trial):
    with pytest.raises(CommandError, match="Unknown trial 'NOPE'.*CRYO"):
        export(trial.__class__(protocol_code="NOPE"), tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "{not json",
            "not valid JSON: Expecting property name enclosed in double quotes at line 1",
        ),
        ("[1, 2]", "must contain a JSON object"),
        ('{"format": "other", "cutoff_date": "2026-01-01", "patients": []}', "format must be"),
        ('{"format": "hbtrials-datacut", "patients": []}', "missing key 'cutoff_date'"),
        (
            json.dumps(
                {
                    "format": "hbtrials-datacut",
                    "cutoff_date": "2026-01-01",
                    "patients": [{"subject_id": "P1", "enrolled_on": "05/01/2026"}],
                }
            ),
            "patient P1.enrolled_on: '05/01/2026' is not an ISO date",
        ),
        (
            json.dumps(
                {
                    "format": "hbtrials-datacut",
                    "cutoff_date": "2026-01-01",
                    "patients": [
                        {
                            "subject_id": "P1",
                            "enrolled_on": "2025-01-01",
                            "lesions": [{"organ": "liver"}],
                            "assessments": [
                                {"date": "2025-02-01", "measurements": [{"diameter_mm": "big"}]}
                            ],
                        }
                    ],
                }
            ),
            "patient P1.lesions[0]: lesion_id is required",
        ),
    ],
)
def test_malformed_datacut_gives_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(CommandError) as info:
        analyze(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.returncode == 2


def test_missing_file_and_unknown_site(tmp_path, trial, trial_site_a, trial_site_b):
    with pytest.raises(CommandError, match="no such file"):
        analyze(tmp_path / "missing.json")
    seed(trial, trial_site_a, trial_site_b)
    path = tmp_path / "cut.json"
    export(trial, path)
    with pytest.raises(CommandError, match="unknown site 'ZZ'; the data cut has: SA, SB"):
        analyze(path, "--site", "ZZ")


def test_command_line_exit_status_and_no_traceback(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "hbtrials-datacut", "cutoff_date": "2026-13-01", "patients": []}')
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "analyze_datacut", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "cutoff_date: '2026-13-01' is not an ISO date" in result.stderr
    assert "Traceback" not in result.stderr
