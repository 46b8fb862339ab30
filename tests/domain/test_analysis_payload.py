"""The dashboard's statistics split into a summary and per-patient rows
(``domain.analysis_payload``): nothing lost, and a summary whose size does not grow with
the number of patients."""

from __future__ import annotations

import json
import random

from domain import analysis, analysis_payload
from domain.statistics import kaplan_meier


def outcomes(n: int, seed: int = 1) -> list[dict]:
    """``n`` synthetic stored outcomes over about three years of follow-up."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pfs = rng.randrange(0, 1100)
        os_days = pfs + rng.randrange(0, 400)
        bor = rng.choice(["CR", "PR", "SD", "PD", "NE"])
        responder = bor in ("CR", "PR")
        out.append(
            {
                "subject_id": f"P-{i:06d}",
                "site": f"S{i % 4}",
                "arm": "AB"[i % 2],
                "enrolled_on": f"2024-{i % 12 + 1:02d}-01",
                "day0": f"2024-{i % 12 + 1:02d}-03",
                "stratum": None,
                "evaluable": True,
                "measurable_disease": True,
                "treated": True,
                "recorded": False,
                "confirmed": responder,
                "not_yet_assessable": False,
                "bor": bor,
                "bor_confirmed": bor,
                "bor_unconfirmed": bor,
                "non_ablated_bor": None,
                "best_change_pct": None if bor == "NE" else rng.uniform(-100, 80),
                "first_response_day": 84 if responder else None,
                "progression_day": pfs if bor == "PD" else None,
                "followups": 9,
                "pfs_days": pfs,
                "pfs_event": rng.random() < 0.6,
                "os_days": os_days,
                "os_event": rng.random() < 0.4,
                "dor_days": rng.randrange(30, 700) if responder else None,
                "dor_event": (rng.random() < 0.5) if responder else None,
                "days_on_study": os_days,
                "problems": [],
            }
        )
    return out


HEADER = {
    "trial": {"protocol_code": "PAY"},
    "cutoff_date": "2027-06-01",
    "arms": [{"code": "A"}, {"code": "B"}],
    "sites": [{"code": f"S{i}", "enrollment_target": 100} for i in range(4)],
}


def stats_for(n: int, *, arm_level: bool = True) -> dict:
    return analysis.trial_statistics(HEADER, outcomes(n), arm_level=arm_level)


def test_split_then_join_gives_back_the_whole_dict():
    for arm_level in (True, False):
        stats = stats_for(300, arm_level=arm_level)
        before = json.dumps(stats, sort_keys=True)
        summary, rows = analysis_payload.split(stats, head=10)
        assert json.dumps(stats, sort_keys=True) == before  # the input is left alone
        assert analysis_payload.join(summary, rows) == stats
        assert ("waterfall" in rows) is arm_level and "waterfall" not in summary
        if arm_level:
            assert summary["patient_rows"] == {
                "waterfall": {"total": len(stats["waterfall"])},
                "swimmer": {"total": 300},
            }
            assert summary["heads"]["swimmer"] == stats["swimmer"][:10]
        else:
            assert summary["patient_rows"] == {}
        km = summary["overall"]["pfs"]
        assert "steps" not in km and km["steps_total"] == len(stats["overall"]["pfs"]["steps"])
        assert (
            summary["heads"]["steps"][("overall", "pfs")] == stats["overall"]["pfs"]["steps"][:10]
        )
        # the page's view: the full dict's shape with the first rows only
        page = analysis_payload.with_heads(summary)
        assert page["overall"]["os"]["steps"] == stats["overall"]["os"]["steps"][:10]
        assert "heads" not in analysis_payload.public(summary)


def test_summary_size_does_not_grow_with_the_number_of_patients():
    sizes = {}
    for n in (2000, 20_000):
        summary, _rows = analysis_payload.split(stats_for(n), head=100)
        public = json.dumps(analysis_payload.public(summary))
        assert "P-000001" not in public  # no patient row
        sizes[n] = len(public)
    # ten times the patients, about the same size: KM curves cap their points (at 2,000
    # patients a curve already has about as many event times as it will ever have)
    assert sizes[20_000] < 1.2 * sizes[2000], sizes
    assert sizes[20_000] < 200_000, sizes


def test_a_small_curve_is_exact_and_keeps_every_censoring():
    times = [1, 2, 2, 3, 5, 8, 8, 13]
    events = [1, 0, 1, 0, 1, 0, 0, 0]
    steps = kaplan_meier(times, events).to_dict()["steps"]
    out = analysis_payload.compress_curve(steps)
    curve, marks = out["curve"], out["censor_marks"]
    assert curve["exact"] and not marks["aggregated"]
    # where S(t) changes (events at 1, 2, 5), then flat to the last time observed (13)
    assert curve["time"] == [1, 2, 5, 13]
    assert curve["survival"] == [
        round(s["survival"], 4) for s in steps if s["time"] in (1, 2, 5, 13)
    ]
    assert marks["time"] == [2, 3, 8, 13] and marks["count"] == [1, 1, 2, 1]
    assert out["steps_total"] == len(steps)


def test_a_large_curve_stays_within_its_resolution():
    rng = random.Random(7)
    times = [rng.randrange(1, 3000) for _ in range(50_000)]
    events = [rng.random() < 0.7 for _ in times]
    steps = kaplan_meier(times, events).to_dict()["steps"]
    assert sum(1 for s in steps if s["events"]) > analysis_payload.CURVE_POINTS
    out = analysis_payload.compress_curve(steps)
    curve, marks = out["curve"], out["censor_marks"]
    assert not curve["exact"] and marks["aggregated"]
    assert len(curve["time"]) <= 2 / analysis_payload.CURVE_RESOLUTION
    assert curve["time"][-1] == steps[-1]["time"]
    # the drawn step function (S at the last kept time <= t) is within the resolution
    kept = dict(zip(curve["time"], curve["survival"], strict=True))
    drawn, worst = 1.0, 0.0
    for s in steps:
        drawn = kept.get(s["time"], drawn)
        worst = max(worst, abs(drawn - s["survival"]))
    assert worst <= analysis_payload.CURVE_RESOLUTION + 1e-4
    # censorings are summed, never lost
    assert len(marks["time"]) <= analysis_payload.CENSOR_MARKS
    assert sum(marks["count"]) == sum(s["censored"] for s in steps)


def test_the_band_runs_on_to_the_last_time_its_ci_exists():
    # the last patient's event takes S(t) to 0, where the CI is not defined: the band
    # ends at the censoring before it (day 5), as the full curve draws it
    steps = kaplan_meier([1, 3, 5, 9], [1, 0, 0, 1]).to_dict()["steps"]
    assert steps[-1]["ci_lower"] is None and steps[-2]["ci_lower"] is not None
    curve = analysis_payload.compress_curve(steps)["curve"]
    assert curve["time"] == [1, 5, 9]
    assert curve["ci_lower"][1] == round(steps[-2]["ci_lower"], 4)
