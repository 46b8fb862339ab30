"""Retention jobs: expired sessions are deleted; old access-log months are copied once
into a compressed file with its SHA-256, and the rows stay (append-only log)."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from audit.models import AccessLog
from audit.retention import access_log_archive
from audit.tasks import archive_access_log, clear_expired_sessions
from config.settings import CELERY_BEAT_SCHEDULE


def test_expired_sessions_are_cleared(db):
    live = SessionStore()
    live.create()
    old = SessionStore()
    old.create()
    Session.objects.filter(session_key=old.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(days=1)
    )
    assert clear_expired_sessions.apply().get() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def _entry(at: datetime.datetime, username: str) -> AccessLog:
    return AccessLog.objects.create(at=at, event="login", username=username, ip="203.0.113.7")


def test_old_access_log_months_are_archived_once_with_their_hash(db, settings, tmp_path):
    settings.ACCESS_LOG_ARCHIVE_DIR = tmp_path
    settings.ACCESS_LOG_ARCHIVE_AFTER_DAYS = 365
    now = datetime.datetime(2026, 12, 2, 8, 0, tzinfo=datetime.UTC)
    _entry(datetime.datetime(2025, 1, 5, tzinfo=datetime.UTC), "jan-a")
    _entry(datetime.datetime(2025, 1, 31, 23, 59, tzinfo=datetime.UTC), "jan-b")
    _entry(datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC), "march")
    _entry(datetime.datetime(2025, 12, 20, tzinfo=datetime.UTC), "recent")  # < 365 days

    written = access_log_archive(now=now)
    assert [p.name for p in written] == [
        "access-log-2025-01.jsonl.gz",
        "access-log-2025-03.jsonl.gz",
    ]
    january = tmp_path / "access-log-2025-01.jsonl.gz"
    with gzip.open(january, "rt") as fh:
        rows = [json.loads(line) for line in fh]
    assert [r["username"] for r in rows] == ["jan-a", "jan-b"]
    assert rows[0]["ip"] == "203.0.113.7" and rows[0]["event"] == "login"
    digest, name = (tmp_path / "access-log-2025-01.jsonl.gz.sha256").read_text().split()
    assert name == january.name
    assert digest == hashlib.sha256(january.read_bytes()).hexdigest()
    # copy out, not move: the append-only log keeps its rows
    assert AccessLog.objects.count() == 4
    # a second run writes nothing and leaves the archives as they were
    assert access_log_archive(now=now) == []
    assert hashlib.sha256(january.read_bytes()).hexdigest() == digest


def test_retention_jobs_are_scheduled(db, settings, tmp_path):
    settings.ACCESS_LOG_ARCHIVE_DIR = tmp_path
    tasks = {entry["task"] for entry in CELERY_BEAT_SCHEDULE.values()}
    assert {
        "audit.tasks.clear_expired_sessions",
        "audit.tasks.archive_access_log",
        "exports.tasks.expire_exports",
    } <= tasks
    assert archive_access_log.apply().get() == []
