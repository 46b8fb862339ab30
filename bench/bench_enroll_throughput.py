"""Enrollment throughput: concurrent clients against gunicorn on PostgreSQL (issue #17
item 4, "Writes").

Builds the demo trial (20 sites) in a SEPARATE, throw-away PostgreSQL database
(``bench_enroll_tp``, or ``$BENCH_TP_DB``, next to ``DATABASE_URL``), brings patients
to "consented" through the services at every site, starts gunicorn (``--workers``, 4) on
a free loopback port against it, and lets ``--clients`` (32) threads, each logged in
through the login form (CSRF token, session cookie) as the coordinator of one site,
post the enrollment form of that site's patients as fast as the server answers.
Clients of one site share its patients (the site's row lock serialises them, as it
would at a busy clinic). Only the enrollment POSTs are timed (not the logins, not the
redirect's page).

Prints ``enrollments_per_second: measured, 50, ratio`` (goal: >= 50/s, i.e. ratio >= 1)
and checks that every POST enrolled its patient once, with no duplicate randomization
number or allocation slot. The database is dropped afterwards (``--keep`` keeps it).

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        python bench/bench_enroll_throughput.py [--clients 32] [--workers 4] [--per-client 10]
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import common  # bench/common.py
from ratios import Goals

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_TP_DB", "bench_enroll_tp")
PASSWORD = "bench-Enroll-2026"  # noqa: S105 (throw-away benchmark accounts)
GOAL_PER_SECOND = 50.0


def server_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)  # no broker: see bench/gunicorn_bench.py
    env.update(
        DATABASE_URL=url,
        TESTING="1",  # development keys and plain http, as the other benchmarks
        DEBUG="0",  # no query log, no debug pages
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(count_by_site: dict[int, int]) -> list[tuple[str, list[tuple[str, str]]]]:
    """For each site (by index): its coordinator's username and (enrollment page,
    enrollment date) of ``count_by_site[i]`` consented patients."""
    from bench_writes import consented_patients
    from django.urls import reverse

    from audit.context import audit_context
    from patients.services import consent as consent_services
    from sites.models import Membership, TrialSite
    from sites.roles import Role

    sites = list(TrialSite.objects.select_related("site").order_by("site__code"))
    with audit_context(reason="Benchmark setup: no enrollment cap", origin="shell"):
        for ts in sites:  # the demo caps a site at 10 or 20 patients
            ts.enrollment_cap = None
            ts.save(update_fields=["enrollment_cap"])
    total = sum(count_by_site.values())
    # consented_patients spreads patients over the sites in order: ask for enough rounds
    rounds = max(count_by_site.values())
    ready = consented_patients(rounds * len(sites))
    by_site: dict[int, list[tuple[str, str]]] = {i: [] for i in range(len(sites))}
    for patient, _user in ready:
        i = next(n for n, ts in enumerate(sites) if ts.pk == patient.trial_site_id)
        if len(by_site[i]) < count_by_site.get(i, 0):
            page = reverse("patients:enroll", args=[patient.pk])
            by_site[i].append((page, consent_services.site_today(patient).isoformat()))
    out = []
    for i, ts in enumerate(sites):
        crc = Membership.objects.get(trial_site=ts, role=Role.COORDINATOR).user
        crc.set_password(PASSWORD)
        crc.save(update_fields=["password"])
        out.append((crc.get_username(), by_site[i]))
    assert sum(len(p) for _u, p in out) == total
    return out


class Client:
    """One browser: a session logged in through the form."""

    def __init__(self, base: str, username: str) -> None:
        import requests

        self.base = base
        self.http = requests.Session()
        page = self.http.get(f"{base}/accounts/login/", timeout=60)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert page.status_code == 200 and token, page.status_code
        answer = self.http.post(
            f"{base}/accounts/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
            headers={"Referer": f"{base}/accounts/login/"},
            allow_redirects=False,
            timeout=60,
        )
        assert answer.status_code == 302, (answer.status_code, answer.text[:500])

    def enroll(self, page: str, enrolled_on: str) -> tuple[bool, str]:
        url = f"{self.base}{page}"
        answer = self.http.post(
            url,
            {
                "enrolled_on": enrolled_on,
                "confirm": "on",
                "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
            },
            headers={"Referer": url},
            allow_redirects=False,
            timeout=120,
        )
        errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', answer.text, re.S)
        why = " | ".join(re.sub(r"<[^>]+>", " ", e).strip() for e in errors) or answer.text[:300]
        return answer.status_code == 302, f"{answer.status_code} {why}"


def wait_for(port: int, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=10, help="enrollments per client")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    # a plain `kill` still stops gunicorn and drops the database (the finally below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("needs DATABASE_URL pointing at the local PostgreSQL server")
    url, cleanup, label = common.prepare_database(BENCH_DB)
    os.environ.update(server_env(url))
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from audit.context import audit_context
    from demo.builder import DemoBuilder
    from notifications.services import notifications_muted

    server = None
    goals = Goals()
    try:
        call_command("migrate", verbosity=0)
        with audit_context(reason="Benchmark setup", origin="shell"), notifications_muted():
            DemoBuilder(sites=20, patients_per_site=0).build()
        sites = 20
        clients_of = {i: [c for c in range(args.clients) if c % sites == i] for i in range(sites)}
        t0 = time.perf_counter()
        plan = prepare({i: len(cs) * args.per_client for i, cs in clients_of.items()})
        total = sum(len(p) for _u, p in plan)
        print(f"Database: {label}")
        print(f"{total} patients consented at {sites} sites in {time.perf_counter() - t0:.1f} s")
        connection.close()

        port = free_port()
        server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi",
                "-c",
                str(ROOT / "bench/gunicorn_bench.py"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=server_env(url),
        )
        wait_for(port, server)
        base = f"http://127.0.0.1:{port}"
        work: dict[int, queue.SimpleQueue[tuple[str, str]]] = {
            i: queue.SimpleQueue() for i in range(sites)
        }
        for i, (_username, patients) in enumerate(plan):
            for item in patients:
                work[i].put(item)
        clients = [Client(base, plan[c % sites][0]) for c in range(args.clients)]
        print(f"gunicorn: {args.workers} workers on {base}; {len(clients)} clients logged in")

        start = threading.Barrier(len(clients) + 1)
        done: list[tuple[bool, str]] = []
        lock = threading.Lock()

        def run(c: int) -> None:
            client, mine = clients[c], work[c % sites]
            start.wait()
            while True:
                try:
                    page, enrolled_on = mine.get_nowait()
                except queue.Empty:
                    return
                result = client.enroll(page, enrolled_on)
                with lock:
                    done.append(result)

        threads = [threading.Thread(target=run, args=(c,)) for c in range(len(clients))]
        for t in threads:
            t.start()
        start.wait()
        began = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
        failures = [text for ok, text in done if not ok]
        print(f"{len(done)} enrollment POSTs in {elapsed:.1f} s, {len(failures)} refused")
        if failures:
            print(f"first refusal: {failures[0]}")

        from django.db.models import Count

        from patients.models import Enrollment, Patient

        enrolled = Enrollment.objects.count()
        duplicates = (
            Enrollment.objects.values("trial_id", "stratum", "allocation_index")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .count()
            + Enrollment.objects.values("trial_id", "randomization_number")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .count()
        )
        on_study = Patient.objects.filter(status=Patient.Status.ON_STUDY).count()
        print(
            f"enrollments: {enrolled} (patients on study: {on_study}); "
            f"duplicate allocations or numbers: {duplicates}"
        )
        ok = enrolled == total == on_study and not failures and duplicates == 0
        goals.ratio(
            "enrollments_per_second",
            len(done) / elapsed,
            GOAL_PER_SECOND,
            limit=1,
            unit="/s",
            higher_is_better=True,
        )
        if not ok:
            print("FAILED: not every POST enrolled its patient exactly once")
            return 1
        return 1 if goals.failed() else 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if args.keep:
            print(f"Kept the benchmark database: {url}")
        else:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
