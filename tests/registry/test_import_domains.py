"""CSV templates for every domain (header + a documented example) and the imports of
pathology, molecular tests, their results (variants, fusions, copy-number changes) and
imaging: dry run with (row, field, problem) and nothing
written, the fixed file imports, re-importing it changes nothing."""

from __future__ import annotations

import csv
import io

import pytest

from registry.importing import DOMAINS, template_csv
from registry.models import (
    CopyNumberChange,
    Fusion,
    GenomicTest,
    ImagingStudy,
    ImportJob,
    PathologyReport,
    Variant,
)

from .test_import import PATIENTS_GOOD, TUMOURS, _run_jobs_on_commit, upload  # noqa: F401

PATHOLOGY_BAD = """tumour_source_id,source_id,protocol,protocol_version,report_date,specimen,histologic_type,grade,icca_subtype,margin,margin_distance_mm,nodes_examined,nodes_positive,perineural_invasion,vascular_invasion,pt,pn,ihc
T2,P1,CAP_ICC,4.2.0.0,2024-06-10,resection,8160/3,G2,small_duct,negative,5,6,9,yes,yes,pT2,pN1,CK7:positive
T2,P2,CAP_ICC,9.9,2024-06-11,biopsy,8160/3,G2,,,,,,yes,yes,,,
NOPE,P3,CAP_HCC,4.2.0.0,2024-06-12,biopsy,8170/3,G2,,,,,,,no,,,
T1,P4,CAP_HCC,4.2.0.0,2024-13-01,biopsy,8170/3,G2,,,,,,,no,,,CK7
"""
PATHOLOGY_GOOD = """tumour_source_id,source_id,protocol,protocol_version,report_date,specimen,histologic_type,grade,icca_subtype,margin,margin_distance_mm,nodes_examined,nodes_positive,perineural_invasion,vascular_invasion,pt,pn,ihc
T2,P1,CAP_ICC,4.2.0.0,2024-06-10,resection,8160/3,G2,small_duct,negative,5,6,1,yes,yes,pT2,pN1,CK7:positive;CK19:positive
T1,P4,CAP_HCC,4.2.0.0,2024-05-02,biopsy,8170/3,G2,,,,,,,no,,,HepPar1:positive
"""
GENOMICS_BAD = """patient_source_id,source_id,kind,lab,specimen,test_date,genes_covered,panel_size_mb,msi,tmb,pdl1_tps,pdl1_cps,her2
H2,G1,panel,Lab,tissue,2024-06-20,FGFR2;IDH1,,MSS,3.5,,,
H2,G2,ihc,Lab,tissue,2024-06-20,,,,,abc,,
H2,G3,ihc,Lab,tissue,2024-06-20,,,,4,,,9+
"""
GENOMICS_GOOD = """patient_source_id,source_id,kind,lab,specimen,test_date,genes_covered,panel_size_mb,msi,tmb,pdl1_tps,pdl1_cps,her2
H2,G1,panel,Lab,tissue,2024-06-20,FGFR2;IDH1,1.2,MSS,3.5,,,
H2,G2,ihc,Lab,tissue,2024-06-20,,,,,5,,2+
"""
IMAGING_BAD = """patient_source_id,source_id,study_instance_uid,modality,study_date,body_part,description,contrast_phases,dicomweb_url
H1,I1,not a uid,MR,2024-04-20,ABDOMEN,,arterial,
H1,I2,1.2.840.5,XX,2099-01-01,,,,notaurl
"""
IMAGING_GOOD = """patient_source_id,source_id,study_instance_uid,modality,study_date,body_part,description,contrast_phases,dicomweb_url
H1,I1,1.2.840.4,MR,2024-04-20,ABDOMEN,,arterial;portal_venous,
H1,I2,1.2.840.5,CT,2024-05-01,,,,https://pacs.example/dicomweb/studies/1.2.840.5
"""


