"""Login benchmark: what a password check costs on this machine (issue #18 item 10).

Builds one user in a SEPARATE, throw-away database (SQLite temporary file, or a database
``bench_login`` next to ``DATABASE_URL``'s PostgreSQL) and measures, through Django's test
client (the whole middleware stack: axes, access log, session), with the project's
``PASSWORD_HASHERS`` as configured:

- ``login_vs_get``: median server time of a successful login POST against a GET of the
  login page. Reported; the difference is the password hash.
- ``hash_check``: one ``check_password`` with the configured hasher (PBKDF2-SHA256 at
  Django's iterations) against one at OWASP's minimum for PBKDF2-SHA256 (600,000).
  Reported, to show what lowering the iterations would save.
- ``login_while_busy``: the same login while a second process hashes too (the 2 cores
  of the server shared by two logins at once), against the login alone. Reported.

Usage:  python bench/bench_login.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import common  # bench/common.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "bench_login"
PASSWORD = "bench-Login-2026"  # noqa: S105 (a throw-away benchmark account)
OWASP_PBKDF2_SHA256 = 600_000


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    # as the other benchmarks: development keys, no HTTPS redirect (the hasher is the
    # configured one either way: TESTING changes no password setting)
    os.environ.setdefault("TESTING", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def _burn(seconds: float) -> None:  # a second login's hashing, in another process
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        PBKDF2PasswordHasher().encode("x", "saltsaltsalt")


def report(name: str, measured_ms: float, baseline_ms: float) -> None:
    """A goal line without a goal: ``name: measured, baseline, ratio (reported)``."""
    ratio = measured_ms / baseline_ms if baseline_ms else float("inf")
    print(
        f"{name}: {measured_ms:.1f} ms, {baseline_ms:.1f} ms, {ratio:.2f}x (reported)", flush=True
    )


def median_ms(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    url, cleanup, label = common.prepare_database(BENCH_DB)
    print(f"database: {label}")
    try:
        setup_django(url)
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher
        from django.test import Client

        common.create_schema()
        user = get_user_model().objects.create_user("bench", password=PASSWORD)
        hasher = get_hasher()
        print(f"hasher: {hasher.algorithm}, iterations {getattr(hasher, 'iterations', '-')}")
        print(f"cores: {os.cpu_count()}")
        settings.AXES_FAILURE_LIMIT = 10_000
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client
        client = Client()

        def login() -> None:
            response = client.post("/accounts/login/", {"username": "bench", "password": PASSWORD})
            assert response.status_code == 302, response.status_code
            client.logout()

        def login_page() -> None:
            assert client.get("/accounts/login/").status_code == 200

        login()  # warm up
        post_ms = median_ms(login, args.rounds)
        get_ms = median_ms(login_page, args.rounds)
        report("login_vs_get", post_ms, get_ms)

        encoded = user.password

        class Owasp(PBKDF2PasswordHasher):
            iterations = OWASP_PBKDF2_SHA256

        owasp_encoded = Owasp().encode(PASSWORD, "benchsaltbenchsalt")
        check_ms = median_ms(lambda: hasher.verify(PASSWORD, encoded), args.rounds)
        owasp_ms = median_ms(lambda: Owasp().verify(PASSWORD, owasp_encoded), args.rounds)
        report("hash_check_configured_vs_owasp_600k", check_ms, owasp_ms)

        busy = multiprocessing.get_context("fork").Process(
            target=_burn, args=(post_ms / 1000 * args.rounds * 1.5 + 1,)
        )
        busy.start()
        try:
            busy_ms = median_ms(login, args.rounds)
        finally:
            busy.join()
        report("login_while_busy_vs_alone", busy_ms, post_ms)
        return 0
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
