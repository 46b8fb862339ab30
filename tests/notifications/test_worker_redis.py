"""Background jobs end to end: a REAL Celery worker process consuming from Redis, against
the test database, delivering mail through Django's file backend (one file per mail).

- an SAE recorded through the web form: exactly one mail per recipient, each outbox row
  sent once;
- the daily sweep run twice through the worker: one digest;
- Redis unreachable: enrolling and submitting a visit still succeed, quickly; their
  notices wait in the outbox and go out once, when the broker is back.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_string
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from notifications.models import OutboxMessage
from patients.models import AdverseEvent, Visit
from patients.services.visits import patient_local_today
from tests.patients.helpers_enroll import TODAY, arms, consent_version, ready_patient
from tests.patients.helpers_enroll import visit_definitions as enroll_visit_definitions
from tests.patients.helpers_visits import enroll, setup_protocol

from .helpers_jobs import SAFETY_CONTACTS, causality_for, form_post, sae_data

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "redis://127.0.0.1:1/0"
WAIT = 40  # seconds: a generous bound; each test takes a few seconds

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture(scope="module")
def mail_dir(tmp_path_factory: Any) -> Path:
    return tmp_path_factory.mktemp("worker-mail")


@pytest.fixture(scope="module")
def worker(django_db_setup: Any, django_db_blocker: Any, mail_dir: Path) -> Iterator[str]:
    """One worker (solo pool, its own queue) for this module; tasks this process queues
    go to that queue too. Yields the queue name."""
    from config.celery import app

    assert not app.conf.task_always_eager
    queue = f"jobs-{os.getpid()}-{int(time.time() * 1000)}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "TESTING": "1",
        "CONN_MAX_AGE": "0",  # no connection left open when the test database is dropped
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--loglevel=warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    before = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        app.conf.task_default_queue = before
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        with contextlib.suppress(Exception):
            _purge(queue)


def _purge(queue: str) -> None:
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).delete(
        queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
    )


@pytest.fixture
def mails(worker: str, mail_dir: Path) -> Any:
    """The mails the worker wrote during this test, as email.message objects."""
    for old in mail_dir.iterdir():
        old.unlink()

    def read() -> list[Any]:
        out = []
        for path in sorted(mail_dir.iterdir()):
            text = path.read_text()
            # One file per connection; messages are separated by a line of 79 dashes.
            for chunk in text.split("-" * 79):
                if chunk.strip():
                    out.append(message_from_string(chunk.strip()))
        return out

    return read


def wait_until_sent(expected: int) -> list[OutboxMessage]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        rows = list(OutboxMessage.objects.all())
        if len(rows) >= expected and all(r.status == "sent" for r in rows):
            return rows
        time.sleep(0.2)
    states = list(OutboxMessage.objects.values_list("kind", "recipient", "status", "last_error"))
    raise AssertionError(f"not delivered within {WAIT}s: {states}")


@contextlib.contextmanager
def broker_unreachable() -> Iterator[None]:
    """Point this process's publisher (and cache) at a port where nothing listens, as if
    Redis were stopped; the worker itself is left alone."""
    from config.celery import app

    def reset_pools() -> None:  # as Celery does after a fork
        app._pool = None
        with contextlib.suppress(AttributeError, KeyError):
            app.__dict__["amqp"]._producer_pool = None

    before = app.conf.broker_url
    app.conf.broker_url = UNREACHABLE
    reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url = before
        reset_pools()


def test_sae_from_the_web_form_mails_each_recipient_exactly_once(
    client,
    worker,
    mails,
    trial,
    patient_a,
    coordinator_site_a,
    lead_investigator,
    investigator_site_a,
):
    trial.safety_contacts = SAFETY_CONTACTS
    trial.save()
    protocol = setup_protocol(trial)
    enroll(patient_a, coordinator_site_a, protocol["arm"])
    today = patient_local_today(patient_a)
    client.force_login(coordinator_site_a)
    post = form_post(sae_data(today, causality_for(protocol, Cryoablation="probable")))
    response = client.post(reverse("patients:ae_new", args=[patient_a.pk]), post)
    assert response.status_code == 302
    event = AdverseEvent.objects.get()

    rows = wait_until_sent(4)
    expected = sorted(
        ["lead@example.org", "pi_a@example.org", "pv@sponsor.example", "drug.safety@cro.example"]
    )
    assert sorted(r.recipient for r in rows) == expected
    assert all(r.key.startswith(f"sae:{event.pk}:initial:") and r.attempts == 1 for r in rows)
    time.sleep(1)  # nothing more arrives
    delivered = mails()
    assert sorted(m["To"] for m in delivered) == expected
    assert all(m["Subject"].startswith("Serious adverse event: ") for m in delivered)
    assert all(patient_a.subject_id in m["Subject"] for m in delivered)


def test_sweep_run_twice_through_the_worker_sends_one_digest(
    worker, mails, trial, patient_a, coordinator_site_a
):
    from patients.tasks import daily_sweep

    protocol = setup_protocol(trial)
    enroll(patient_a, coordinator_site_a, protocol["arm"])  # eight weeks ago
    today = patient_local_today(patient_a).isoformat()
    first = daily_sweep.apply_async((today,)).get(timeout=WAIT)
    second = daily_sweep.apply_async((today,)).get(timeout=WAIT)
    assert first["missed"] == 3 and first["digests"] == 1
    assert second == {"missed": 0, "digests": 0, "reminders": 0, "errors": []}
    assert Visit.objects.filter(status="missed").count() == 3
    (row,) = wait_until_sent(1)
    assert row.kind == "visit_digest" and row.recipient == "crc_a@example.org"
    time.sleep(1)
    (mail,) = mails()
    assert mail["To"] == "crc_a@example.org"
    assert mail["Subject"] == f"Visits on {today}: 3 overdue, 0 in the next 7 days"


def test_redis_down_enrollment_and_visit_still_work_and_notices_go_out_once_back(
    client,
    settings,
    worker,
    mails,
    trial,
    trial_site_a,
    register,
    coordinator_site_a,
    lead_investigator,
    investigator_site_a,
):
    from notifications.tasks import flush_outbox

    arms(trial, A=1, B=1)
    enroll_visit_definitions(trial)
    patient = ready_patient(
        register, trial_site_a, coordinator_site_a, consent_version(trial, "1.0", "zh")
    )
    client.force_login(coordinator_site_a)
    with broker_unreachable():
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": UNREACHABLE,
            }
        }
        started = time.monotonic()
        response = client.post(
            reverse("patients:enroll", args=[patient.pk]),
            {"enrolled_on": TODAY.isoformat(), "confirm": "on"},
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        base = Visit.objects.get(patient=patient, definition__code="BASE")
        response = client.post(
            reverse("patients:visit_submit", args=[base.pk]),
            {"actual_date": TODAY.isoformat(), "vital_status": "alive", "ecog": "0"},
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed
    base.refresh_from_db()
    assert base.status == "completed"
    pending = OutboxMessage.objects.filter(status="pending")
    assert sorted(pending.values_list("kind", "recipient")) == [
        ("enrollment", "lead@example.org"),
        ("enrollment", "pi_a@example.org"),
        ("visit_submitted", "pi_a@example.org"),
    ]
    time.sleep(1)
    assert mails() == []  # nothing could go out
    # Redis is back: the periodic flush (here run at once) delivers each notice once.
    assert flush_outbox.apply_async().get(timeout=WAIT) == 3
    assert flush_outbox.apply_async().get(timeout=WAIT) == 0
    rows = wait_until_sent(3)
    assert all(r.attempts == 1 for r in rows)
    delivered = mails()
    assert sorted(m["To"] for m in delivered) == [
        "lead@example.org",
        "pi_a@example.org",
        "pi_a@example.org",
    ]
    assert len({(m["To"], m["Subject"]) for m in delivered}) == 3


def test_redis_down_the_api_answers_and_the_outbox_drains_once_redis_is_back(
    api_for,
    settings,
    worker,
    mails,
    trial,
    trial_site_a,
    register,
    coordinator_site_a,
    lead_investigator,
    investigator_site_a,
):
    """Broker and cache unreachable (the resilient cache, as configured in production):
    API lists and an enrollment answer normally; the notices wait in the outbox and the
    flush delivers them once Redis (this test's real Redis) answers again."""
    from config import cache as resilient
    from notifications.tasks import flush_outbox

    arms(trial, A=1, B=1)
    enroll_visit_definitions(trial)
    patient = ready_patient(
        register, trial_site_a, coordinator_site_a, consent_version(trial, "1.0", "zh")
    )
    api = api_for(coordinator_site_a)
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    with broker_unreachable():
        settings.CACHES = {
            "default": {
                "BACKEND": "config.cache.ResilientRedisCache",
                "LOCATION": UNREACHABLE,
                "OPTIONS": options,
            },
            "throttle": {
                "BACKEND": "config.cache.ResilientRedisCache",
                "LOCATION": UNREACHABLE,
                "OPTIONS": {**options, "LOCAL_FALLBACK": True},
            },
        }
        resilient.reset_down_state()
        started = time.monotonic()
        assert api.get("/api/v1/patients/").status_code == 200
        response = api.post(
            f"/api/v1/patients/{patient.pk}/enroll/", {"enrolled_on": TODAY.isoformat()}
        )
        assert response.status_code == 201, response.content[:1000]
        assert api.get("/api/v1/enrollments/").status_code == 200
        elapsed = time.monotonic() - started
    resilient.reset_down_state()
    assert elapsed < 10, elapsed
    pending = OutboxMessage.objects.filter(status="pending")
    assert sorted(pending.values_list("kind", "recipient")) == [
        ("enrollment", "lead@example.org"),
        ("enrollment", "pi_a@example.org"),
    ]
    assert flush_outbox.apply_async().get(timeout=WAIT) == 2
    rows = wait_until_sent(2)
    assert all(r.attempts == 1 for r in rows)
    time.sleep(1)
    assert sorted(m["To"] for m in mails()) == ["lead@example.org", "pi_a@example.org"]
