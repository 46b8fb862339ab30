"""Issue 11 fixes in the data-cut analysis: dates, no silent drops, time origin,
not-yet-assessable patients, populations and the stated analysis settings. Each test
fails on the code before the fix (see the comments)."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from domain.analysis import DataQualityError, analyze
from tests.trials.test_analysis import datacut, patient, scan


def problems_of(result, sid):
    return [(p["field"], p["message"]) for p in result["data_quality"] if p["subject_id"] == sid]


def test_a_scan_before_baseline_is_an_error_not_a_day_1_response():
    # Before: max((when - day0).days, 1) made this a PR on day 1.
    early = patient("P1", "A", "S1", [scan("2025-12-20", {"T1": 50})])
    result = analyze(datacut([early]))
    assert result["overall"]["rates"]["counts"]["PR"] == 0
    assert result["overall"]["rates"]["counts"]["NE"] == 1
    [(field, message)] = problems_of(result, "P1")
    assert field == "assessments[1].date" and "not after the baseline scan 2026-01-02" in message
    with pytest.raises(DataQualityError, match=r"patient P1: assessments\[1\].date"):
        analyze(datacut([early]), strict=True)


def test_two_scans_before_day_0_no_longer_drop_the_patient():
    # Before: both became day 1, failed validation and left the denominator silently.
    p = patient("P1", "A", "S1", [scan("2026-01-03", {"T1": 50}), scan("2026-01-04", {"T1": 40})])
    result = analyze(datacut([p]))
    rates = result["overall"]["rates"]
    assert rates["evaluable"] == 1 and rates["counts"]["NE"] == 1
    assert len(problems_of(result, "P1")) == 2
    assert all("not after day 0 (2026-01-05)" in m for _, m in problems_of(result, "P1"))


def test_lesion_not_in_baseline_is_reported_and_counted_ne():
    p = patient("P1", "A", "S1", [scan("2026-02-18", {"T1": 60, "T9": 10})])
    ok = patient("P2", "A", "S1", [scan("2026-02-18", {"T1": 60})])
    result = analyze(datacut([p, ok]))
    rates = result["overall"]["rates"]
    assert rates["evaluable"] == 2  # before: 1, the error stored and never reported
    assert rates["counts"] == {**rates["counts"], "PR": 1, "NE": 1}
    assert any("T9" in f or "T9" in m for f, m in problems_of(result, "P1"))


def test_repeated_subject_id_counts_once_and_is_refused_strictly():
    p = patient("P1", "A", "S1", [scan("2026-02-18", {"T1": 60})])
    result = analyze(datacut([p, dict(p)]))
    assert result["overall"]["rates"]["enrolled"] == 1  # before: 2
    assert ("subject_id", "subject id appears more than once") in problems_of(result, "P1")
    with pytest.raises(DataQualityError, match="patient P1: subject_id"):
        analyze(datacut([p, dict(p)]), strict=True)


def test_unknown_arm_site_and_missing_enrollment_are_listed_not_dropped():
    stray = patient("P1", "Z", "S9", [scan("2026-02-18", {"T1": 60})])
    unenrolled = {**patient("P2", "A", "S1", []), "enrolled_on": None}
    result = analyze(datacut([stray, unenrolled]))
    assert result["overall"]["rates"]["enrolled"] == 1  # P1 stays in the trial totals
    assert ("arm", "arm 'Z' is not in arms") in problems_of(result, "P1")
    assert ("site", "site 'S9' is not in sites") in problems_of(result, "P1")
    assert ("enrolled_on", "enrolled_on is required") in problems_of(result, "P2")


def test_death_before_enrollment_and_assessment_after_death():
    p = patient("P1", "A", "S1", [scan("2026-03-01", {"T1": 60})], death="2026-01-01")
    q = patient("P2", "A", "S1", [scan("2026-03-01", {"T1": 60})], death="2026-02-01")
    result = analyze(datacut([p, q]))
    assert any(f == "death_date" for f, _ in problems_of(result, "P1"))
    assert ("assessments[1].date", "assessment 2026-03-01 is after death 2026-02-01") in (
        problems_of(result, "P2")
    )


def test_time_origin_is_randomization_unless_the_plan_says_first_treatment():
    p = {**patient("P1", "A", "S1", [scan("2026-02-18", {"T1": 60})], death="2026-06-01")}
    p["randomization_date"] = "2026-01-05"
    by_rand = analyze(datacut([p]))
    by_treat = analyze(datacut([p], time_origin="first_treatment"))
    os_rand = by_rand["overall"]["os"]["steps"][0]["time"]
    os_treat = by_treat["overall"]["os"]["steps"][0]["time"]
    assert (os_rand, os_treat) == (147, 145)  # before: 145 whatever the design
    assert by_rand["analysis_settings"]["time_origin"] == "randomization"
    assert by_rand["definitions"]["day0"].startswith("randomization date")


def test_not_yet_assessable_patients_leave_the_interim_denominator():
    fresh = {**patient("P9", "A", "S1", []), "enrolled_on": "2026-10-20"}
    fresh["first_treatment_date"] = "2026-10-21"
    responder = patient("P1", "A", "S1", [scan("2026-02-18", {"T1": 60})])
    excluded = analyze(datacut([fresh, responder]))["overall"]["rates"]
    assert (excluded["evaluable"], excluded["not_yet_assessable"]) == (1, 1)
    assert excluded["orr"]["estimate"] == 1.0  # before: 1/2, the new patient as NE
    counted = analyze(datacut([fresh, responder], nya_handling="include_as_ne"))
    assert counted["overall"]["rates"]["evaluable"] == 2


def test_itt_population_counts_patients_without_baseline_as_ne():
    no_baseline = {**patient("P2", "A", "S1", []), "assessments": []}
    responder = patient("P1", "A", "S1", [scan("2026-02-18", {"T1": 60})])
    evaluable = analyze(datacut([no_baseline, responder]))["overall"]["rates"]
    itt = analyze(datacut([no_baseline, responder], population="itt"))["overall"]["rates"]
    assert (evaluable["evaluable"], itt["evaluable"]) == (1, 2)
    assert itt["counts"]["NE"] == 1 and itt["population"] == "itt"


def test_binomial_test_against_the_null_rate_one_sided():
    patients = [patient(f"P{i}", "A", "S1", [scan("2026-02-18", {"T1": 60})]) for i in range(3)]
    patients += [patient(f"Q{i}", "A", "S1", [scan("2026-02-18", {"T1": 95})]) for i in range(17)]
    cut = datacut(patients, orr_null_rate=0.05, orr_sided="one-sided")
    test = analyze(cut)["overall"]["rates"]["binomial_test"]
    assert (test["responders"], test["n"], test["sided"]) == (3, 20, "one-sided")
    assert test["p_value"] == pytest.approx(0.07548, abs=5e-5)  # P(X >= 3 | 20, 0.05)


def test_confirmed_and_unconfirmed_bor_are_both_reported():
    once = patient("P1", "A", "S1", [scan("2026-02-18", {"T1": 60})])
    result = analyze(datacut([once], confirmation_required=True))["overall"]
    assert result["rates"]["counts"]["PR"] == 0  # primary: confirmed (protocol's choice)
    assert result["rates_confirmed"]["counts"]["PR"] == 0
    assert result["rates_unconfirmed"]["counts"]["PR"] == 1


def test_settings_are_validated_and_stated():
    with pytest.raises(Exception, match="ci_band"):
        analyze(datacut([], ci_band="sideways"))
    result = analyze(datacut([], ci_band="log", landmark_months=[3, 9]))
    assert result["analysis_settings"]["ci_band"] == "log"
    assert result["analysis_settings"]["landmark_months"] == [3.0, 9.0]
    assert result["overall"]["os"]["ci_band"] == "log"


def test_old_format_cut_still_analyses_with_defaults():
    """A cut written before these settings existed: no analysis keys, no
    randomization_date, no stratum. Defaults apply and are stated."""
    old = datacut([patient("P1", "A", "S1", [scan("2026-02-18", {"T1": 60})])])
    result = analyze(old, strict=True)
    assert result["analysis_settings"]["population"] == "evaluable"
    assert result["overall"]["rates"]["counts"]["PR"] == 1
    assert result["data_quality"] == []


def test_analyze_datacut_exits_2_naming_patient_and_field(tmp_path):
    p = patient("P7", "A", "S1", [scan("2025-12-20", {"T1": 50})])
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(datacut([p, dict(p)])))
    with pytest.raises(CommandError) as info:
        call_command("analyze_datacut", str(path))
    assert info.value.returncode == 2
    assert "patient P7: subject_id" in str(info.value)
    assert "patient P7: assessments[1].date" in str(info.value)


def test_survival_summary_in_months_with_landmarks_and_at_risk_grid():
    patients = [
        patient(f"P{i}", "A" if i % 2 else "B", "S1", [scan("2026-02-18", {"T1": 90})],
                death=f"2026-{3 + i % 7:02d}-15" if i % 3 else None, alive="2026-10-30")
        for i in range(12)
    ]  # fmt: skip
    result = analyze(datacut(patients))
    os = result["overall"]["os"]
    grid = [row["time_months"] for row in os["numbers_at_risk"]]
    assert grid[0] == 0 and grid[-1] >= 9 and len(grid) <= 12  # whole follow-up
    assert [lm["months"] for lm in os["months"]["landmarks"]] == [6.0, 12.0, 24.0]
    assert os["months"]["median"] == pytest.approx(os["median"] / 30.4375)
    assert result["comparisons"]["os"]["hazard_ratio"]["hr"] is not None
    assert result["forest"][0]["factor"] == "all"


def test_a_stored_nya_flag_expires_at_a_later_cut_off():
    """The dashboard aggregates stored outcomes: a patient not yet assessable on the day
    the outcome was stored is overdue (NE, in the denominator) once the window passed."""
    from domain.analysis import trial_statistics

    fresh = {**patient("P9", "A", "S1", []), "enrolled_on": "2026-10-20"}
    early = analyze(datacut([fresh]))
    assert early["overall"]["rates"]["not_yet_assessable"] == 1
    import datetime

    from domain.analysis import patient_outcome, response_settings

    cut = datacut([fresh])
    stored = patient_outcome(fresh, response_settings(cut["trial"]), datetime.date(2026, 11, 1))
    later = trial_statistics({**cut, "cutoff_date": "2027-03-01"}, [stored])
    assert later["overall"]["rates"]["not_yet_assessable"] == 0
    assert later["overall"]["rates"]["counts"]["NE"] == 1
