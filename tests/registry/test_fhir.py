"""FHIR R4 bundle import: validated by fhir.resources, same checks and idempotence."""

from __future__ import annotations

import json

from registry.importing import import_job_create, import_job_run
from registry.models import ImportJob, RegistryPatient, Treatment, Tumour


def bundle(topography: str = "C22.1") -> bytes:
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Patient",
                        "id": "pat-1",
                        "gender": "female",
                        "birthDate": "1961-04-05",
                        "name": [{"family": "Chen", "given": ["Mei"]}],
                        "identifier": [
                            {"type": {"coding": [{"code": "PPN"}]}, "value": "E7654321"}
                        ],
                        "address": [{"country": "SG"}],
                    }
                },
                {
                    "resource": {
                        "resourceType": "Condition",
                        "id": "cond-1",
                        "subject": {"reference": "Patient/pat-1"},
                        "code": {
                            "coding": [
                                {"system": "urn:oid:2.16.840.1.113883.6.43.1", "code": "8160/3"}
                            ]
                        },
                        "bodySite": [{"coding": [{"code": topography}]}],
                        "onsetDateTime": "2025-02-01",
                        "evidence": [{"detail": [{"reference": "DiagnosticReport/path-1"}]}],
                    }
                },
                {
                    "resource": {
                        "resourceType": "Procedure",
                        "id": "proc-1",
                        "status": "completed",
                        "subject": {"reference": "Patient/pat-1"},
                        "code": {"text": "Right hepatectomy (resection)"},
                        "performedDateTime": "2025-02-20",
                    }
                },
                {
                    "resource": {
                        "resourceType": "Observation",
                        "id": "obs-1",
                        "status": "final",
                        "code": {"text": "AFP"},
                    }
                },
            ],
        }
    ).encode()


def run(site, user, content: bytes, *, dry_run: bool) -> ImportJob:
    job = import_job_create(
        site=site,
        domain="fhir",
        source_system="EMR",
        content=content,
        filename="b.json",
        acting_user=user,
    )
    return import_job_run(job=job, dry_run=dry_run)


def test_fhir_bundle_checks_then_imports_then_changes_nothing(center_a, abstractor_a):
    job = run(center_a, abstractor_a, bundle(), dry_run=True)
    assert job.status == ImportJob.Status.CHECKED, job.problems
    assert job.created_count == 3 and not RegistryPatient.objects.exists()
    job = run(center_a, abstractor_a, bundle(), dry_run=False)
    assert job.status == ImportJob.Status.DONE, job.problems
    tumour = Tumour.objects.get()
    assert (tumour.category, tumour.basis, tumour.patient.nationality.code) == (
        "icca",
        "histology",
        "SG",
    )
    assert Treatment.objects.get().kind == "resection"
    again = run(center_a, abstractor_a, bundle(), dry_run=False)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)


def test_bad_bundles_are_reported(center_a, abstractor_a):
    job = run(center_a, abstractor_a, bundle(topography="C23.9"), dry_run=True)
    assert job.status == ImportJob.Status.FAILED
    assert any(p["field"] == "morphology" for p in job.problems)
    job = run(
        center_a,
        abstractor_a,
        b'{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient", "birthDate": "5th of May"}}]}',
        dry_run=True,
    )
    assert job.status == ImportJob.Status.FAILED and "FHIR" in job.problems[0]["problem"]
    assert not RegistryPatient.objects.exists()


def test_partial_birth_dates_and_date_only_periods_are_read_not_crashed_on(center_a, abstractor_a):
    """A birthDate of only a year is a row problem on birth_date (the registry needs the
    day); a Procedure with a date-only performedPeriod imports its dates."""
    content = json.loads(bundle())
    patient, _condition, procedure, _obs = (e["resource"] for e in content["entry"])
    procedure.pop("performedDateTime")
    procedure["performedPeriod"] = {"start": "2025-02-20", "end": "2025-02-21"}
    job = run(center_a, abstractor_a, json.dumps(content).encode(), dry_run=False)
    assert job.status == ImportJob.Status.DONE, job.problems
    treatment = Treatment.objects.get()
    assert (treatment.start_date.isoformat(), treatment.end_date.isoformat()) == (
        "2025-02-20",
        "2025-02-21",
    )
    patient["birthDate"] = "1961"
    patient["id"] = "pat-2"
    job = run(center_a, abstractor_a, json.dumps(content).encode(), dry_run=True)
    assert job.status == ImportJob.Status.FAILED
    assert any(p["field"] == "birth_date" for p in job.problems), job.problems
