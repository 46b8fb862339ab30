"""The data-cut analysis engine: outcomes per patient and the trial statistics."""

from __future__ import annotations

import json

import pytest

from domain.analysis import DataCutError, analyze


def lesion(lid, mm, *, organ="liver", target=True, nodal=False, ablated_on_study=False):
    return {
        "lesion_id": lid,
        "organ": organ,
        "nodal": nodal,
        "baseline_mm": mm,
        "target": target,
        "ablated": False,
        "ablated_on_study": ablated_on_study,
    }


def scan(date, sums, *, non_target="NONE", new="none", recorded=None):
    return {
        "date": date,
        "baseline": False,
        "non_target": non_target,
        "new_lesions": new,
        "recorded_response": recorded,
        "measurements": [
            {"lesion_id": k, "diameter_mm": v, "state": "measured"} for k, v in sums.items()
        ],
    }


def patient(sid, arm, site, scans, *, baseline=100, death=None, alive=None):
    return {
        "subject_id": sid,
        "arm": arm,
        "site": site,
        "enrolled_on": "2026-01-05",
        "first_treatment_date": "2026-01-07",
        "death_date": death,
        "last_known_alive_date": alive,
        "lesions": [lesion("T1", baseline)],
        "assessments": [{"date": "2026-01-02", "baseline": True, "measurements": []}, *scans],
    }


def datacut(patients, **trial):
    return {
        "format": "hbtrials-datacut",
        "format_version": 1,
        "cutoff_date": "2026-11-01",
        "trial": {
            "protocol_code": "T",
            "response_criteria": "recist11",
            "confirmation_required": False,
            "min_sd_days": 42,
            **trial,
        },
        "arms": [{"code": "A"}, {"code": "B"}],
        "sites": [{"code": "S1", "enrollment_target": 5}, {"code": "S2", "enrollment_target": 5}],
        "patients": patients,
    }


def test_bor_pfs_os_and_rates():
    cut = datacut(
        [
            # PR at week 6 then PD at week 18 (from nadir 60 to 80: +33%, +20 mm)
            patient(
                "P1",
                "A",
                "S1",
                [
                    scan("2026-02-18", {"T1": 60}),
                    scan("2026-04-01", {"T1": 60}),
                    scan("2026-05-13", {"T1": 80}),
                ],
            ),
            # SD, alive
            patient(
                "P2",
                "B",
                "S2",
                [scan("2026-02-18", {"T1": 90}), scan("2026-04-01", {"T1": 95})],
                alive="2026-10-01",
            ),
            # early PD then death
            patient("P3", "B", "S1", [scan("2026-02-18", {"T1": 130})], death="2026-03-01"),
        ]
    )
    stats = analyze(cut)
    rates = stats["overall"]["rates"]
    assert rates["counts"] == {"CR": 0, "PR": 1, "SD": 1, "NON-CR/NON-PD": 0, "PD": 1, "NE": 0}
    assert rates["evaluable"] == 3
    assert rates["orr"]["k"] == 1 and rates["dcr"]["k"] == 2
    assert stats["by_arm"]["A"]["rates"]["orr"]["estimate"] == 1.0
    assert stats["by_site"]["S1"]["rates"]["evaluable"] == 2
    assert stats["overall"]["pfs"]["events"] == 2  # P1 progression, P3 progression
    assert stats["overall"]["os"]["events"] == 1
    waterfall = {r["subject_id"]: r["best_change_pct"] for r in stats["waterfall"]}
    assert waterfall == {"P1": -40.0, "P2": -10.0, "P3": 30.0}
    assert stats["comparisons"]["orr_fisher"]["p_value"] == pytest.approx(1 / 3)
    assert stats["enrollment"]["months"][-1]["total"] == 3
    json.dumps(stats)  # serialisable as is


def test_blinded_statistics_hide_arm_level_figures():
    stats = analyze(
        datacut([patient("P1", "A", "S1", [scan("2026-02-18", {"T1": 60})])]), arm_level=False
    )
    assert "by_arm" not in stats and "waterfall" not in stats and "comparisons" not in stats
    assert stats["overall"]["rates"]["evaluable"] == 1


def test_recorded_response_is_used_as_given():
    cut = datacut([patient("P1", "A", "S1", [scan("2026-02-18", {}, recorded="PR")])])
    stats = analyze(cut)
    assert stats["overall"]["rates"]["counts"]["PR"] == 1


def test_malformed_datacut_names_the_problem():
    with pytest.raises(DataCutError, match="format"):
        analyze({"format": "other"})
    bad = datacut([{**patient("P1", "A", "S1", []), "enrolled_on": "05/01/2026"}])
    with pytest.raises(DataCutError, match="patient P1.enrolled_on"):
        analyze(bad)
