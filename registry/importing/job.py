"""The import job: creating it (permission, limits), queueing it, and running the check and
the write over every row of a CSV file or a FHIR bundle, with the job's progress."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sites.roles import Perm
from sites.scoping import has_perm

from ..models import ImportJob
from .cells import RowError
from .domains import DOMAINS, FHIR
from .rows import _problems_of, _process_row, _read

MAX_BYTES = 20 * 1024 * 1024
PROGRESS_EVERY = 25


def import_job_create(
    *, site: Any, domain: str, source_system: str, content: bytes, filename: str, acting_user: Any
) -> ImportJob:
    if not has_perm(acting_user, Perm.IMPORT_REGISTRY, site=site):
        raise PermissionDenied(_("You may not import registry data for this center."))
    errors: dict[str, list[str]] = {}
    if domain not in DOMAINS and domain != FHIR:
        errors["domain"] = [_("Choose a domain from the list.")]
    if not source_system.strip():
        errors["source_system"] = [_("Name the system the file comes from.")]
    if len(content) > MAX_BYTES:
        errors["file"] = [_("The file is larger than 20 MB.")]
    if errors:
        raise ValidationError(errors)
    job = ImportJob(
        site=site, domain=domain, source_system=source_system.strip(), created_by=acting_user
    )
    job.file.save(
        filename.rsplit("/", 1)[-1][:100] or "import.csv", ContentFile(content), save=False
    )
    job.save()
    return job


def import_job_run_async(job: ImportJob, *, dry_run: bool) -> None:
    from ..tasks import run_import

    _status(job, status=ImportJob.Status.QUEUED)
    transaction.on_commit(lambda: run_import.delay(job.pk, dry_run), robust=True)


def _run_fhir(job: ImportJob, dry_run: bool) -> ImportJob:
    """A bundle's resources depend on each other (a Condition on its Patient), so the
    check runs every row in one transaction that is rolled back at the end."""
    from ..fhir import FhirError, bundle_rows

    with job.file.open("rb") as fh:
        content = fh.read()
    try:
        rows, _skipped = bundle_rows(content)
    except FhirError as exc:
        return _status(
            job,
            status=ImportJob.Status.FAILED,
            problems=[{"row": 1, "field": "", "problem": str(exc)}],
            finished_at=timezone.now(),
        )
    if not rows:
        problem = {
            "row": 1,
            "field": "",
            "problem": _("The bundle has no Patient, Condition or Procedure."),
        }
        return _status(
            job, status=ImportJob.Status.FAILED, problems=[problem], finished_at=timezone.now()
        )
    _status(job, status=ImportJob.Status.RUNNING, total_rows=len(rows), processed_rows=0)

    def run_all(check: bool) -> tuple[dict[str, int], list[dict[str, Any]]]:
        results = {"created": 0, "updated": 0, "unchanged": 0}
        problems: list[dict[str, Any]] = []
        for number, (domain, row) in enumerate(rows, start=1):
            label = f"{number} ({domain} {row.get('source_id', '')})"
            try:
                with transaction.atomic():
                    results[_process_row(job, DOMAINS[domain], number, row, job.created_by)] += 1
            except (RowError, ValidationError, PermissionDenied) as exc:
                if not check:
                    raise
                problems.extend(_problems_of(label, exc))
        return results, problems

    with transaction.atomic():
        results, problems = run_all(check=True)
        transaction.set_rollback(True)
    if not problems and not dry_run:
        with transaction.atomic():
            results, _none = run_all(check=False)
    status = (
        ImportJob.Status.FAILED
        if problems
        else (ImportJob.Status.CHECKED if dry_run else ImportJob.Status.DONE)
    )
    return _status(
        job,
        status=status,
        processed_rows=len(rows),
        problems=problems,
        created_count=results["created"],
        updated_count=results["updated"],
        unchanged_count=results["unchanged"],
        finished_at=timezone.now(),
    )


def import_job_run(*, job: ImportJob, dry_run: bool) -> ImportJob:
    """Check every row (nothing written); with ``dry_run`` False and no problems, write."""
    if job.domain == FHIR:
        return _run_fhir(job, dry_run)
    spec = DOMAINS[job.domain]
    user = job.created_by
    rows, problems = _read(job)
    _status(job, status=ImportJob.Status.RUNNING, total_rows=len(rows), processed_rows=0)
    results: dict[str, int] = {"created": 0, "updated": 0, "unchanged": 0}
    seen: dict[str, int] = {}
    if not problems:
        for number, row in enumerate(rows, start=2):  # row 1 is the header
            key = spec.row_key(row)
            if key and key in seen:
                problems.append(
                    {
                        "row": number,
                        "field": spec.natural_key[0] if spec.natural_key else "source_id",
                        "problem": (
                            _("Same test and result as row %(row)s.")
                            if spec.natural_key
                            else _("Same source id as row %(row)s.")
                        )
                        % {"row": seen[key]},
                    }
                )
                continue
            seen[key] = number
            try:
                with transaction.atomic():
                    results[_process_row(job, spec, number, row, user)] += 1
                    transaction.set_rollback(True)  # checking only
            except RowError as exc:
                problems.append({"row": number, "field": exc.field, "problem": str(exc)})
            except ValidationError as exc:
                for field, messages in (
                    exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]
                ):
                    for message in messages:
                        problems.append(
                            {
                                "row": number,
                                "field": "" if field == "__all__" else field,
                                "problem": str(message),
                            }
                        )
            except PermissionDenied as exc:
                problems.append(
                    {"row": number, "field": "", "problem": str(exc) or _("Not allowed.")}
                )
            if number % PROGRESS_EVERY == 0:
                _status(job, processed_rows=number - 1)
    if problems or dry_run:
        return _status(
            job,
            status=ImportJob.Status.FAILED if problems else ImportJob.Status.CHECKED,
            processed_rows=len(rows),
            problems=problems,
            created_count=results["created"],
            updated_count=results["updated"],
            unchanged_count=results["unchanged"],
            finished_at=timezone.now(),
        )
    results = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        for number, row in enumerate(rows, start=2):
            results[_process_row(job, spec, number, row, user)] += 1
    return _status(
        job,
        status=ImportJob.Status.DONE,
        processed_rows=len(rows),
        problems=[],
        created_count=results["created"],
        updated_count=results["updated"],
        unchanged_count=results["unchanged"],
        finished_at=timezone.now(),
    )


def _status(job: ImportJob, **values: Any) -> ImportJob:
    """Progress and outcome of the job itself (saved, with history, outside the rows)."""
    for name, value in values.items():
        setattr(job, name, value)
    job.save(update_fields=list(values))
    return job
