"""Export benchmark: throughput and peak memory of the CSV bundle and the ODM export.

Seeds two trials into a SEPARATE, throw-away database (SQLite: a temporary file;
PostgreSQL when ``DATABASE_URL`` points at one: a database ``bench_exports`` on the same
server, created and dropped by this script): one with ``--patients`` patients (default
5,000) and one with a tenth of them. Each patient has a screening, a consent, an
enrollment, 12 visits (the past ones submitted: a second history row with a reason),
3 adverse events with causality for 3 treatments, ~10 tumour assessments (a baseline
and 9 follow-ups) with 3 lesions measured at each, and a response summary; every record
has its history rows, so the ODM file carries a realistic audit trail.

Then it runs each export of each trial in a fresh process (so the process's maximum
resident set size belongs to that export alone) and prints rows/s, file size, the peak
Python heap during the export (``tracemalloc``, measured in a second run because tracing
slows Python down) and the peak resident set size of the process during the export
(``VmHWM`` after resetting it; ``resource.getrusage`` elsewhere). Memory that stays
the same for 10x the patients is what "streaming" means: the goal lines compare the
peak RSS of each export for 10x the patients with the smaller trial's (ODM goal: at
most +10%, i.e. a ratio <= 1.10).

Usage:  python bench/bench_exports.py [--patients 5000] [--sites 20] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import common  # bench/common.py (this folder is on sys.path when run as a script)
from ratios import Goals

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DB = "bench_exports"
CHUNK = 250  # patients per bulk_create round
VISITS = 12
AES = 3
FOLLOWUPS = 9
LESIONS = 3


# --- a separate database -----------------------------------------------------------------


def prepare_database() -> tuple[str, Callable[[], None], str]:
    return common.prepare_database(BENCH_DB)


def setup_django(url: str, media: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["MEDIA_ROOT"] = media
    os.environ.setdefault("TESTING", "1")  # development defaults for secrets: a throw-away run
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()


# --- seeding -------------------------------------------------------------------------------


class Seeder:
    """Benchmark data only: rows and their history rows are written with ``bulk_create``
    (and ``bulk_history_create``), which the application never does for clinical data."""

    def __init__(self, *, sites: int, seed: int) -> None:
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        self.rng = random.Random(seed)
        self.n_sites = sites
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.start = self.today - datetime.timedelta(days=3 * 365)
        user_model = get_user_model()
        self.crc = user_model.objects.create_user("bench_crc", password="bench-password-123")  # noqa: S106
        self.counts: dict[str, int] = {}

    def sites(self) -> list[Any]:
        from sites.models import Site

        return Site.objects.bulk_create(
            [
                Site(code=f"X{i + 1:02d}", name=f"Export hospital {i + 1}", city="Wuhan")
                for i in range(self.n_sites)
            ]
        )

    def trial(self, code: str, sites: list[Any]) -> dict[str, Any]:
        from sites.models import TrialSite
        from trials.models import (
            Arm,
            ConsentVersion,
            Intervention,
            ProtocolVersion,
            Trial,
            VisitDefinition,
        )

        trial = Trial.objects.create(
            protocol_code=code,
            title=f"Export benchmark trial {code}",
            phase=Trial.Phase.PHASE2,
            design=Trial.Design.RANDOMIZED,
            status=Trial.Status.RECRUITING,
            planned_followup_months=24,
        )
        arms = [
            Arm.objects.create(trial=trial, code="A", name="Cryoablation + lenvatinib + PD-1"),
            Arm.objects.create(trial=trial, code="B", name="Lenvatinib + PD-1", is_control=True),
        ]
        interventions = []
        for kind, name in (
            ("procedure", "Cryoablation"),
            ("drug", "Lenvatinib"),
            ("biological", "Toripalimab"),
        ):
            iv = Intervention.objects.create(trial=trial, kind=kind, name=name)
            iv.arms.set(arms if name != "Cryoablation" else arms[:1])
            interventions.append(iv)
        definitions = [
            VisitDefinition.objects.create(
                trial=trial,
                code="D0" if k == 0 else f"W{3 * k}",
                name="Baseline" if k == 0 else f"Week {3 * k}",
                day_offset=21 * k,
                tumor_assessment=k % 2 == 0,
                order=k,
            )
            for k in range(VISITS)
        ]
        protocol = ProtocolVersion.objects.create(
            trial=trial, version="1.0", effective_date=self.start
        )
        consent = ConsentVersion.objects.create(
            trial=trial,
            version="1.0",
            language="zh",
            ethics_approval_ref="EC-BENCH",
            approved_on=self.start,
            effective_from=self.start,
        )
        trial_sites = TrialSite.objects.bulk_create(
            [
                TrialSite(
                    trial=trial,
                    site=site,
                    status=TrialSite.Status.ACTIVE,
                    ethics_approval_ref="EC-BENCH",
                    activation_date=self.start,
                )
                for site in sites
            ]
        )
        return {
            "trial": trial,
            "arms": arms,
            "interventions": interventions,
            "definitions": definitions,
            "protocol": protocol,
            "consent": consent,
            "trial_sites": trial_sites,
        }

    def _at(self, day: datetime.date) -> datetime.datetime:
        moment = datetime.datetime.combine(day, datetime.time(9, 0), tzinfo=datetime.UTC)
        return min(moment, self.now) + datetime.timedelta(seconds=self.rng.randrange(0, 28800))

    def _create(self, model: Any, objs: list[Any], reason: str) -> list[Any]:
        """Rows, then their "+" history rows dated by ``_history_date``."""
        model.objects.bulk_create(objs, batch_size=1000)
        model.history.bulk_history_create(
            objs,
            batch_size=1000,
            default_change_reason=reason,
            custom_historical_attrs={"history_username": "bench_crc", "history_origin": "web"},
        )
        self.counts[model.__name__] = self.counts.get(model.__name__, 0) + len(objs)
        return objs

    def _update(self, model: Any, objs: list[Any], fields: list[str], reason: str) -> None:
        """A later edit of ``fields`` with a reason: one "~" history row each."""
        if not objs:
            return
        model.objects.bulk_update(objs, fields, batch_size=1000)
        model.history.bulk_history_create(
            objs,
            batch_size=1000,
            update=True,
            default_change_reason=reason,
            custom_historical_attrs={"history_username": "bench_crc", "history_origin": "web"},
        )

    def patients(self, setup: dict[str, Any], count: int) -> None:
        for first in range(0, count, CHUNK):
            self._chunk(setup, range(first, min(count, first + CHUNK)))

    def _chunk(self, setup: dict[str, Any], indexes: range) -> None:  # noqa: C901, PLR0915
        from patients.identity import document_hash
        from patients.models import (
            AdverseEvent,
            AdverseEventCausality,
            Consent,
            Enrollment,
            Lesion,
            LesionMeasurement,
            Patient,
            ResponseSummary,
            Screening,
            TumorAssessment,
            Visit,
        )

        rng, day = self.rng, datetime.timedelta(days=1)
        trial, trial_sites = setup["trial"], setup["trial_sites"]
        code = trial.protocol_code
        patients, dates = [], []
        for i in indexes:
            ts = trial_sites[i % len(trial_sites)]
            seq = i // len(trial_sites) + 1
            enrolled = self.start + day * rng.randrange(0, 600)
            number = f"P{code}{i:07d}"
            p = Patient(
                trial_site=ts,
                subject_seq=seq,
                subject_id=f"{code}-{ts.site.code}-{seq:05d}",
                status=Patient.Status.SCREENING,
                full_name=f"Bench Patient {i}",
                phone=f"139{i:08d}",
                id_document_type="passport",
                id_document_number=number,
                id_document_hash=document_hash("passport", number),
                sex=rng.choice("FM"),
                birth_date=datetime.date(rng.randrange(1940, 1985), rng.randrange(1, 13), 1),
                nationality=rng.choice(["CN", "CN", "CN", "KR", "US", "RU"]),
                preferred_language="zh",
                registered_by_username="bench_crc",
            )
            p._history_date = self._at(enrolled - 10 * day)
            patients.append(p)
            dates.append(enrolled)
        self._create(Patient, patients, "Registration")
        for p in patients:
            p.status = Patient.Status.ON_STUDY
            p._history_date = p._history_date + 10 * day
        self._update(Patient, patients, ["status"], "Enrolled")

        screenings, consents, enrollments = [], [], []
        for n, (p, enrolled) in enumerate(zip(patients, dates, strict=True)):
            s = Screening(
                patient=p,
                protocol_version=setup["protocol"],
                screening_date=enrolled - 7 * day,
                data={
                    "ecog": rng.randrange(0, 2),
                    "bilirubin_uln": round(rng.uniform(0.3, 1.4), 2),
                },
                result="eligible",
                screened_by_username="bench_crc",
            )
            s._history_date = self._at(enrolled - 7 * day)
            screenings.append(s)
            c = Consent(
                patient=p,
                consent_version=setup["consent"],
                language="zh",
                consented_at=self._at(enrolled - 5 * day),
                personal_information_consent=True,
                obtained_by_username="bench_crc",
            )
            c._history_date = c.consented_at
            consents.append(c)
            e = Enrollment(
                patient=p,
                trial=trial,
                arm=setup["arms"][n % 2],
                enrolled_on=enrolled,
                first_treatment_date=enrolled + 2 * day,
                randomization_number=f"R{indexes.start + n:07d}",
                stratum="all",
                allocation_index=indexes.start + n,
                enrolled_by_username="bench_crc",
            )
            e._history_date = self._at(enrolled)
            enrollments.append(e)
        self._create(Screening, screenings, "Screening")
        self._create(Consent, consents, "Consent")
        self._create(Enrollment, enrollments, "Enrollment")

        visits, submitted = [], []
        for p, enrolled in zip(patients, dates, strict=True):
            for d in setup["definitions"]:
                when = enrolled + d.day_offset * day
                v = Visit(
                    patient=p,
                    definition=d,
                    target_date=when,
                    window_start=when - 3 * day,
                    window_end=when + 3 * day,
                    scheduled_date=when,
                )
                v._history_date = self._at(enrolled)
                visits.append(v)
        self._create(Visit, visits, "Visit schedule generated")
        for v in visits:
            if v.scheduled_date <= self.today:
                v.status = Visit.Status.COMPLETED
                v.actual_date = v.scheduled_date
                v.vital_status = "alive"
                v.ecog = rng.randrange(0, 3)
                v.ae_review_done = True
                v.notes = rng.choice(["", "Well.", "Mild fatigue.", "Reports itching."])
                v.submitted_at = self._at(v.scheduled_date)
                v.submitted_by_username = "bench_crc"
                v._history_date = v.submitted_at
                submitted.append(v)
        self._update(
            Visit,
            submitted,
            [
                "status",
                "actual_date",
                "vital_status",
                "ecog",
                "ae_review_done",
                "notes",
                "submitted_at",
                "submitted_by_username",
            ],
            "Visit submitted",
        )

        aes, causality, regraded = [], [], []
        terms = [
            "Hypertension",
            "Fatigue",
            "Diarrhoea",
            "Hand-foot skin reaction",
            "Hypothyroidism",
        ]
        for p, enrolled in zip(patients, dates, strict=True):
            for _k in range(AES):
                onset = enrolled + day * rng.randrange(5, 300)
                a = AdverseEvent(
                    patient=p,
                    term=rng.choice(terms),
                    grade=rng.randrange(1, 4),
                    onset_date=onset,
                    outcome="recovering",
                    action_taken="none",
                    recorded_by_username="bench_crc",
                )
                a._history_date = self._at(onset)
                aes.append(a)
        self._create(AdverseEvent, aes, "Adverse event recorded")
        for a in aes:
            for iv in setup["interventions"]:
                c = AdverseEventCausality(
                    adverse_event=a,
                    intervention=iv,
                    relatedness=rng.choice(["not_related", "possible", "probable"]),
                )
                c._history_date = a._history_date
                causality.append(c)
            if rng.random() < 0.3:  # a correction with a reason
                a.grade = min(5, a.grade + 1)
                a._history_date = a._history_date + 2 * day
                regraded.append(a)
        self._create(AdverseEventCausality, causality, "Adverse event recorded")
        self._update(
            AdverseEvent, regraded, ["grade"], "Grade corrected after source data verification"
        )

        assessments, lesions, measurements, summaries = [], [], [], []
        for p, enrolled in zip(patients, dates, strict=True):
            for k in range(FOLLOWUPS + 1):
                when = enrolled + day * (42 * k)
                t = TumorAssessment(
                    patient=p,
                    is_baseline=k == 0,
                    assessment_date=when,
                    method="CT",
                    non_target_status="" if k == 0 else "NON_CR_NON_PD",
                    entered_by_username="bench_crc",
                )
                t._history_date = self._at(when)
                assessments.append(t)
            for j in range(LESIONS):
                les = Lesion(
                    patient=p,
                    code=f"T{j + 1}",
                    organ="liver",
                    location=f"segment {j + 2}",
                    baseline_mm=round(rng.uniform(15, 60), 1),
                )
                les._history_date = self._at(enrolled)
                lesions.append(les)
            s = ResponseSummary(
                patient=p,
                bor=rng.choice(["PR", "SD", "PD"]),
                best_change_pct=round(rng.uniform(-60, 30), 1),
                evaluable=True,
                outcome={"bor": "SD"},
            )
            s._history_date = self._at(enrolled)
            summaries.append(s)
        self._create(TumorAssessment, assessments, "Tumour assessment")
        self._create(Lesion, lesions, "Baseline tumour assessment")
        self._create(ResponseSummary, summaries, "Response computed")
        by_patient: dict[int, list[Any]] = {}
        for les in lesions:
            by_patient.setdefault(les.patient_id, []).append(les)
        for t in assessments:
            if t.is_baseline:
                continue
            for les in by_patient[t.patient_id]:
                m = LesionMeasurement(
                    assessment=t,
                    lesion=les,
                    diameter_mm=round(les.baseline_mm * rng.uniform(0.5, 1.3), 1),
                )
                m._history_date = t._history_date
                measurements.append(m)
        self._create(LesionMeasurement, measurements, "Tumour assessment")


# --- measuring (in a child process per export) ------------------------------------------------


def run_one(trial_code: str, kind: str, trace: bool) -> dict[str, Any]:
    """Run one export in this (fresh) process; returns the measurements."""
    import tracemalloc

    from django.contrib.auth import get_user_model

    from exports.models import ExportJob
    from exports.services import export_run
    from trials.models import Trial

    trial = Trial.objects.get(protocol_code=trial_code)
    user = get_user_model().objects.get(username="bench_dm")
    job = ExportJob.objects.create(
        trial=trial, requested_by=user, requested_by_username=user.username, kind=kind
    )
    rss_before = rss_kb("VmRSS")
    reset_peak_rss()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    job = export_run(job_id=job.pk, progress_every=5000)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return {
        "status": job.status,
        "error": job.error,
        "seconds": seconds,
        "rows": job.rows_done,
        "bytes": job.file_size or 0,
        "trace_peak": peak,
        "rss_before_kb": rss_before,
        "rss_max_kb": rss_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def rss_kb(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process in kB, from /proc (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss() -> None:
    """Start the peak (VmHWM) afresh, so it measures the export and not the imports
    (Linux >= 4.0); elsewhere getrusage's lifetime maximum is reported instead."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def child(url: str, media: str, trial_code: str, kind: str, trace: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--run", trial_code, kind, "--db", url, "--media", media]
    if trace:
        cmd.append("--trace")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: S603
    return json.loads(out.stdout.strip().splitlines()[-1])


