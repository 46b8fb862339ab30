"""Dashboard benchmark (``make bench``).

Seeds a large trial into a SEPARATE, throw-away database (SQLite: a temporary file;
PostgreSQL when ``DATABASE_URL`` points at one: a database ``bench_hbtrials`` on the same
server, created and dropped by this script), then measures:

- the time to compute the trial statistics, cold (after ``statistics_invalidate``, the
  same invalidation an assessment change triggers) and warm (from the cache);
- the time and number of SQL queries to serve the dashboard page and its data.json to the
  lead investigator (Django test client), cold and warm;
- the same for waterfall.json and swimmer.json (the per-patient rows, binned or cut above
  2,000 patients) and a trivial authenticated page (the API tokens page);
- the same for a trial with a tenth of the patients, to show that the number of queries
  does not grow with the number of patients;
- goals: ``dashboard_payload_kb``, the page plus its three JSON documents (gzipped, as
  served) against 300 KB, and ``dashboard_warm_vs_get``, the median warm page against
  the median trivial authenticated GET (<= 3x);
- optionally the data-cut round trip (``export_datacut`` then ``analyze_datacut``).

Usage:  python bench/bench_dashboard.py [--patients 10000] [--sites 20] [--followups 9]
                                        [--skip-datacut] [--keep]

Each patient gets a baseline and ``--followups`` follow-up scans (default 9, so 10,000
patients have 100,000 assessments) with two target lesions measured at each, and a stored
outcome computed by the real engine (``domain.analysis.patient_outcome``) from the
same data-cut record the application builds.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import common  # bench/common.py (this folder is on sys.path when run as a script)
from ratios import Goals, median_seconds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("BENCH_DB_NAME", "bench_hbtrials")
INTERVAL = 42  # days between scans (imaging every 6 weeks)
CHUNK = 1000  # patients per bulk_create round
#: The dashboard page and its data (data.json, waterfall.json, swimmer.json; gzipped as
#: served), whatever the number of patients (issue #17, item 2).
PAYLOAD_GOAL_KB = 300


# --- a separate database -----------------------------------------------------------------


def prepare_database() -> tuple[str, Callable[[], None], str]:
    return common.prepare_database(BENCH_DB)


# --- seeding ------------------------------------------------------------------------------


class Seeder:
    """Benchmark data only: written with ``bulk_create`` (no history rows, no services),
    which the application itself never does for clinical records."""

    def __init__(self, *, sites: int, followups: int, seed: int) -> None:
        from django.utils import timezone

        from domain.analysis import response_settings

        self.n_sites = sites
        self.followups = followups
        self.rng = random.Random(seed)
        self.today = timezone.localdate()
        self.start = self.today - datetime.timedelta(days=4 * 365)
        self.settings = response_settings(
            {"response_criteria": "recist11", "confirmation_required": True}
        )
        self.counts = {"assessments": 0, "measurements": 0}

    def sites(self) -> list[Any]:
        from sites.models import Site

        return Site.objects.bulk_create(
            [
                Site(
                    code=f"B{i + 1:02d}",
                    name=f"Benchmark hospital {i + 1}",
                    city="Shanghai",
                    clinic_weekdays=[0, 2],
                )
                for i in range(self.n_sites)
            ]
        )

    def trial(self, code: str, sites: list[Any], patients: int) -> tuple[Any, list[Any], list[Any]]:
        from sites.models import TrialSite
        from trials.models import Arm, Trial

        trial = Trial.objects.create(
            protocol_code=code,
            title=f"Benchmark trial {code}",
            phase=Trial.Phase.PHASE2,
            design=Trial.Design.RANDOMIZED,
            status=Trial.Status.RECRUITING,
            planned_followup_months=24,
        )
        arms = [
            Arm.objects.create(trial=trial, code="A", name="Cryoablation + lenvatinib + PD-1"),
            Arm.objects.create(trial=trial, code="B", name="Lenvatinib + PD-1", is_control=True),
        ]
        target = max(1, round(patients * 1.1 / len(sites)))
        trial_sites = TrialSite.objects.bulk_create(
            [
                TrialSite(
                    trial=trial,
                    site=site,
                    status=TrialSite.Status.ACTIVE,
                    ethics_approval_ref="EC-BENCH",
                    activation_date=self.start,
                    enrollment_target=target,
                )
                for site in sites
            ]
        )
        return trial, arms, trial_sites

    def _trajectory(self) -> tuple[list[float], str]:
        """Relative size of the target lesions at each follow-up, and the kind."""
        rng, n = self.rng, self.followups
        kind = rng.choices(["responder", "stable", "progressor"], [0.35, 0.4, 0.25])[0]
        if kind == "responder":
            depth = rng.uniform(0.35, 0.68)
            sizes = [max(depth, 1 - (1 - depth) * (k + 1) / 2) for k in range(n)]
            if rng.random() < 0.5:  # later progression
                at = rng.randrange(3, n) if n > 3 else n - 1
                for k in range(at, n):
                    sizes[k] = depth * (1.3 + 0.1 * (k - at))
        elif kind == "stable":
            level = 1.0
            sizes = []
            for _ in range(n):
                level = min(1.15, max(0.75, level + rng.uniform(-0.06, 0.06)))
                sizes.append(level)
        else:
            at = rng.randrange(0, min(3, n))
            sizes = [
                1.0 + rng.uniform(-0.05, 0.1) if k < at else 1.25 + 0.12 * (k - at)
                for k in range(n)
            ]
        return sizes, kind

    def patients(self, trial: Any, arms: list[Any], trial_sites: list[Any], count: int) -> None:
        for first in range(0, count, CHUNK):
            self._chunk(trial, arms, trial_sites, range(first, min(count, first + CHUNK)))

    def _chunk(self, trial: Any, arms: list[Any], trial_sites: list[Any], indexes: range) -> None:
        from domain.analysis import patient_outcome
        from patients.models import (
            Enrollment,
            Lesion,
            LesionMeasurement,
            Patient,
            ResponseSummary,
            TumorAssessment,
        )

        rng = self.rng
        plans = []
        for i in indexes:
            ts = trial_sites[i % len(trial_sites)]
            seq = i // len(trial_sites) + 1
            enrolled = self.start + datetime.timedelta(days=rng.randrange(0, 900))
            day0 = enrolled + datetime.timedelta(days=rng.randrange(1, 8))
            sizes, kind = self._trajectory()
            scans = [
                day0 + datetime.timedelta(days=INTERVAL * (k + 1) + rng.randrange(-3, 4))
                for k in range(self.followups)
            ]
            last = scans[-1] if scans else day0
            death = None
            if rng.random() < {"progressor": 0.6, "stable": 0.25, "responder": 0.1}[kind]:
                death = min(self.today, last + datetime.timedelta(days=rng.randrange(20, 400)))
            plans.append(
                {
                    "ts": ts,
                    "seq": seq,
                    "subject_id": f"{trial.protocol_code}-{ts.site.code}-{seq:05d}",
                    "arm": arms[rng.randrange(2)],
                    "enrolled": enrolled,
                    "day0": day0,
                    "sizes": sizes,
                    "scans": scans,
                    "death": death,
                    "alive": None if death else min(self.today, last + datetime.timedelta(days=30)),
                    "lesions": [
                        ("T1", "liver", rng.uniform(25, 90)),
                        ("T2", "lung", rng.uniform(12, 40)),
                    ],
                }
            )
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    trial_site=p["ts"],
                    subject_seq=p["seq"],
                    subject_id=p["subject_id"],
                    status=Patient.Status.DIED if p["death"] else Patient.Status.ON_STUDY,
                    full_name=f"Benchmark {p['subject_id']}",
                    id_document_type="passport",
                    id_document_number=f"E{p['seq']:08d}",
                    id_document_hash=p["subject_id"],
                    sex="M",
                    birth_date=datetime.date(1960, 1, 1),
                    nationality="CN",
                    death_date=p["death"],
                    last_known_alive_date=p["alive"],
                )
                for p in plans
            ]
        )
        offset = indexes.start
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    patient=patient,
                    trial=trial,
                    arm=p["arm"],
                    enrolled_on=p["enrolled"],
                    first_treatment_date=p["day0"],
                    randomization_number=f"R{offset + n:06d}",
                    allocation_index=offset + n,
                )
                for n, (patient, p) in enumerate(zip(patients, plans, strict=True))
            ]
        )
        lesions = Lesion.objects.bulk_create(
            [
                Lesion(
                    patient=patient, code=code, organ=organ, baseline_mm=round(mm, 1), target=True
                )
                for patient, p in zip(patients, plans, strict=True)
                for code, organ, mm in p["lesions"]
            ]
        )
        assessments = TumorAssessment.objects.bulk_create(
            [
                TumorAssessment(
                    patient=patient,
                    is_baseline=k == 0,
                    assessment_date=p["day0"] - datetime.timedelta(days=5)
                    if k == 0
                    else p["scans"][k - 1],
                    method="CT",
                    non_target_status="NONE",
                )
                for patient, p in zip(patients, plans, strict=True)
                for k in range(self.followups + 1)
            ],
            batch_size=2000,
        )
        measurements = []
        records = []
        a_iter = iter(assessments)
        l_iter = iter(lesions)
        for patient, p in zip(patients, plans, strict=True):
            own_lesions = [next(l_iter) for _ in p["lesions"]]
            own_scans = [next(a_iter) for _ in range(self.followups + 1)]
            record_assessments = [
                {
                    "date": own_scans[0].assessment_date.isoformat(),
                    "baseline": True,
                    "method": "CT",
                    "non_target": "NONE",
                    "new_lesions": "none",
                    "measurements": [],
                }
            ]
            for k, scan in enumerate(own_scans[1:]):
                rows = []
                for lesion in own_lesions:
                    mm = round(
                        min(
                            499.0, lesion.baseline_mm * p["sizes"][k] * self.rng.uniform(0.97, 1.03)
                        ),
                        1,
                    )
                    measurements.append(
                        LesionMeasurement(assessment=scan, lesion=lesion, diameter_mm=mm)
                    )
                    rows.append(
                        {
                            "lesion_id": lesion.code,
                            "diameter_mm": mm,
                            "state": "measured",
                            "merged_into": None,
                        }
                    )
                record_assessments.append(
                    {
                        "date": scan.assessment_date.isoformat(),
                        "baseline": False,
                        "method": "CT",
                        "non_target": "NONE",
                        "new_lesions": "none",
                        "new_lesions_increased": False,
                        "nontarget_increased": False,
                        "recorded_response": None,
                        "measurements": rows,
                    }
                )
            records.append(
                {
                    "subject_id": patient.subject_id,
                    "site": p["ts"].site.code,
                    "arm": p["arm"].code,
                    "enrolled_on": p["enrolled"].isoformat(),
                    "first_treatment_date": p["day0"].isoformat(),
                    "death_date": p["death"].isoformat() if p["death"] else None,
                    "last_known_alive_date": p["alive"].isoformat() if p["alive"] else None,
                    "lesions": [
                        {
                            "lesion_id": les.code,
                            "organ": les.organ,
                            "nodal": False,
                            "target": True,
                            "ablated": False,
                            "ablated_on_study": False,
                            "baseline_mm": les.baseline_mm,
                        }
                        for les in own_lesions
                    ],
                    "assessments": record_assessments,
                }
            )
        LesionMeasurement.objects.bulk_create(measurements, batch_size=4000)
        summaries = []
        for patient, record in zip(patients, records, strict=True):
            outcome = patient_outcome(record, self.settings, self.today)
            summaries.append(
                ResponseSummary(
                    patient=patient,
                    outcome=outcome,
                    bor=outcome["bor"],
                    best_change_pct=outcome["best_change_pct"],
                    evaluable=outcome["evaluable"],
                )
            )
        ResponseSummary.objects.bulk_create(summaries, batch_size=2000)
        self.counts["assessments"] += len(assessments)
        self.counts["measurements"] += len(measurements)


# --- measuring ---------------------------------------------------------------------------


@contextmanager
def measured() -> Iterator[dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    result: dict[str, Any] = {}
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        yield result
        result["seconds"] = time.perf_counter() - start
    result["queries"] = len(ctx.captured_queries)


def lean_statistics(trial: Any) -> dict[str, Any]:
    """The lean baseline of ``statistics_cold_vs_lean``: a raw read (cursor, no model,
    no dict) of only the fields the headline figures use, then the bare closed-form
    computation on arrays: per arm and overall the ORR and DCR with Clopper-Pearson
    limits (beta quantiles) and Kaplan-Meier PFS and OS with Greenwood variance."""
    import numpy as np
    from django.db import connection
    from django.db.models import FloatField, TextField
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Cast
    from scipy import special

    from patients.models import ResponseSummary

    fields = {
        "arm": TextField,
        "bor": TextField,
        "pfs_days": FloatField,
        "os_days": FloatField,
        "pfs_event": TextField,
        "os_event": TextField,
    }
    qs = (
        ResponseSummary.objects.filter(
            patient__trial_site__trial_id=trial.pk, patient__enrollment__isnull=False
        )
        .annotate(
            **{f"x_{k}": Cast(KeyTextTransform(k, "outcome"), f()) for k, f in fields.items()}
        )
        .values_list(*(f"x_{k}" for k in fields))
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    arm = np.array([r[0] for r in rows])
    bor = np.array([r[1] for r in rows])
    truthy = {"true", "1", 1}

    def cp(k: int, n: int) -> tuple[float, float]:
        low = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, 0.025))
        high = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 0.975))
        return low, high

    def km(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        times, inverse = np.unique(t, return_inverse=True)
        d = np.bincount(inverse, weights=e, minlength=times.size)
        total = np.bincount(inverse, minlength=times.size)
        at_risk = t.size - np.concatenate(([0], np.cumsum(total)[:-1]))
        with np.errstate(divide="ignore", invalid="ignore"):
            survival = np.cumprod(1.0 - d / at_risk)
            var = np.cumsum(np.where(d > 0, d / (at_risk * (at_risk - d)), 0.0))
        return survival, var

    out: dict[str, Any] = {}
    for name, mask in [("all", np.ones(arm.size, dtype=bool))] + [
        (code, arm == code) for code in sorted(set(arm.tolist()))
    ]:
        n = int(mask.sum())
        responders = int(np.isin(bor[mask], ("CR", "PR")).sum())
        controlled = int(np.isin(bor[mask], ("CR", "PR", "SD", "NON-CR/NON-PD")).sum())
        block: dict[str, Any] = {"orr": cp(responders, n), "dcr": cp(controlled, n)}
        for kind, ti, ei in (("pfs", 2, 4), ("os", 3, 5)):
            t = np.array([r[ti] for r, m in zip(rows, mask, strict=True) if m], dtype=float)
            e = np.array(
                [r[ei] in truthy for r, m in zip(rows, mask, strict=True) if m], dtype=float
            )
            block[kind] = km(t, e)
        out[name] = block
    return out


def measure_trial(trial: Any, lead: Any) -> dict[str, dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from analysis.selectors import trial_statistics_for
    from patients.services.response import statistics_invalidate

    out: dict[str, dict[str, Any]] = {}
    user_model = get_user_model()

    lean_statistics(trial)  # the same warm database buffers for both figures
    statistics_invalidate(trial_id=trial.pk)
    user = user_model.objects.get(pk=lead.pk)
    with measured() as m:
        stats = trial_statistics_for(trial=trial, user=user)
    out["statistics, cold (no cache)"] = m
    with measured() as m:
        lean_statistics(trial)
    out["lean baseline (raw read + closed form)"] = m
    user = user_model.objects.get(pk=lead.pk)
    with measured() as m:
        trial_statistics_for(trial=trial, user=user, part="summary")
    out["statistics, warm (summary)"] = m  # what the page and data.json read
    user = user_model.objects.get(pk=lead.pk)
    with measured() as m:
        trial_statistics_for(trial=trial, user=user)
    out["statistics, warm (full)"] = m  # the API and CSV: summary, rows, joined

    client = Client()
    client.force_login(lead)
    page = reverse("trials:dashboard", args=[trial.pk])
    data = reverse("trials:dashboard_data", args=[trial.pk])
    gzip = {"accept-encoding": "gzip"}
    trivial = reverse("api-tokens")  # a trivial authenticated page (as bench_writes)
    statistics_invalidate(trial_id=trial.pk)
    for label, url, headers in (
        ("dashboard page, cold", page, {}),
        ("dashboard page, warm", page, {}),
        ("data.json, warm", data, {}),
        ("data.json, warm, gzip", data, gzip),
        (
            "waterfall.json, warm, gzip",
            reverse("trials:dashboard_waterfall", args=[trial.pk]),
            gzip,
        ),
        ("swimmer.json, warm, gzip", reverse("trials:dashboard_swimmer", args=[trial.pk]), gzip),
        ("trivial GET (API tokens page)", trivial, {}),
    ):
        with measured() as m:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        m["bytes"] = len(response.content)
        out[label] = m
    # What a browser downloads for the dashboard: the page (never compressed: it holds
    # the CSRF token) and its three JSON documents, gzipped.
    payload = sum(
        out[label]["bytes"]
        for label in (
            "dashboard page, warm",
            "data.json, warm, gzip",
            "waterfall.json, warm, gzip",
            "swimmer.json, warm, gzip",
        )
    )
    out["_timing"] = {
        "page_warm": median_seconds(lambda: client.get(page), repeat=9),
        "trivial_get": median_seconds(lambda: client.get(trivial), repeat=9),
        "payload_bytes": payload,
    }
    out["_stats"] = {"enrolled": stats["overall"]["rates"]["enrolled"], "stats": stats}
    return out


def datacut_round_trip(trial: Any, stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    import io

    from django.core.management import call_command

    out: dict[str, dict[str, Any]] = {}
    directory = tempfile.mkdtemp(prefix="hbtrials-bench-cut-")
    path = Path(directory) / "cut.json"
    try:
        with measured() as m:
            call_command(
                "export_datacut", trial.protocol_code, "--out", str(path), stdout=io.StringIO()
            )
        m["bytes"] = path.stat().st_size
        out["export_datacut"] = m
        buffer = io.StringIO()
        with measured() as m:
            call_command("analyze_datacut", str(path), stdout=buffer)
        out["analyze_datacut"] = m
        analysed = json.loads(buffer.getvalue())
        same = all(
            analysed[k] == stats[k]
            for k in ("overall", "by_arm", "by_site", "comparisons", "waterfall")
        )
        out["analyze_datacut"]["note"] = (
            "same numbers as the dashboard" if same else "DIFFERENT numbers"
        )
        out["_same"] = {"same": same}
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return out


def cells(m: dict[str, Any] | None) -> str:
    if not m:
        return f"{'-':>10} {'':>7} {'':>9}"
    seconds = m["seconds"]
    took = f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"
    size = f"{m['bytes'] / 1024:.0f} KiB" if "bytes" in m else ""
    return f"{took:>10} {m['queries']:>7} {size:>9}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--followups", type=int, default=9, help="follow-up scans per patient")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--skip-datacut", action="store_true", help="skip export/analyze timing")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--seed-only", action="store_true", help="seed (with --keep) and measure nothing"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure a database kept by an earlier --keep run (same --patients), no seeding",
    )
    args = parser.parse_args()
    if args.patients < 10 or not 1 <= args.sites <= 99 or args.followups < 1:
        parser.error("need --patients >= 10, --sites 1..99 and --followups >= 1")

    if args.reuse:
        url, cleanup, label = common.existing_database(BENCH_DB)
    else:
        url, cleanup, label = prepare_database()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("TESTING", "1")  # development defaults for secrets: a throw-away run
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import warnings

    import django

    # whitenoise warns that collectstatic has not run; irrelevant here.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test.utils import setup_test_environment

    from sites.models import Membership
    from sites.roles import Role

    setup_test_environment()  # the test client's host name, in-memory email
    try:
        t0 = time.perf_counter()
        common.create_schema()
        migrate_s = time.perf_counter() - t0
        small_n = max(1, args.patients // 10)
        if args.reuse:
            from trials.models import Trial

            big, small = (
                Trial.objects.get(protocol_code="BENCH"),
                Trial.objects.get(protocol_code="BENCHS"),
            )
            lead = get_user_model().objects.get(username="bench_lead")
            print(f"Database: {label} (reused, seeded earlier)")
        else:
            seeder = Seeder(sites=args.sites, followups=args.followups, seed=args.seed)
            t0 = time.perf_counter()
            sites = seeder.sites()
            big, big_arms, big_sites = seeder.trial("BENCH", sites, args.patients)
            seeder.patients(big, big_arms, big_sites, args.patients)
            seed_s = time.perf_counter() - t0
            big_counts = dict(seeder.counts)
            small, small_arms, small_sites = seeder.trial("BENCHS", sites, small_n)
            seeder.patients(small, small_arms, small_sites, small_n)
            lead = get_user_model().objects.create_user("bench_lead")  # force_login only
            for trial in (big, small):
                Membership.objects.create(user=lead, role=Role.LEAD_INVESTIGATOR, trial=trial)

            print(f"Database: {label}; schema {migrate_s:.1f} s")
            print(
                f"Seeded trial BENCH: {args.sites} sites, {args.patients:,} patients, "
                f"{big_counts['assessments']:,} assessments, {big_counts['measurements']:,} "
                f"lesion measurements, outcomes by the real engine, in {seed_s:.1f} s "
                f"(and trial BENCHS with {small_n:,} patients)",
                flush=True,
            )
            if args.seed_only:
                return 0
        check = outcome_check(big)
        print(f"Stored outcomes equal a fresh response_recompute for {check}")

        results = {args.patients: measure_trial(big, lead), small_n: measure_trial(small, lead)}
        if not args.skip_datacut:
            results[args.patients].update(
                datacut_round_trip(big, results[args.patients]["_stats"]["stats"])
            )
        rows = [k for k in results[args.patients] if not k.startswith("_")]
        head = f"{'time':>10} {'queries':>7} {'size':>9}"
        print()
        print(f"{'':30} | {f'{args.patients:,} patients':^28} | {f'{small_n:,} patients':^28}")
        print(f"{'':30} | {head} | {head}")
        print("-" * 30 + "-+-" + "-" * 28 + "-+-" + "-" * 28)
        for row in rows:
            big_cells = cells(results[args.patients].get(row))
            small_cells = cells(results[small_n].get(row))
            print(f"{row:30} | {big_cells} | {small_cells}")
        same_queries = all(
            results[args.patients][r]["queries"] == results[small_n][r]["queries"]
            for r in rows
            if r in results[small_n]
        )
        print()
        print(
            "SQL queries per page independent of the number of patients: "
            + ("yes" if same_queries else "NO")
        )
        if "analyze_datacut" in results[args.patients]:
            print(f"Data cut round trip: {results[args.patients]['analyze_datacut']['note']}")
        ok = same_queries and results[args.patients].get("_same", {"same": True})["same"]
        goals = Goals()
        print()
        cold, lean = (
            results[small_n]["statistics, cold (no cache)"]["seconds"],
            results[small_n]["lean baseline (raw read + closed form)"]["seconds"],
        )
        print(
            f"statistics_cold_vs_lean at {small_n:,} patients (trend, not a goal): "
            f"{cold * 1000:.2f} ms, {lean * 1000:.2f} ms, {cold / lean:.2f}x"
        )
        timing = results[args.patients]["_timing"]
        goals.ratio(
            "dashboard_payload_kb",
            timing["payload_bytes"] / 1024,
            PAYLOAD_GOAL_KB,
            limit=1,
            unit="KB",
        )
        goals.ratio("dashboard_warm_vs_get", timing["page_warm"], timing["trivial_get"], limit=3)
        goals.ratio(
            "statistics_cold_vs_lean",
            results[args.patients]["statistics, cold (no cache)"]["seconds"],
            results[args.patients]["lean baseline (raw read + closed form)"]["seconds"],
            limit=2,
        )
        return 0 if ok and not goals.failed() else 1
    finally:
        if args.keep or args.reuse:
            print(f"Kept the benchmark database: {url}")
        else:
            cleanup()


def outcome_check(trial: Any, sample: int = 20) -> str:
    """A sample of stored outcomes must equal what ``response_recompute`` would store."""
    from django.utils import timezone

    from domain.analysis import patient_outcome, response_settings
    from patients.datacut import enrolled_patients, patient_record
    from patients.models import ResponseSummary

    settings = response_settings(
        {
            "response_criteria": "recist11",
            "confirmation_required": trial.confirmation_required,
            "confirmation_min_days": trial.confirmation_min_days,
            "min_sd_days": trial.min_sd_days,
        }
    )
    patients = list(enrolled_patients(trial)[:sample])
    stored = dict(
        ResponseSummary.objects.filter(patient__in=patients).values_list("patient_id", "outcome")
    )
    same = sum(
        1
        for p in patients
        if patient_outcome(patient_record(p), settings, timezone.localdate()) == stored[p.pk]
    )
    if same != len(patients):
        raise SystemExit(
            f"stored outcomes differ from the engine for {len(patients) - same} patients"
        )
    return f"{same}/{len(patients)} sampled patients"


if __name__ == "__main__":
    sys.exit(main())
