"""The frozen extract of an approved data request: what it holds (approving centers,
consent tiers), that nothing identifying leaves, the manifest's checksums, the timed
download by the requester only (logged), expiry, failure and retry."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import zipfile
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from registry.models import RegistryPatient
from research import extracts as svc
from research.models import DataRequest, Extract, ExtractDownload
from sites.roles import Role

from ..api.test_schemathesis import CHECKS, wsgi_on_test_transaction  # noqa: F401
from .conftest import center_persona
from .test_requests import cohort, fields  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def consents(network: dict) -> dict:
    """A0-A4 agreed to research use (A5 refused, A6 was never asked), A0-A2 and every B
    patient also to genomic research; only A0 and B0 (the same person) to recontact."""
    a, b = network["a"], network["b"]
    today = datetime.date(2026, 1, 10)
    for i, p in enumerate(a):
        RegistryPatient.objects.filter(pk=p.pk).update(
            consent_research=True if i < 5 else (False if i == 5 else None),
            consent_genomic=i < 3 if i < 6 else None,
            consent_recontact=i == 0 if i < 6 else None,
            consent_date=today if i < 6 else None,
        )
    for i, p in enumerate(b[:3]):
        RegistryPatient.objects.filter(pk=p.pk).update(
            consent_research=True,
            consent_genomic=True,
            consent_recontact=i == 0,
            consent_date=today,
        )
    return network


@pytest.fixture
def stewards(center_a: Any, center_b: Any) -> dict:
    return {
        "CA": center_persona("steward_a", Role.CENTER_STEWARD, center_a),
        "CB": center_persona("steward_b", Role.CENTER_STEWARD, center_b),
    }


def approved(researcher: Any, cohort: Any, stewards: dict, centers: list, **over: Any) -> Extract:  # noqa: F811
    req = svc.request_submit(acting_user=researcher, **fields(cohort, centers, **over))
    for site in centers:
        svc.request_decide(
            acting_user=stewards[site.code], data_request=req, site=site, approve=True
        )
    return Extract.objects.get(request=req)


def members(extract: Extract) -> dict[str, bytes]:
    with zipfile.ZipFile(extract.absolute_path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_the_extract_holds_the_consenting_records_of_the_approving_centers(
    researcher: Any,
    cohort: Any,  # noqa: F811
    consents: dict,
    stewards: dict,
    center_a: Any,
    center_b: Any,
) -> None:
    extract = approved(
        researcher,
        cohort,
        stewards,
        [center_a, center_b],
        include_genomics=True,
        hgr_approval_number="HGR-2026-0042",
        formats=["cbioportal", "omop", "fhir"],
    )
    built = svc.extract_build(extract_id=extract.pk)
    assert built.status == Extract.Status.DONE
    # 10 records match (7 at A, 3 at B); A5 refused and A6 was never asked
    assert (built.patients, built.persons, built.excluded_no_consent) == (8, 7, 2)
    assert built.genomics_withheld == 2  # A3 and A4: research use, but not genomics
    assert built.expires_at - built.finished_at == datetime.timedelta(days=7)
    content = built.absolute_path.read_bytes()
    assert hashlib.sha256(content).hexdigest() == built.sha256
    files = members(built)
    manifest = json.loads(files["MANIFEST.json"])
    assert manifest["request"] == f"DR-{built.request_id}"
    assert manifest["human_genetic_resources_approval"] == "HGR-2026-0042"
    assert [c["code"] for c in manifest["centers"]] == ["CA", "CB"]
    assert manifest["counts"]["patient_records"] == 8
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"MANIFEST.json"}
    for path, entry in listed.items():
        assert hashlib.sha256(files[path]).hexdigest() == entry["sha256"], path
        assert len(files[path]) == entry["bytes"]
    assert {"tables/patients.parquet", "tables/patients.csv", "fhir/bundle.json"} <= set(files)
    assert any(p.startswith("cbioportal/") for p in files)
    assert any(p.startswith("omop/") for p in files)

    patients = pq.read_table(io.BytesIO(files["tables/patients.parquet"])).to_pylist()
    assert len(patients) == 8
    assert len({p["subject_id"] for p in patients}) == 7  # A0 and B0: one person
    fusions = pq.read_table(io.BytesIO(files["tables/fusions.parquet"])).to_pylist()
    # A0-A2 and B0-B2 agreed to genomic research; A3 and A4 did not
    assert sorted(f["center"] for f in fusions) == ["CA"] * 3 + ["CB"] * 3
    assert {(f["subject_id"], f["center"]) for f in fusions} <= {
        (p["subject_id"], p["center"]) for p in patients
    }


def test_nothing_identifying_leaves(
    researcher: Any,
    cohort: Any,  # noqa: F811
    consents: dict,
    stewards: dict,
    center_a: Any,
    center_b: Any,
) -> None:
    extract = approved(
        researcher,
        cohort,
        stewards,
        [center_a, center_b],
        include_genomics=True,
        hgr_approval_number="HGR-1",
        formats=["cbioportal", "omop", "fhir"],
    )
    built = svc.extract_build(extract_id=extract.pk)
    files = members(built)
    text = "\n".join(
        data.decode("utf-8") for name, data in files.items() if not name.endswith(".parquet")
    )
    for name, data in files.items():
        if name.endswith(".parquet"):
            table = pq.read_table(io.BytesIO(data)).to_pylist()
            text += "\n" + json.dumps(table, default=str)
    people = RegistryPatient.objects.filter(consent_research=True)
    assert people.count() == 8
    for p in people:
        assert p.full_name not in text
        assert p.id_document_number not in text
        assert p.record_number not in text
        assert p.national_pseudonym not in text
        assert p.birth_date.isoformat() not in text
    for tumour_date in {t.diagnosis_date for p in people for t in p.tumours.all()}:
        assert tumour_date.isoformat() not in text  # dates are shifted per person


def test_a_second_extract_of_the_same_people_has_other_subject_ids(
    researcher: Any,
    cohort: Any,  # noqa: F811
    consents: dict,
    stewards: dict,
    center_a: Any,
) -> None:
    first = svc.extract_build(extract_id=approved(researcher, cohort, stewards, [center_a]).pk)
    second = svc.extract_build(extract_id=approved(researcher, cohort, stewards, [center_a]).pk)
    ids = [
        {
            row["subject_id"]
            for row in csv.DictReader(io.StringIO(members(e)["tables/patients.csv"].decode()))
        }
        for e in (first, second)
    ]
    assert len(ids[0]) == len(ids[1]) == 5
    assert not ids[0] & ids[1]  # two extracts cannot be joined on their subject ids


def test_recontact_and_no_genomics(
    researcher: Any,
    cohort: Any,  # noqa: F811
    consents: dict,
    stewards: dict,
    center_a: Any,
    center_b: Any,
) -> None:
    extract = approved(researcher, cohort, stewards, [center_a, center_b], recontact=True)
    built = svc.extract_build(extract_id=extract.pk)
    assert (built.patients, built.persons, built.excluded_no_consent) == (2, 1, 8)
    names = set(members(built))
    assert "tables/patients.csv" in names
    assert not any("fusion" in n or "variant" in n or "genomic" in n for n in names)


def test_only_the_approving_centers_records(
    researcher: Any,
    cohort: Any,  # noqa: F811
    consents: dict,
    stewards: dict,
    center_b: Any,
) -> None:
    built = svc.extract_build(extract_id=approved(researcher, cohort, stewards, [center_b]).pk)
    rows = list(csv.DictReader(io.StringIO(members(built)["tables/patients.csv"].decode())))
    assert {r["center"] for r in rows} == {"CB"}
    assert len(rows) == 3


def test_the_requester_downloads_until_expiry_and_every_download_is_logged(
    client: Any,
    researcher: Any,
    researcher_2: Any,
    cohort: Any,  # noqa: F811
    consents: dict,
    stewards: dict,
    center_a: Any,
) -> None:
    built = svc.extract_build(extract_id=approved(researcher, cohort, stewards, [center_a]).pk)
    url = reverse("research:extract_file", args=[built.request_id])
    detail = reverse("research:request", args=[built.request_id])
    client.force_login(stewards["CA"])
    page = client.get(detail).content.decode()
    assert built.sha256 in page and "Only the requester downloads the extract." in page
    assert client.get(url).status_code == 403
    client.force_login(researcher_2)
    assert client.get(url).status_code == 404
    client.force_login(researcher)
    page = client.get(detail).content.decode()
    assert url in page and "5 patient records (5 persons)" in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == built.sha256
    log = ExtractDownload.objects.get()
    assert (log.username, log.sha256) == ("researcher", built.sha256)
    assert AccessLog.objects.filter(
        event=AccessLog.Event.DOWNLOAD, object_type="research.extract", username="researcher"
    ).exists()
    status = client.get(reverse("research:extract_status", args=[built.request_id])).json()
    assert status["downloadable"] and status["sha256"] == built.sha256

    Extract.objects.filter(pk=built.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    assert svc.extracts_expire_due() == 1
    built.refresh_from_db()
    assert built.status == Extract.Status.EXPIRED
    assert not built.absolute_path.exists()
    gone = client.get(url)
    assert gone.status_code == 410
    assert "expired" in gone.content.decode()
    assert ExtractDownload.objects.count() == 1


def test_a_failed_build_leaves_no_file_and_runs_again(
    monkeypatch: Any,
    client: Any,
    researcher: Any,
    cohort: Any,  # noqa: F811
    consents: dict,
    stewards: dict,
    center_a: Any,
    media: Any,
) -> None:
    from research import interop

    extract = approved(researcher, cohort, stewards, [center_a])

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(interop, "write", broken)
    with pytest.raises(OSError):
        svc.extract_build(extract_id=extract.pk)
    extract.refresh_from_db()
    assert extract.status == Extract.Status.FAILED
    assert "disk full" in extract.error
    assert not [p for p in media.rglob("*") if p.is_file()]
    monkeypatch.undo()
    client.force_login(researcher)
    queued: list[int] = []
    monkeypatch.setattr(svc, "_enqueue", queued.append)
    response = client.post(reverse("research:extract_retry", args=[extract.request_id]))
    assert response.status_code == 302
    built = svc.extract_build(extract_id=extract.pk)
    assert built.status == Extract.Status.DONE and built.attempts == 2


def test_a_requester_who_lost_the_research_role_gets_nothing(
    researcher: Any,
    cohort: Any,  # noqa: F811
    consents: dict,
    stewards: dict,
    center_a: Any,
) -> None:
    from django.core.exceptions import PermissionDenied

    from access.scoping import forget_scope
    from sites.models import Membership

    extract = approved(researcher, cohort, stewards, [center_a])
    Membership.objects.filter(user=researcher).update(is_active=False)
    forget_scope(researcher)
    with pytest.raises(PermissionDenied):
        svc.extract_build(extract_id=extract.pk)
    extract.refresh_from_db()
    assert extract.status == Extract.Status.FAILED
    assert extract.file_path == ""
    assert DataRequest.objects.get().status == DataRequest.Status.APPROVED


# --- own-center export of a cohort ------------------------------------------------------


def test_center_staff_export_their_own_centers_cohort_pseudonymised(
    client: Any,
    api_for: Any,
    researcher: Any,
    cohort: Any,  # noqa: F811
    consents: dict,
    abstractor_b: Any,
) -> None:
    from research.cohorts import cohort_update
    from research.models import CohortQuery

    cohort_update(cohort=cohort, acting_user=researcher, is_shared=True, reason="share")
    client.force_login(abstractor_b)
    page = client.get(reverse("research:cohort", args=[cohort.pk])).content.decode()
    assert 'id="own-center-export"' in page
    url = reverse("research:cohort_export", args=[cohort.pk])
    response = client.get(url + "?kind=cbioportal")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("MANIFEST.json"))
        text = "\n".join(zf.read(n).decode() for n in names)
    assert manifest["centers"] == ["CB"] and manifest["records"] == 3
    assert any(n.startswith("cbioportal/") for n in names)
    for p in RegistryPatient.objects.all():
        assert p.full_name not in text and p.record_number not in text
    logged = CohortQuery.objects.get(kind=CohortQuery.Kind.EXPORT)
    assert (logged.username, logged.result) == ("abs_b", {"records": 3, "format": "cbioportal"})
    bad = client.get(url + "?kind=xlsx")
    assert bad.status_code == 302  # back to the cohort with the message
    api = api_for(abstractor_b)
    assert api.get(f"/api/v1/registry/cohorts/{cohort.pk}/export/?kind=xlsx").status_code == 400
    ok = api.get(f"/api/v1/registry/cohorts/{cohort.pk}/export/?kind=omop")
    assert ok.status_code == 200 and ok["Content-Type"] == "application/zip"
    # an aggregate-only role never gets rows
    assert (
        api_for(researcher)
        .get(f"/api/v1/registry/cohorts/{cohort.pk}/export/?kind=omop")
        .status_code
        == 403
    )


def test_data_request_reads_conform_to_the_schema(
    wsgi_on_test_transaction: Any,  # noqa: F811
    researcher: Any,
    cohort: Any,  # noqa: F811
    consents: dict,
    stewards: dict,
    center_a: Any,
) -> None:
    import schemathesis

    from api.services import api_token_create
    from config.wsgi import application

    built = svc.extract_build(extract_id=approved(researcher, cohort, stewards, [center_a]).pk)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    headers = {"Authorization": f"Bearer {api_token_create(user=researcher, name='s')[1]}"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" or not operation.path.startswith(
            "/api/v1/registry/data-requests/"
        ):
            continue
        params = {"id": built.request_id} if "{id}" in operation.path else {}
        response = operation.Case(path_parameters=params).call_and_validate(
            headers=headers, checks=CHECKS
        )
        assert response.status_code == 200, (operation.path, response.content[:200])
        checked.append(operation.path)
    assert len(checked) == 4  # list, detail, extract, download
