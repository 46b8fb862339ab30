"""Retention: expired sessions, and archiving of old access-log rows.

The access log is append-only (H9b's database triggers refuse UPDATE/DELETE), so
archiving here is a *copy out*: each calendar month older than
``ACCESS_LOG_ARCHIVE_AFTER_DAYS`` is written once to
``ACCESS_LOG_ARCHIVE_DIR/access-log-YYYY-MM.jsonl.gz`` with a ``.sha256`` beside it, and
the rows stay in the database. Deleting archived rows is a maintenance step done by the
dedicated maintenance database role only (README "Backup and restore"), after checking
the archive's hash; the app's own role cannot do it.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import os
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from .models import AccessLog

FIELDS = (
    "id",
    "at",
    "event",
    "user_id",
    "username",
    "ip",
    "user_agent",
    "path",
    "object_type",
    "object_id",
    "request_id",
)


def sessions_clear_expired() -> int:
    """Delete expired sessions (what ``manage.py clearsessions`` does); returns how many."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def _month_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, 1, tzinfo=datetime.UTC)


def _next_month(start: datetime.datetime) -> datetime.datetime:
    return (start + datetime.timedelta(days=32)).replace(day=1)


def access_log_archive(*, now: datetime.datetime | None = None) -> list[Path]:
    """Write every not yet archived full month older than the retention age; returns
    the archive files written. Idempotent: a month already archived is left alone."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.ACCESS_LOG_ARCHIVE_AFTER_DAYS)
    first = AccessLog.objects.order_by("at").values_list("at", flat=True).first()
    if first is None:
        return []
    folder = Path(settings.ACCESS_LOG_ARCHIVE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    start = _month_start(first.astimezone(datetime.UTC).date())
    while _next_month(start) <= cutoff:
        end = _next_month(start)
        target = folder / f"access-log-{start:%Y-%m}.jsonl.gz"
        if not target.exists():
            rows = AccessLog.objects.filter(at__gte=start, at__lt=end).order_by("at", "id")
            if rows.exists():
                written.append(_write(target, rows))
        start = end
    return written


def _write(target: Path, rows: object) -> Path:
    partial = target.with_suffix(".partial")
    with gzip.open(partial, "wt", encoding="utf-8", compresslevel=9) as fh:
        for row in rows.values_list(*FIELDS).iterator(chunk_size=2000):  # type: ignore[attr-defined]
            record = dict(zip(FIELDS, row, strict=True))
            record["at"] = record["at"].isoformat()
            fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    digest = hashlib.sha256(partial.read_bytes()).hexdigest()
    os.replace(partial, target)  # the archive appears complete or not at all
    Path(f"{target}.sha256").write_text(f"{digest}  {target.name}\n")
    return target
