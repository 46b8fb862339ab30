"""Data exports: request, run (in a worker), download, expire.

Idempotent by construction: a job that is done is never run again, every run writes to a
temporary file that is renamed onto the job's one final path, and the rename happens
under a lock on the job row, so a task delivered twice (``acks_late``) or run twice in
parallel leaves exactly one file.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import logging
import os
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from access import blinding
from audit.context import audit_context
from audit.files import expire_due
from audit.models import AccessLog
from audit.transitions import check_transition
from audit.users import ActingUser
from sites.models import TrialSite
from sites.roles import Perm
from sites.scoping import has_perm
from trials.models import Trial

from . import csv_bundle, odm
from .models import ExportJob
from .writing import ExportContext, Progress

logger = logging.getLogger(__name__)

EXPORT_DIR = "exports"
PROGRESS_EVERY = 1000  # rows between two progress writes
STALE_QUEUED_AFTER = datetime.timedelta(minutes=10)


class ExportUnavailable(ValidationError):
    """The file cannot be downloaded: not ready yet, failed, or expired (``gone``)."""

    def __init__(self, message: str, *, gone: bool) -> None:
        super().__init__({"status": [message]}, code="expired" if gone else "not_ready")
        self.gone = gone


# --- who may do what ----------------------------------------------------------------------


def _trial_sites(trial: Trial, user: Any) -> list[TrialSite]:
    """The trial-sites of the export: those of the trial the user can see."""
    return list(
        TrialSite.objects.visible_to(user)
        .filter(trial=trial)
        .select_related("site")
        .order_by("site__code")
    )


def export_identities_allowed(user: Any, trial_sites: list[TrialSite]) -> bool:
    """Identities only if the user may see them at every site in the export."""
    return bool(trial_sites) and all(
        has_perm(user, Perm.VIEW_IDENTITY, trial_site=ts) for ts in trial_sites
    )


def export_allocation_allowed(user: Any, trial: Trial) -> bool:
    return blinding.arms_visible(user, trial)


def exportable_trials(user: Any) -> Any:
    """Trials the user may export (for the request form)."""
    trials = Trial.objects.visible_to(user).order_by("protocol_code")
    return [t for t in trials if has_perm(user, Perm.EXPORT, trial=t)]


def export_may_download(user: Any, job: ExportJob) -> bool:
    """The requester may download their file; anyone else only if they could have
    produced the same file themselves (same identities and allocation rights)."""
    if not has_perm(user, Perm.EXPORT, trial=job.trial):
        return False
    if job.requested_by_id == getattr(user, "pk", None):
        return True
    sites = _trial_sites(job.trial, user)
    if not job.pseudonymised and not export_identities_allowed(user, sites):
        return False
    return job.arm_hidden or export_allocation_allowed(user, job.trial)


# --- request ------------------------------------------------------------------------------


def export_request(
    *, trial: Trial, acting_user: ActingUser, kind: str, request: Any = None
) -> ExportJob:
    """Queue an export of ``trial``; the file is written by a background task."""
    if not has_perm(acting_user, Perm.EXPORT, trial=trial):
        raise PermissionDenied(_("You may not export the data of this trial."))
    if kind not in ExportJob.Kind.values:
        raise ValidationError({"kind": [_("Choose CSV bundle or ODM.")]})
    sites = _trial_sites(trial, acting_user)
    if not sites:
        raise ValidationError({"trial": [_("This trial has no sites to export.")]})
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Export requested")):
        job = ExportJob.objects.create(
            trial=trial,
            requested_by=acting_user,
            requested_by_username=acting_user.get_username(),
            kind=kind,
            pseudonymised=not export_identities_allowed(acting_user, sites),
            arm_hidden=not export_allocation_allowed(acting_user, trial),
        )
        AccessLog.record(event=AccessLog.Event.EXPORT, request=request, user=acting_user, obj=job)
        transaction.on_commit(lambda: _enqueue(job.pk), robust=True)
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import run_export

    run_export.delay(job_id)


# --- run ----------------------------------------------------------------------------------


def _final_path(job: ExportJob) -> Path:
    stamp = job.created_at.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{job.trial.protocol_code}_{job.kind}_{stamp}_{job.pk}.zip"
    return Path(settings.MEDIA_ROOT) / EXPORT_DIR / str(job.pk) / name


def _relative(path: Path) -> str:
    return str(path.relative_to(Path(settings.MEDIA_ROOT)))


def _claim(job_id: int) -> ExportJob | None:
    """Mark the job running; None if it is already done (or expired)."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("trial").get(pk=job_id)
        if job.status in (ExportJob.Status.DONE, ExportJob.Status.EXPIRED):
            return None
        check_transition(
            choices=ExportJob.Status,
            table=ExportJob.TRANSITIONS,
            current=job.status,
            target=ExportJob.Status.RUNNING,
        )
        with audit_context(user=job.requested_by, reason=_("Export started"), origin="task"):
            job.status = ExportJob.Status.RUNNING
            job.started_at = timezone.now()
            job.attempts += 1
            job.error = ""
            job.progress = 0
            job.rows_done = 0
            job.save()
    return job


