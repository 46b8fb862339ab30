from __future__ import annotations

from celery import shared_task

from audit.context import audit_context


@shared_task(acks_late=True)
def run_import(job_id: int, dry_run: bool) -> str:
    from .importing import import_job_run
    from .models import ImportJob

    job = ImportJob.objects.select_related("site", "created_by").get(pk=job_id)
    with audit_context(user=job.created_by, origin="task"):
        import_job_run(job=job, dry_run=dry_run)
    return job.status