def mb(n: float) -> str:
    return f"{n / (1 << 20):,.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--run", nargs=2, metavar=("TRIAL", "KIND"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--media", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.run:  # child process: one export
        setup_django(args.db, args.media)
        print(json.dumps(run_one(args.run[0], args.run[1], args.trace)))
        return 0

    if args.patients < 20 or not 1 <= args.sites <= 99:
        parser.error("need --patients >= 20 and --sites 1..99")
    url, cleanup, label = prepare_database()
    media = tempfile.mkdtemp(prefix="hbtrials-bench-media-")
    setup_django(url, media)
    from django.contrib.auth import get_user_model

    from sites.models import Membership
    from sites.roles import Role

    try:
        common.create_schema()
        small_n = max(1, args.patients // 10)
        seeder = Seeder(sites=args.sites, seed=args.seed)
        t0 = time.perf_counter()
        sites = seeder.sites()
        trials = {}
        for code, n in (("EXPL", args.patients), ("EXPS", small_n)):
            setup = seeder.trial(code, sites)
            seeder.patients(setup, n)
            trials[code] = n
        seed_s = time.perf_counter() - t0
        dm = get_user_model().objects.create_user("bench_dm", password="bench-password-123")  # noqa: S106
        Membership.objects.create(user=dm, role=Role.DATA_MANAGER)
        from django.db import connections

        connections.close_all()
        rows = sum(seeder.counts.values())
        print(f"Database: {label}")
        print(
            f"Seeded {args.patients:,} + {small_n:,} patients at {args.sites} sites: "
            f"{rows:,} records (each with its history) in {seed_s:.0f} s"
        )
        print(
            "Per patient: "
            + ", ".join(
                f"{k} {v / (args.patients + small_n):.0f}" for k, v in seeder.counts.items()
            )
        )
        print()
        head = (
            f"{'export':6} {'patients':>9} {'rows':>10} {'seconds':>8} {'rows/s':>9} "
            f"{'file':>10} {'py peak':>10} {'peak RSS':>10} {'RSS before':>10}"
        )
        print(head)
        print("-" * len(head))
        results = {}
        for kind in ("csv", "odm"):
            for code, n in sorted(trials.items(), key=lambda t: t[1]):
                timed = child(url, media, code, kind, trace=False)
                traced = child(url, media, code, kind, trace=True)
                if timed["status"] != "done" or traced["status"] != "done":
                    print(f"{kind} {code} failed: {timed['error'] or traced['error']}")
                    return 1
                results[(kind, n)] = (timed, traced)
                print(
                    f"{kind:6} {n:>9,} {timed['rows']:>10,} {timed['seconds']:>8.1f} "
                    f"{timed['rows'] / timed['seconds']:>9,.0f} {mb(timed['bytes']):>10} "
                    f"{mb(traced['trace_peak']):>10} {mb(timed['rss_max_kb'] * 1024):>10} "
                    f"{mb(timed['rss_before_kb'] * 1024):>10}"
                )
        print()
        goals = Goals()
        for kind, limit in (("csv", float("inf")), ("odm", 1.10)):
            large, small = results[(kind, args.patients)][0], results[(kind, small_n)][0]
            goals.ratio(
                f"{kind}_peak_rss_10x_patients" + (" (no goal set)" if kind == "csv" else ""),
                large["rss_max_kb"] * 1024,
                small["rss_max_kb"] * 1024,
                limit=limit,
                unit="MB",
            )
        print()
        print(
            "rows = CSV data rows / ODM history rows read; py peak = tracemalloc peak during "
            "the export (second run); peak RSS = the process's peak resident size during the "
            "export (VmHWM reset before it), RSS before = resident size before it started."
        )
        return 1 if goals.failed() else 0
    finally:
        shutil.rmtree(media, ignore_errors=True)
        if args.keep:
            print(f"Kept the benchmark database: {url}")
        else:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
