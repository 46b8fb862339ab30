"""CSV bulk import: the dry run reports every problem (row, field) and writes nothing;
the fixed file imports; importing it again changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from registry.importing import import_job_create, template_csv
from registry.models import ImportJob, RegistryPatient, Tumour

PATIENTS_BAD = """source_id,full_name,id_document_type,id_document_number,sex,birth_date,nationality,hbv
H1,张三,resident_id,11010519491231002X,M,1949-12-31,CN,yes
H2,李四,resident_id,11010519491231002Y,F,1960-01-01,CN,no
H3,王五,passport,E7654321,X,1960-13-01,CN,maybe
H1,重复,passport,E1111111,M,1970-01-01,CN,
"""
PATIENTS_GOOD = """source_id,full_name,id_document_type,id_document_number,sex,birth_date,nationality,hbv
H1,张三,resident_id,11010519491231002X,M,1949-12-31,CN,yes
H2,李四,passport,G7654321,F,1960-01-01,CN,no
H3,王五,passport,E7654321,M,1960-12-01,CN,
"""
TUMOURS = """patient_source_id,source_id,category,topography,morphology,diagnosis_date,basis,tumour_count,largest_size_mm,vascular_invasion,metastatic_sites
H1,T1,hcc,C22.0,8170/3,2024-05-01,histology,1,35,none,
H2,T2,icca,C22.1,8160/3,2024-06-01,histology,1,60,none,lung;bone
"""


@pytest.fixture(autouse=True)
def _run_jobs_on_commit(django_capture_on_commit_callbacks):
    """The background job is queued on commit; run it as the request's transaction ends."""
    original = Client.request

    def request(self, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(self, **kwargs)

    Client.request = request
    yield
    Client.request = original


def upload(client, domain: str, content: str) -> ImportJob:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/registry/imports/",
        {
            "domain": domain,
            "source_system": "HIS-A",
            "file": SimpleUploadedFile("f.csv", content.encode(), content_type="text/csv"),
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    return ImportJob.objects.latest("created_at")


def test_dry_run_reports_each_problem_and_writes_nothing(client, center_a, abstractor_a):
    client.force_login(abstractor_a)
    job = upload(client, "patients", PATIENTS_BAD)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    problems = {(p["row"], p["field"]) for p in job.problems}
    assert (3, "id_document_number") in problems  # check digit
    assert (4, "birth_date") in problems and (4, "hbv") in problems
    assert (5, "source_id") in problems  # H1 twice
    assert not RegistryPatient.objects.exists()
    page = client.get(f"/registry/imports/{job.pk}/").content.decode()
    assert "Use yes or no" in page
    # the import button does nothing for a refused file
    client.post(f"/registry/imports/{job.pk}/")
    assert not RegistryPatient.objects.exists()


def test_fixed_file_imports_and_reimport_changes_nothing(client, center_a, abstractor_a):
    client.force_login(abstractor_a)
    job = upload(client, "patients", PATIENTS_GOOD)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED and job.created_count == 3
    assert not RegistryPatient.objects.exists()  # the check wrote nothing
    client.post(f"/registry/imports/{job.pk}/")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.progress == 100
    assert RegistryPatient.objects.count() == 3
    assert RegistryPatient.objects.get(source_id="H1").hbv is True
    history = sum(p.history.count() for p in RegistryPatient.objects.all())

    again = upload(client, "patients", PATIENTS_GOOD)
    client.post(f"/registry/imports/{again.pk}/")
    again.refresh_from_db()
    assert again.status == ImportJob.Status.DONE
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert sum(p.history.count() for p in RegistryPatient.objects.all()) == history

    tumours = upload(client, "tumours", TUMOURS)
    client.post(f"/registry/imports/{tumours.pk}/")
    tumours.refresh_from_db()
    assert tumours.status == ImportJob.Status.DONE, tumours.problems
    assert Tumour.objects.get(source_id="T2").metastatic_sites == ["lung", "bone"]

    changed = upload(client, "tumours", TUMOURS.replace(",60,", ",65,"))
    client.post(f"/registry/imports/{changed.pk}/")
    changed.refresh_from_db()
    assert (changed.created_count, changed.updated_count, changed.unchanged_count) == (0, 1, 1)
    t2 = Tumour.objects.get(source_id="T2")
    assert t2.largest_size_mm == 65
    assert t2.history.first().history_change_reason == "Re-import from HIS-A"


def test_missing_columns_and_unknown_patients_are_reported(center_a, abstractor_a):
    from registry.importing import import_job_run

    job = import_job_create(
        site=center_a,
        domain="tumours",
        source_system="HIS-A",
        content=b"patient_source_id,source_id,colour\nNOPE,T1,red\n",
        filename="t.csv",
        acting_user=abstractor_a,
    )
    import_job_run(job=job, dry_run=True)
    fields = {p["field"] for p in job.problems}
    assert {"category", "topography", "colour"} <= fields
    assert template_csv("tumours").startswith("patient_source_id,source_id,category")


def test_other_center_cannot_see_the_import(client, center_a, abstractor_a, abstractor_b):
    client.force_login(abstractor_a)
    job = upload(client, "patients", PATIENTS_GOOD)
    client.force_login(abstractor_b)
    assert client.get(f"/registry/imports/{job.pk}/").status_code == 404