def run(client, domain: str, content: str) -> ImportJob:
    job = upload(client, domain, content)
    job.refresh_from_db()
    if job.status == ImportJob.Status.CHECKED:
        client.post(f"/registry/imports/{job.pk}/")
        job.refresh_from_db()
    return job


@pytest.fixture
def imported(client, center_a, abstractor_a):
    client.force_login(abstractor_a)
    assert run(client, "patients", PATIENTS_GOOD).status == ImportJob.Status.DONE
    assert run(client, "tumours", TUMOURS).status == ImportJob.Status.DONE
    return client


def dry_run_then_import_then_nothing(client, domain, bad, expected, good, model) -> None:
    """The bad file is refused with each (row, field) named and nothing written; the
    good one imports two rows; importing it again changes nothing (no new history)."""
    refused = upload(client, domain, bad)
    refused.refresh_from_db()
    assert refused.status == ImportJob.Status.FAILED
    found = {(p["row"], p["field"]) for p in refused.problems}
    assert expected <= found, refused.problems
    assert all(p["problem"] for p in refused.problems)
    assert not model.objects.exists()

    done = run(client, domain, good)
    assert done.status == ImportJob.Status.DONE, done.problems
    assert (done.created_count, done.updated_count) == (2, 0)
    assert model.objects.count() == 2
    history = sum(o.history.count() for o in model.objects.all())

    again = run(client, domain, good)
    assert again.status == ImportJob.Status.DONE
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
    assert model.objects.count() == 2
    assert sum(o.history.count() for o in model.objects.all()) == history


@pytest.mark.parametrize(
    ("domain", "bad", "expected", "good", "model"),
    [
        (
            "pathology",
            PATHOLOGY_BAD,
            {
                (2, "nodes_positive"),
                (3, "protocol_version"),
                (4, "tumour_source_id"),
                (5, "report_date"),
                (5, "ihc"),
            },
            PATHOLOGY_GOOD,
            PathologyReport,
        ),
        (
            "genomic_tests",
            GENOMICS_BAD,
            {(2, "panel_size_mb"), (3, "pdl1_tps"), (4, "tmb"), (4, "her2")},
            GENOMICS_GOOD,
            GenomicTest,
        ),
        (
            "imaging_studies",
            IMAGING_BAD,
            {(2, "study_instance_uid"), (3, "modality"), (3, "study_date"), (3, "dicomweb_url")},
            IMAGING_GOOD,
            ImagingStudy,
        ),
    ],
)
def test_domain_import_dry_run_then_import_then_nothing(
    imported, domain, bad, expected, good, model
):
    dry_run_then_import_then_nothing(imported, domain, bad, expected, good, model)


def test_pathology_import_reads_ihc_markers(imported):
    run(imported, "pathology", PATHOLOGY_GOOD)
    report = PathologyReport.objects.get(source_id="P1")
    assert report.ihc == {"CK7": "positive", "CK19": "positive"}
    assert report.tumour.source_id == "T2"


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_template_has_header_and_a_documented_example(domain):
    rows = list(csv.reader(io.StringIO(template_csv(domain))))
    assert rows[0] == list(DOMAINS[domain].columns)
    assert len(rows) == 2 and len(rows[1]) == len(rows[0])
    example = dict(zip(rows[0], rows[1], strict=True))
    assert all(example[c] for c in DOMAINS[domain].required), example


