from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_real_celery_worker_runs_a_task_through_redis(trial):
    """A real worker process consumes from Redis and answers through the result backend."""
    from audit.tasks import healthcheck
    from config.celery import app

    assert not app.conf.task_always_eager
    env = {**os.environ, "DATABASE_URL": _database_url(), "TESTING": "1"}
    queue = f"ci-{os.getpid()}-{int(time.time())}"
    worker = subprocess.Popen(
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
    try:
        result = healthcheck.apply_async(queue=queue).get(timeout=60)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert result == {"status": "ok", "database": "postgresql", "trials": 1}


def test_tasks_run_eagerly_without_a_broker():
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update({"TESTING": "1", "DATABASE_URL": "sqlite:///:memory:"})
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings');"
            "django.setup();from config.celery import app;from django.core.cache import caches;"
            "print(app.conf.task_always_eager, type(caches['default']).__name__)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["True", "LocMemCache"]


def test_deploy_check_passes_with_documented_production_variables():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        {
            "DEBUG": "0",
            "TESTING": "0",
            "SECRET_KEY": "x" * 30 + "-production-secret-key-with-enough-entropy-0123456789",
            "FIELD_ENCRYPTION_KEY": "a-long-random-field-encryption-key-0123456789",
            "ALLOWED_HOSTS": "trials.example.org",
            "DATABASE_URL": "sqlite:///:memory:",
        }
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_production_refuses_to_start_without_secrets():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "TESTING", "SECRET_KEY", "FIELD_ENCRYPTION_KEY")
    }
    env.update({"DEBUG": "0", "TESTING": "0", "DATABASE_URL": "sqlite:///:memory:"})
    out = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode != 0
    assert "SECRET_KEY and FIELD_ENCRYPTION_KEY must be set" in out.stderr


def test_times_are_stored_in_utc(patient_a):
    assert settings.USE_TZ
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW TIME ZONE")
            assert cursor.fetchone()[0] == "UTC"
    assert patient_a.registered_at.utcoffset().total_seconds() == 0


def test_pages_show_the_site_time_zone(
    client, coordinator_site_a, trial_site_b, coordinator_site_b
):
    site = trial_site_b.site
    site.time_zone = "Asia/Urumqi"
    site.save()
    client.force_login(coordinator_site_b)
    assert "Asia/Urumqi" in client.get("/").content.decode()
    client.force_login(coordinator_site_a)
    assert "Asia/Shanghai" in client.get("/").content.decode()


def test_seed_demo_refuses_with_debug_off_unless_forced(db, settings, monkeypatch):
    from django.core.management import CommandError, call_command

    from sites.models import TrialSite

    monkeypatch.setenv("DEMO_REGISTRY_PATIENTS", "10")  # a small registry demo
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call_command("seed_demo", sites=1, patients_per_site=0, quiet_logins=True)
    assert not TrialSite.objects.exists()
    call_command("seed_demo", sites=1, patients_per_site=0, quiet_logins=True, force=True)
    assert TrialSite.objects.count() == 1


def test_seed_demo_is_idempotent(db, settings, monkeypatch):
    from django.core.management import call_command

    from registry.models import RegistryPatient

    settings.DEBUG = True
    monkeypatch.setenv("DEMO_REGISTRY_PATIENTS", "30")  # a small registry demo
    from patients.models import Patient
    from sites.models import Membership, TrialSite

    call_command("seed_demo", sites=3, patients_per_site=2, quiet_logins=True)
    counts = (TrialSite.objects.count(), Membership.objects.count(), Patient.objects.count())
    call_command("seed_demo", sites=3, patients_per_site=2, quiet_logins=True)
    # + one center abstractor and one data steward per site and the network researcher
    # (registry demo)
    assert counts == (3, 4 + 6 + 3 + 3 + 1, 6)
    assert RegistryPatient.objects.count() == 30
    assert (
        TrialSite.objects.count(),
        Membership.objects.count(),
        Patient.objects.count(),
    ) == counts
    assert Patient.objects.filter(is_expatriate=True).exists()
