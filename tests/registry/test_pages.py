"""Registry pages: a center abstractor enters a patient through the forms; another
center's abstractor gets 404; a network researcher sees figures only."""

from __future__ import annotations

import io

import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from registry.models import ImagingStudy, RegistryPatient, StagingRecord, Tumour, Variant

from .conftest import HCC

VCF = b"""##fileformat=VCFv4.2
##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p'">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##contig=<ID=chr2>
##contig=<ID=chr10>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR
chr2\t208248389\t.\tG\tA\t50\tPASS\tANN=A|missense_variant|MODERATE|IDH1|ENSG00000138413|transcript|ENST00000345146|protein_coding|4/10|c.394C>T|p.Arg132Cys\tGT:AD\t0/1:70,30
chr10\t121520000\t.\tC\tT\t50\tPASS\t.\tGT:AD\t0/1:50,50
"""


def dicom_bytes() -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.PatientName = "Secret^Person"
    ds.PatientID = "HIS-123"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.Modality = "MR"
    ds.StudyDate = "20250220"
    ds.BodyPartExamined = "LIVER"
    ds.StudyDescription = "MRI liver"
    ds.SeriesDescription = "T1 arterial phase"
    ds.ContrastBolusAgent = "Gd-EOB-DTPA"
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def test_abstractor_enters_a_whole_patient_through_the_forms(client, center_a, abstractor_a):
    client.force_login(abstractor_a)
    response = client.post(
        "/registry/patients/new/",
        {
            "full_name": "王强",
            "id_document_type": "passport",
            "id_document_number": "E1234567",
            "sex": "M",
            "birth_date": "1962-01-01",
            "nationality": "KR",
            "is_expatriate": "on",
            "hbv": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    patient = RegistryPatient.objects.get()
    base = f"/registry/patients/{patient.pk}"
    form = {**HCC, "diagnosis_date": "2025-03-01", "metastatic_sites": []}
    form.update({k: ("true" if v else "false") for k, v in form.items() if isinstance(v, bool)})
    response = client.post(f"{base}/tumour/add/", {**form, "topography": "C23.9"})
    assert response.status_code == 200
    assert "This histology is not expected at topography C23.9." in response.content.decode()
    assert client.post(f"{base}/tumour/add/", form).status_code == 302
    tumour = Tumour.objects.get()
    response = client.post(
        f"/registry/tumours/{tumour.pk}/staging/add/",
        {"system": "BCLC", "staged_on": "2025-03-05", "child_pugh_class": "A", "ecog": "0"},
    )
    assert response.status_code == 302
    assert StagingRecord.objects.get().computed_value == "A"
    response = client.post(
        f"{base}/genomic-test/add/",
        {
            "kind": "panel",
            "lab": "Lab",
            "specimen": "tissue",
            "test_date": "2025-03-20",
            "genes_covered": "IDH1, FGFR2",
        },
    )
    assert response.status_code == 302
    test = patient.genomic_tests.get()
    response = client.post(
        f"/registry/genomic-tests/{test.pk}/vcf/add/",
        {"vcf_file": _named(VCF, "tumour.vcf")},
    )
    assert response.status_code == 302
    variant = Variant.objects.get()
    assert (variant.gene, variant.hgvs_c, variant.hgvs_p, float(variant.vaf)) == (
        "IDH1",
        "c.394C>T",
        "p.Arg132Cys",
        0.3,
    )
    test.refresh_from_db()
    assert test.vcf_file and len(test.vcf_sha256) == 64
    response = client.post(f"{base}/dicom/add/", {"dicom_file": _named(dicom_bytes(), "a.dcm")})
    assert response.status_code == 302, response.content.decode()[-2000:]
    study = ImagingStudy.objects.get()
    assert study.modality == "MR" and study.contrast_phases == ["arterial"]
    assert "PatientName" not in study.header and "HIS-123" not in str(study.header)
    response = client.post(
        f"{base}/treatment/add/",
        {
            "kind": "systemic",
            "start_date": "2025-04-01",
            "intent": "palliative",
            "line": "1",
            "regimen": "Lenvatinib",
            "drugs": "lenvatinib",
        },
    )
    assert response.status_code == 302
    response = client.post(
        f"{base}/follow-up/add/",
        {
            "contact_date": "2025-10-01",
            "vital_status": "dead",
            "status_source": "record",
            "event": "progression",
            "event_date": "2025-08-01",
            "event_method": "imaging",
            "death_date": "2025-10-01",
            "cause_of_death": "cancer",
        },
    )
    assert response.status_code == 302
    page = client.get(f"{base}/").content.decode()
    assert "王强" in page and "IDH1" in page and "Lenvatinib" in page
    assert "214" in page  # OS: 2025-03-01 -> 2025-10-01


def _named(content: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(content)
    f.name = name
    return f


def test_bad_vcf_and_dicom_are_refused_with_a_message(client, rpatient_a, abstractor_a):
    from registry.services import genomic_test_record

    test = genomic_test_record(
        patient=rpatient_a,
        acting_user=abstractor_a,
        kind="panel",
        lab="L",
        specimen="tissue",
        test_date="2025-01-01",
    )
    client.force_login(abstractor_a)
    response = client.post(
        f"/registry/genomic-tests/{test.pk}/vcf/add/", {"vcf_file": _named(b"hello", "x.vcf")}
    )
    assert response.status_code == 200
    assert "cannot be read as a VCF" in response.content.decode()
    response = client.post(
        f"/registry/patients/{rpatient_a.pk}/dicom/add/",
        {"dicom_file": _named(b"x" * 200, "x.dcm")},
    )
    assert response.status_code == 200 and "cannot be read as DICOM" in response.content.decode()
    assert not Variant.objects.exists() and not ImagingStudy.objects.exists()


def test_other_center_abstractor_gets_404(client, rpatient_a, tumour_a, abstractor_b):
    client.force_login(abstractor_b)
    for url in (
        f"/registry/patients/{rpatient_a.pk}/",
        f"/registry/patients/{rpatient_a.pk}/edit/",
        f"/registry/patients/{rpatient_a.pk}/tumour/add/",
        f"/registry/tumours/{tumour_a.pk}/staging/add/",
        f"/history/registry.registrypatient/{rpatient_a.pk}/",
        f"/api/v1/registry/patients/{rpatient_a.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    assert rpatient_a.record_number not in client.get("/registry/").content.decode()


def test_network_researcher_sees_aggregates_only(client, rpatient_a, tumour_a, researcher):
    client.force_login(researcher)
    assert client.get("/registry/").status_code == 403
    assert client.get(f"/registry/patients/{rpatient_a.pk}/").status_code == 404
    page = client.get("/registry/aggregates/").content.decode()
    # one patient, one tumour: below the small-cell threshold, shown as "< 5"
    assert "<td>CA</td>" in page and "&lt; 5" in page and "<td>1</td>" not in page


@pytest.mark.parametrize("persona", ["coordinator_site_a", "data_manager"])
def test_trial_roles_cannot_enter_registry_data(client, rpatient_a, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/registry/patients/new/").status_code == 403


def test_history_page_masks_identity_for_roles_without_it(
    client, rpatient_a, abstractor_a, data_manager
):
    from registry.services import registry_patient_update

    registry_patient_update(
        patient=rpatient_a, acting_user=abstractor_a, reason="Typo", full_name="李娜娜"
    )
    url = f"/history/registry.registrypatient/{rpatient_a.pk}/"
    client.force_login(abstractor_a)
    page = client.get(url).content.decode()
    assert "李娜娜" in page and "Typo" in page
    client.force_login(data_manager)
    page = client.get(url).content.decode()
    assert "李娜娜" not in page and "••••••" in page