def test_template_download(client, center_a, abstractor_a, coordinator_site_a):
    client.force_login(abstractor_a)
    response = client.get("/registry/imports/templates/pathology.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    assert text.startswith("tumour_source_id,source_id,protocol")
    assert client.get("/registry/imports/templates/nope.csv").status_code == 404
    page = client.get("/registry/imports/").content.decode()
    for domain in DOMAINS:
        assert f"/registry/imports/templates/{domain}.csv" in page
    client.force_login(coordinator_site_a)
    assert client.get("/registry/imports/templates/pathology.csv").status_code == 403


def test_template_examples_import_cleanly(imported):
    """The documented examples are valid rows (on the patients and diagnoses above)."""
    for domain in ("pathology", "genomic_tests", "imaging_studies"):
        job = upload(imported, domain, template_csv(domain))
        job.refresh_from_db()
        assert job.status == ImportJob.Status.CHECKED, (domain, job.problems)


# --- a molecular test's results: no source id of their own, matched by natural key -------

VARIANTS_BAD = """test_source_id,gene,hgvs_c,hgvs_p,vaf,classification,chrom,position,ref,alt
G1,idh1,c.394C>T,p.Arg132Cys,0.31,pathogenic,chr2,208248389,G,A
G1,KRAS,12G>D,,1.7,,,,,
NOPE,TP53,c.524G>A,p.Arg175His,,,,,,
G1,BAP1,c.1A>G,,0.2,maybe,,,,
G1,BAP1,c.1A>G,,0.2,,,,,
"""
VARIANTS_GOOD = """test_source_id,gene,hgvs_c,hgvs_p,vaf,classification,chrom,position,ref,alt
G1,IDH1,c.394C>T,p.Arg132Cys,0.31,pathogenic,chr2,208248389,G,A
G1,KRAS,c.35G>A,p.Gly12Asp,0.12,pathogenic,,,,
"""
FUSIONS_BAD = """test_source_id,gene_5,gene_3,breakpoint_5,breakpoint_3,in_frame
G1,FGFR2,FGFR2,,,yes
G1,FGFR2,BICC1,exon 17,exon 3,perhaps
"""
FUSIONS_GOOD = """test_source_id,gene_5,gene_3,breakpoint_5,breakpoint_3,in_frame
G1,FGFR2,BICC1,exon 17,exon 3,yes
G2,FGFR2,AHCYL1,,,
"""
CNV_BAD = """test_source_id,gene,change,copy_number
G1,CDKN2A,vanished,0
G1,MDM2,amplification,many
"""
CNV_GOOD = """test_source_id,gene,change,copy_number
G1,CDKN2A,deep_deletion,0
G1,MDM2,amplification,12
"""


@pytest.fixture
def tested(imported):
    assert run(imported, "genomic_tests", GENOMICS_GOOD).status == ImportJob.Status.DONE
    return imported


@pytest.mark.parametrize(
    ("domain", "bad", "expected", "good", "model"),
    [
        (
            "variants",
            VARIANTS_BAD,
            {
                (2, "gene"),
                (3, "hgvs_c"),
                (3, "vaf"),
                (4, "test_source_id"),
                (5, "classification"),
                (6, "gene"),  # the same variant of the same test twice
            },
            VARIANTS_GOOD,
            Variant,
        ),
        ("fusions", FUSIONS_BAD, {(2, "gene_3"), (3, "in_frame")}, FUSIONS_GOOD, Fusion),
        (
            "copy_numbers",
            CNV_BAD,
            {(2, "change"), (3, "copy_number")},
            CNV_GOOD,
            CopyNumberChange,
        ),
    ],
)
def test_result_import_dry_run_then_import_then_nothing(tested, domain, bad, expected, good, model):
    dry_run_then_import_then_nothing(tested, domain, bad, expected, good, model)


def test_a_changed_result_is_updated_with_the_reimport_reason(tested):
    run(tested, "variants", VARIANTS_GOOD)
    changed = VARIANTS_GOOD.replace("0.12,pathogenic", "0.15,likely_pathogenic")
    job = run(tested, "variants", changed)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 1)
    kras = Variant.objects.get(gene="KRAS")
    assert str(kras.vaf) == "0.1500" and kras.classification == "likely_pathogenic"
    assert kras.test.source_id == "G1"
    assert kras.history.first().history_change_reason.startswith("Re-import")


def test_result_templates_import_cleanly(tested):
    for domain in ("variants", "fusions", "copy_numbers"):
        job = upload(tested, domain, template_csv(domain))
        job.refresh_from_db()
        assert job.status == ImportJob.Status.CHECKED, (domain, job.problems)
