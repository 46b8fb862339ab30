"""Files the app writes for one user and deletes after a while (trial exports, research
extracts): where they live, when they may be downloaded, and their expiry.

A file is never served by the web server: it sits under ``MEDIA_ROOT`` and each download
goes through a view that checks access and logs it (the access log), so what the mixin
knows is only the bookkeeping both kinds of job share.
"""

from __future__ import annotations

import contextlib
import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .context import audit_context

DONE = "done"
FAILED = "failed"
EXPIRED = "expired"


class ExpiringFileMixin:
    """For a model with ``status`` (``done`` / ``failed`` / ``expired`` among its values),
    ``expires_at`` and ``file_path`` (relative to ``MEDIA_ROOT``)."""

    status: str
    expires_at: datetime.datetime | None
    file_path: str

    @property
    def is_expired(self) -> bool:
        if self.status == EXPIRED:
            return True
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_downloadable(self) -> bool:
        return self.status == DONE and not self.is_expired and bool(self.file_path)

    @property
    def filename(self) -> str:
        return Path(self.file_path).name if self.file_path else ""

    @property
    def absolute_path(self) -> Path | None:
        if not self.file_path:
            return None
        return Path(settings.MEDIA_ROOT) / self.file_path


def expire_due(model: Any, *, reason: str, now: datetime.datetime | None = None) -> int:
    """Mark expired every finished or failed job of ``model`` past its ``expires_at`` and
    delete its file (and its folder when empty); returns how many expired. Each job is
    its own transaction, locked, so a download racing the expiry sees one or the other."""
    now = now or timezone.now()
    count = 0
    due = model.objects.filter(status__in=[DONE, FAILED], expires_at__lte=now).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        with transaction.atomic():
            job = model.objects.select_for_update().get(pk=pk)
            if job.status not in (DONE, FAILED):
                continue
            path = job.absolute_path
            with audit_context(reason=reason, origin="task"):
                job.status = EXPIRED
                job.save()
            if path is not None:
                path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    path.parent.rmdir()
            count += 1
    return count
