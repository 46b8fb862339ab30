"""On PostgreSQL an export reads one consistent snapshot while its progress stays visible
to the status page (written through a second connection)."""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from lxml import etree

from exports import services
from exports.models import ExportJob
from patients.services import patient_update

from .helpers_exports import odm_schema, read_odm


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_export_reads_a_snapshot_and_reports_progress_outside_it(
    clinical, trial, patient_a, coordinator_site_a, lead_investigator, monkeypatch
):
    outside = connections.create_connection(DEFAULT_DB_ALIAS)
    seen: list[tuple[int, int]] = []
    edited = {"done": False}
    real = services._progress_writer

    class Spy:
        def __init__(self, job_id: int, *, separate: bool) -> None:
            assert separate, "the export should read inside a snapshot on PostgreSQL"
            self.job_id = job_id
            self.inner = real(job_id, separate=separate)

        def __enter__(self):  # noqa: ANN204
            report = self.inner.__enter__()

            def recording(done: int, total: int) -> None:
                report(done, total)
                with outside.cursor() as cursor:
                    cursor.execute(
                        "SELECT rows_done, progress FROM exports_exportjob WHERE id = %s",
                        [self.job_id],
                    )
                    seen.append(cursor.fetchone())
                if not edited["done"]:  # a change committed mid-export is not in the file
                    edited["done"] = True
                    with outside.cursor() as cursor:
                        cursor.execute(
                            "UPDATE patients_patient SET insurance_provider = 'LATE EDIT' "
                            "WHERE id = %s",
                            [patient_a.pk],
                        )

            return recording

        def __exit__(self, *exc: object) -> None:
            return self.inner.__exit__(*exc)

    monkeypatch.setattr(services, "_progress_writer", Spy)
    try:
        job = ExportJob.objects.create(
            trial=trial, requested_by=lead_investigator, requested_by_username="lead", kind="csv"
        )
        job = services.export_run(job_id=job.pk, progress_every=3)
        assert job.status == ExportJob.Status.DONE
        assert seen[0] == (0, 0) and len(seen) > 2
        assert [s[0] for s in seen] == sorted(s[0] for s in seen) and seen[-1][0] > 0
        from .helpers_exports import bundle_text

        assert "LATE EDIT" not in bundle_text(job)
    finally:
        outside.close()

    patient_update(
        patient=patient_a,
        acting_user=coordinator_site_a,
        reason="Cover confirmed",
        insurance_covers_trial="yes",
    )
    odm_job = ExportJob.objects.create(
        trial=trial, requested_by=lead_investigator, requested_by_username="lead", kind="odm"
    )
    monkeypatch.setattr(services, "_progress_writer", real)
    odm_job = services.export_run(job_id=odm_job.pk)
    doc = etree.fromstring(read_odm(odm_job))
    assert odm_schema().validate(doc)
