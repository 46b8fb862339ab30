"""Write benchmark: enrollment and registration against a trivial authenticated page, and
the cost of history on a save.

Builds the demo trial (20 sites, staff, criteria, consent versions, visit schedule) in a
SEPARATE, throw-away database (SQLite temporary file, or a database ``bench_writes``,
or ``$BENCH_WRITES_DB``, next to ``DATABASE_URL``'s PostgreSQL), brings ``--patients``
patients to "consented" through the services, then measures through Django's test
client (the whole middleware stack, in this process, one request at a time):

- ``enroll_vs_get``: median server time of the enrollment form POST (allocation, visit
  schedule, history, notifications) against a trivial authenticated GET (the API token
  page). Goal: <= 3x.
- ``register_vs_get``: the same for registering a patient through the API. Reported
  (no goal in the issue).
- ``history_save_vs_bare_save``: an update ``save()`` of a visit with its history row
  against the same save with history skipped. Goal: <= 1.5x.

``--profile FILE`` also writes a pyinstrument profile of one enrollment and of one
registration (text), each with its queries (the most repeated, then all in order). Not measured here: throughput of 32 concurrent clients on 4 gunicorn workers
(that needs a running server; see README "Benchmark").

Usage:  python bench/bench_writes.py [--patients 60] [--profile FILE]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import common  # bench/common.py
from ratios import Goals

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: ``BENCH_WRITES_DB`` names it otherwise (two runs side by side on one server).
BENCH_DB = os.environ.get("BENCH_WRITES_DB", "bench_writes")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("TESTING", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)  # eager tasks, local cache: the request alone
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import django

    django.setup()


def consented_patients(count: int) -> list[Any]:
    """``count`` patients at the demo sites, screened eligible and consented."""
    from django.utils import timezone

    from demo.builder import SCREENING_ANSWERS
    from patients.services import consent_record, patient_register, screening_record
    from sites.models import Membership, TrialSite
    from sites.roles import Role
    from trials.models import ConsentVersion

    sites = list(TrialSite.objects.select_related("site", "trial").order_by("site__code"))
    out = []
    for i in range(count):
        ts = sites[i % len(sites)]
        crc = Membership.objects.get(trial_site=ts, role=Role.COORDINATOR).user
        patient = patient_register(
            trial_site=ts,
            acting_user=crc,
            full_name=f"Bench patient {i}",
            sex="F" if i % 2 else "M",
            birth_date=datetime.date(1962, 1, 1) + datetime.timedelta(days=i),
            nationality="CN",
            is_expatriate=False,
            id_document_type="passport",
            id_document_number=f"E{i:08d}",
            preferred_language="zh",
        )
        screening_record(
            patient=patient,
            acting_user=crc,
            screening_date=timezone.localdate() - datetime.timedelta(days=3),
            answers=dict(SCREENING_ANSWERS),
        )
        patient.refresh_from_db()
        version = ConsentVersion.objects.get(trial=ts.trial, language="zh")
        consent_record(
            patient=patient,
            acting_user=crc,
            consent_version=version,
            consented_at=timezone.now() - datetime.timedelta(days=1),
            language="zh",
            personal_information_consent=True,
        )
        patient.refresh_from_db()
        out.append((patient, crc))
    return out


def profiled(fn: Any) -> tuple[str, int]:
    """A pyinstrument profile of ``fn()`` and its queries, the most repeated first."""
    from collections import Counter

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    with CaptureQueriesContext(connection) as queries:
        profiler.start()
        fn()
        profiler.stop()
    captured = queries.captured_queries
    shapes = Counter(q["sql"].split(" WHERE ")[0][:160] for q in captured)
    repeated = "\n".join(f"{n:3}x {sql}" for sql, n in shapes.most_common(15))
    listing = "\n".join(f"{i:3} {q['sql'][:160]}" for i, q in enumerate(captured))
    text = (
        profiler.output_text(unicode=True, show_all=False)
        + f"\n{len(captured)} queries; most repeated:\n{repeated}\n\nin order:\n{listing}\n"
    )
    return text, len(captured)


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=60, help="enrollments to time")
    parser.add_argument("--profile", help="write a pyinstrument profile of one enrollment")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.patients < 5:
        parser.error("--patients must be >= 5")

    url, cleanup, label = common.prepare_database(BENCH_DB)
    setup_django(url)
    from django.test import Client
    from django.urls import reverse

    import notifications.services as notification_services
    from audit.context import audit_context
    from demo.builder import DemoBuilder
    from notifications.services import notifications_muted
    from patients.models import Enrollment, Visit
    from patients.services import consent as consent_services

    # Production delivers notifications in a Celery worker; without a broker they would
    # run inside the request here. The benchmark times the request: the outbox row is
    # written (as in production), its delivery is the worker's job and is not timed.
    notification_services._schedule_delivery = lambda *args, **kwargs: None
    goals = Goals()
    try:
        common.create_schema()
        with audit_context(reason="Benchmark setup", origin="shell"), notifications_muted():
            DemoBuilder(sites=20, patients_per_site=0).build()
        t0 = time.perf_counter()
        ready = consented_patients(args.patients + 1)
        print(f"Database: {label}")
        print(
            f"{len(ready)} patients registered, screened and consented through the services "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        clients: dict[int, Any] = {}

        def client_for(user: Any) -> Any:
            if user.pk not in clients:
                clients[user.pk] = Client(HTTP_HOST="localhost")
                clients[user.pk].force_login(user)
            return clients[user.pk]

        # the site's date, read before the clock runs (it costs the site's rows)
        dates = {
            patient.pk: consent_services.site_today(patient).isoformat() for patient, _ in ready
        }

        def enroll(patient: Any, user: Any) -> None:
            response = client_for(user).post(
                reverse("patients:enroll", args=[patient.pk]),
                {"enrolled_on": dates[patient.pk], "confirm": "on"},
            )
            assert response.status_code == 302, response.content.decode()[:1500]

        # warm: first request of each client, templates, URL resolver
        first, first_user = ready[0]
        enroll(first, first_user)
        if args.profile:
            patient, user = ready[1]
            client_for(user).get(reverse("api-tokens"))  # its login is not the enrollment's
            text, count = profiled(lambda: enroll(patient, user))
            Path(args.profile).write_text(f"One enrollment form POST\n{text}")
            print(f"Profile of one enrollment ({count} queries): {args.profile}")
            ready = ready[2:]
        else:
            ready = ready[1:]

        page = reverse("api-tokens")
        get_times, enroll_times = [], []
        for patient, user in ready:
            client = client_for(user)
            get_times.append(timed(lambda c=client: c.get(page)))
            enroll_times.append(timed(lambda p=patient, u=user: enroll(p, u)))
        assert Enrollment.objects.count() == len(ready) + (2 if args.profile else 1)
        trivial = statistics.median(get_times)
        goals.ratio("enroll_vs_get", statistics.median(enroll_times), trivial, limit=3)

        # registration through the API, as the coordinator of the first site
        from api.services import api_token_create

        _, user = ready[0]
        _token, raw = api_token_create(user=user, name="bench")
        api = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
        register_times = []
        ts_id = ready[0][0].trial_site_id
        for i in range(min(30, len(ready))):
            body = {
                "trial_site": ts_id,
                "full_name": f"API patient {i}",
                "sex": "M",
                "birth_date": "1960-05-05",
                "nationality": "CN",
                "is_expatriate": False,
                "id_document_type": "passport",
                "id_document_number": f"A{i:08d}",
                "preferred_language": "zh",
            }

            def post(body: dict[str, Any] = body) -> None:
                response = api.post("/api/v1/patients/", body, content_type="application/json")
                assert response.status_code == 201, response.content.decode()[:1500]

            if args.profile and i == 1:  # the first one warmed the API
                text, count = profiled(post)
                with Path(args.profile).open("a") as out:
                    out.write(f"\n\nOne API registration\n{text}")
                print(f"Profile of one registration ({count} queries): {args.profile}")
                continue
            register_times.append(timed(post))
        goals.ratio(
            "register_vs_get (no goal set)",
            statistics.median(register_times),
            trivial,
            limit=float("inf"),
        )

        # history on a save
        visits = list(Visit.objects.order_by("pk")[:200])
        with audit_context(reason="Benchmark", origin="shell"):

            def save_all(skip: bool) -> None:
                for i, visit in enumerate(visits):
                    visit.notes = f"{'bare' if skip else 'hist'} {i} {time.perf_counter()}"
                    visit.skip_history_when_saving = skip
                    visit.save()
                    del visit.skip_history_when_saving

            rounds = [
                (timed(lambda: save_all(False)), timed(lambda: save_all(True))) for _ in "123"
            ]
        with_history = statistics.median(r[0] for r in rounds) / len(visits)
        bare = statistics.median(r[1] for r in rounds) / len(visits)
        goals.ratio("history_save_vs_bare_save", with_history, bare, limit=1.5)
        return 1 if goals.failed() else 0
    finally:
        if args.keep:
            print(f"Kept the benchmark database: {url}")
        else:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