@contextlib.contextmanager
def _snapshot() -> Iterator[bool]:
    """On PostgreSQL, read everything in one REPEATABLE READ transaction, so the files
    are one consistent snapshot (yields True: progress must then be written through a
    separate connection to be visible). SQLite has no such isolation between long reads
    and writers; there the rows are read as they stand while the export runs (the ODM
    audit trail is cut at ``started_at`` either way)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield False
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield True


@contextlib.contextmanager
def _progress_writer(job_id: int, *, separate: bool) -> Iterator[Callable[[int, int], None]]:
    """Write progress in small transactions the status page can see while the export
    runs. Progress ticks are bookkeeping, not data: they are written with ``update()``
    and make no history row (status changes do)."""
    table = ExportJob._meta.db_table
    if not separate:

        def report(done: int, total: int) -> None:
            ExportJob.objects.filter(pk=job_id).update(
                rows_done=done, rows_total=total, progress=_percent(done, total)
            )

        yield report
        return
    conn = connections.create_connection(DEFAULT_DB_ALIAS)
    q = conn.ops.quote_name
    sql = (
        f"UPDATE {q(table)} SET {q('rows_done')} = %s, {q('rows_total')} = %s, "  # noqa: S608
        f"{q('progress')} = %s WHERE {q('id')} = %s"
    )

    def report_separately(done: int, total: int) -> None:
        with conn.cursor() as cursor:
            cursor.execute(sql, [done, total, _percent(done, total), job_id])

    try:
        yield report_separately
    finally:
        conn.close()


def _percent(done: int, total: int) -> int:
    return min(99, done * 100 // total) if total else 0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write(job: ExportJob, ctx: ExportContext, path: Path, progress: Progress) -> int:
    if job.kind == ExportJob.Kind.CSV:
        progress.start(csv_bundle.count_rows(ctx))
        return csv_bundle.write_csv_bundle(path, ctx, progress)
    progress.start(odm.count_rows(ctx))
    name = path.with_suffix(".xml").name
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf,
        zf.open(name, "w", force_zip64=True) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as text,
    ):
        odm.write_odm(text.write, ctx, progress)
    return progress.done


def export_run(*, job_id: int, progress_every: int = PROGRESS_EVERY) -> ExportJob:
    """Write the export file of a queued job (called by the worker).

    A done job is returned as it is. The file is written to a temporary name beside the
    final one and renamed atomically when complete; a failure leaves no partial file and
    marks the job failed with the error (a retry may run it again).
    """
    job = _claim(job_id)
    if job is None:
        return ExportJob.objects.get(pk=job_id)
    final = _final_path(job)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.part")
    try:
        user = job.requested_by
        if user is None or not has_perm(user, Perm.EXPORT, trial=job.trial):
            raise PermissionDenied(_("The requester may no longer export this trial."))
        sites = _trial_sites(job.trial, user)
        cutoff = job.started_at
        assert cutoff is not None  # set by _claim
        ctx = ExportContext(
            trial=job.trial,
            trial_sites=sites,
            identities=not job.pseudonymised and export_identities_allowed(user, sites),
            allocation=not job.arm_hidden and export_allocation_allowed(user, job.trial),
            cutoff=cutoff,
            requested_by=job.requested_by_username,
            job_id=job.pk,
        )
        with (
            translation.override(settings.LANGUAGE_CODE),
            _snapshot() as snapshot,
            _progress_writer(job.pk, separate=snapshot) as report,
        ):
            progress = Progress(report, every=progress_every)
            rows = _write(job, ctx, tmp, progress)
        return _finish(job.pk, tmp, final, rows=rows, total=progress.total)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        _fail(job.pk, exc)
        raise


def _finish(job_id: int, tmp: Path, final: Path, *, rows: int, total: int) -> ExportJob:
    size = tmp.stat().st_size
    digest = _sha256(tmp)
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.status == ExportJob.Status.DONE:
            tmp.unlink(missing_ok=True)  # a parallel run finished first: keep its file
            return job
        check_transition(
            choices=ExportJob.Status,
            table=ExportJob.TRANSITIONS,
            current=job.status,
            target=ExportJob.Status.DONE,
        )
        os.replace(tmp, final)  # atomic: the final name only ever holds a whole file
        now = timezone.now()
        with audit_context(user=job.requested_by, reason=_("Export finished"), origin="task"):
            job.status = ExportJob.Status.DONE
            job.file_path = _relative(final)
            job.file_size = size
            job.sha256 = digest
            job.rows_done = rows
            job.rows_total = max(total, rows)
            job.progress = 100
            job.finished_at = now
            job.expires_at = now + datetime.timedelta(hours=settings.EXPORT_TTL_HOURS)
            job.save()
    return job


def _fail(job_id: int, exc: BaseException) -> None:
    logger.exception("Export %s failed", job_id)
    try:
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().get(pk=job_id)
            if job.status != ExportJob.Status.RUNNING:
                return
            with audit_context(user=job.requested_by, reason=_("Export failed"), origin="task"):
                job.status = ExportJob.Status.FAILED
                job.error = (str(exc) or exc.__class__.__name__)[:2000]
                job.finished_at = timezone.now()
                job.save()
    except Exception:  # the database itself may be what failed
        logger.exception("Could not mark export %s failed", job_id)


# --- download and expiry ------------------------------------------------------------------


def export_download(*, job: ExportJob, user: Any, request: Any = None) -> Path:
    """The file of a finished export, after checking access; the download is logged."""
    if not export_may_download(user, job):
        raise PermissionDenied(_("You may not download this export."))
    if job.is_expired:
        raise ExportUnavailable(
            _("This export has expired and its file was deleted. Request a new export."),
            gone=True,
        )
    if job.status != ExportJob.Status.DONE:
        raise ExportUnavailable(_("This export is not ready."), gone=False)
    path = job.absolute_path
    if path is None or not path.is_file():
        raise ExportUnavailable(
            _("The file of this export is missing. Request a new export."), gone=True
        )
    AccessLog.record(event=AccessLog.Event.DOWNLOAD, request=request, user=user, obj=job)
    return path


def export_expire_due(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of exports past their expiry; returns how many expired."""
    return expire_due(ExportJob, reason=_("Export expired"), now=now)


def export_requeue_stale(*, now: datetime.datetime | None = None) -> int:
    """Queue again the jobs still waiting long after their request (the broker was down
    when they were requested). Running a job twice is harmless."""
    now = now or timezone.now()
    stale = list(
        ExportJob.objects.filter(
            status=ExportJob.Status.QUEUED, created_at__lte=now - STALE_QUEUED_AFTER
        ).values_list("pk", flat=True)
    )
    for job_id in stale:
        _enqueue(job_id)
    return len(stale)
