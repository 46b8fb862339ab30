"""Registry data for the interoperability exports, entered through the registry services:
an iCCA patient with every domain (FGFR2::BICC1 fusion, IDH1 p.R132C, CDKN2A deep
deletion, AJCC stage, CAP pathology, MRI, resection then lenvatinib, death), the same
person registered again at a second center, and an HCC patient without molecular tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from registry.services import (
    copy_number_record,
    followup_record,
    fusion_record,
    genomic_test_record,
    imaging_study_record,
    lirads_observation_record,
    pathology_report_record,
    registry_patient_register,
    staging_compute,
    treatment_record,
    tumour_record,
    variant_record,
)

D = datetime.date
KEY = b"interop-test-key-0123456789abcdef"

ICCA = dict(
    category="icca",
    topography="C22.1",
    morphology="8160/3",
    basis="histology",
    focality="unifocal",
    tumour_count=1,
    largest_size_mm=45,
    vascular_invasion="none",
    extrahepatic_invasion=False,
    peritoneum_perforated=False,
    nodes_positive=False,
    metastatic_sites=[],
)
HCC = dict(
    ICCA,
    category="hcc",
    topography="C22.0",
    morphology="8170/3",
    basis="imaging",
    largest_size_mm=38,
)


@dataclass
class Network:
    icca_a: Any
    icca_b: Any  # the same person at center B
    hcc_b: Any
    identity: list[str] = field(default_factory=list)  # strings no export may contain
    true_dates: list[datetime.date] = field(default_factory=list)  # unshifted dates
    uids: list[str] = field(default_factory=list)


ICCA_PERSON = dict(
    full_name="王建国",
    id_document_type="passport",
    id_document_number="E98765432",
    sex="M",
    birth_date=D(1958, 7, 19),
    nationality="CN",
    hbv=True,
    hcv=False,
    liver_flukes=True,
)
HCC_PERSON = dict(
    full_name="Maria Rossi",
    id_document_type="passport",
    id_document_number="YA4455667",
    sex="F",
    birth_date=D(1949, 11, 23),
    nationality="IT",
    is_expatriate=True,
    hbv=False,
    hcv=True,
    cirrhosis=True,
)


def build_network(center_a: Any, abstractor_a: Any, center_b: Any, abstractor_b: Any) -> Network:
    a = registry_patient_register(
        site=center_a, acting_user=abstractor_a, source_system="HIS", source_id="MRN-000777",
        **ICCA_PERSON,
    )  # fmt: skip
    tumour = tumour_record(
        patient=a,
        acting_user=abstractor_a,
        diagnosis_date=D(2024, 3, 1),
        source_system="HIS",
        source_id="DX-4711",
        **ICCA,
    )
    staging_compute(
        tumour=tumour, system="AJCC8_ICC", staged_on=D(2024, 3, 5), inputs={}, acting_user=abstractor_a
    )  # fmt: skip
    pathology_report_record(
        tumour=tumour,
        acting_user=abstractor_a,
        protocol="CAP_ICC",
        protocol_version="4.2.0.0",
        report_date=D(2024, 3, 22),
        specimen="resection",
        histologic_type="8160/3",
        grade="G2",
        icca_subtype="small_duct",
        margin="negative",
        margin_distance_mm=5,
        nodes_examined=6,
        nodes_positive=0,
        perineural_invasion="no",
        vascular_invasion="no",
        pt="pT1a",
        pn="pN0",
        ihc={"CK7": "positive", "CK19": "positive"},
    )
    test = genomic_test_record(
        patient=a,
        tumour=tumour,
        acting_user=abstractor_a,
        kind="panel",
        lab="Shanghai Genomics Lab",
        specimen="tissue",
        test_date=D(2024, 4, 2),
        genes_covered=["FGFR2", "IDH1", "CDKN2A", "KRAS", "TP53"],
        panel_size_mb=1.2,
        tmb=2.5,
        msi="MSS",
        pdl1_tps=5,
        source_system="LIS",
        source_id="NGS-2024-0042",
    )
    variant_record(
        test=test,
        acting_user=abstractor_a,
        gene="IDH1",
        hgvs_c="c.394C>T",
        hgvs_p="p.Arg132Cys",
        vaf=0.31,
        classification="pathogenic",
        chrom="chr2",
        position=208248389,
        ref="G",
        alt="A",
    )
    fusion_record(
        test=test,
        acting_user=abstractor_a,
        gene_5="FGFR2",
        gene_3="BICC1",
        breakpoint_5="chr10:121478334",
        breakpoint_3="chr10:58819614",
        in_frame=True,
    )
    copy_number_record(test=test, acting_user=abstractor_a, gene="CDKN2A", change="deep_deletion")
    uid = "1.2.840.113619.2.55.3.604688119.971.1709251234.1"
    study = imaging_study_record(
        patient=a,
        acting_user=abstractor_a,
        study_instance_uid=uid,
        modality="MR",
        study_date=D(2024, 2, 20),
        body_part="LIVER",
        description="MRI liver 王建国",
        contrast_phases=["arterial", "portal"],
        dicomweb_url="https://pacs.center-a.example/dicomweb/studies/" + uid,
    )
    lirads_observation_record(
        study=study, acting_user=abstractor_a, label="O1", segment=7, size_mm=45, category="LR-M"
    )
    treatment_record(
        patient=a,
        tumour=tumour,
        acting_user=abstractor_a,
        kind="resection",
        start_date=D(2024, 3, 15),
        intent="curative",
    )
    treatment_record(
        patient=a,
        tumour=tumour,
        acting_user=abstractor_a,
        kind="systemic",
        start_date=D(2024, 6, 3),
        end_date=D(2024, 9, 27),
        intent="palliative",
        line=1,
        regimen="Lenvatinib",
        drugs=["lenvatinib"],
        best_response="PD",
    )
    followup_record(
        patient=a,
        acting_user=abstractor_a,
        contact_date=D(2024, 8, 14),
        vital_status="alive",
        status_source="visit",
        event="recurrence",
        event_date=D(2024, 8, 14),
        event_method="imaging",
    )
    followup_record(
        patient=a,
        acting_user=abstractor_a,
        contact_date=D(2024, 12, 9),
        vital_status="dead",
        status_source="record",
        death_date=D(2024, 12, 9),
        cause_of_death="cancer",
    )

    # the same person (same passport) at center B: a second-opinion record
    b = registry_patient_register(site=center_b, acting_user=abstractor_b, **ICCA_PERSON)
    tumour_b = tumour_record(
        patient=b, acting_user=abstractor_b, diagnosis_date=D(2024, 3, 11), **ICCA
    )
    treatment_record(
        patient=b,
        tumour=tumour_b,
        acting_user=abstractor_b,
        kind="tace",
        start_date=D(2024, 10, 16),
        intent="palliative",
    )
    followup_record(
        patient=b,
        acting_user=abstractor_b,
        contact_date=D(2024, 10, 30),
        vital_status="alive",
        status_source="phone",
    )

    # HCC at center B, no molecular test
    h = registry_patient_register(site=center_b, acting_user=abstractor_b, **HCC_PERSON)
    tumour_h = tumour_record(
        patient=h, acting_user=abstractor_b, diagnosis_date=D(2023, 5, 17), **HCC
    )
    staging_compute(
        tumour=tumour_h, system="BCLC", staged_on=D(2023, 5, 19),
        inputs={"ecog": 0, "child_pugh_class": "A"}, acting_user=abstractor_b,
    )  # fmt: skip
    treatment_record(
        patient=h,
        tumour=tumour_h,
        acting_user=abstractor_b,
        kind="rfa",
        start_date=D(2023, 6, 6),
        intent="curative",
    )
    followup_record(
        patient=h,
        acting_user=abstractor_b,
        contact_date=D(2025, 1, 28),
        vital_status="alive",
        status_source="visit",
    )
    return Network(
        icca_a=a,
        icca_b=b,
        hcc_b=h,
        identity=[
            "王建国",
            "Maria Rossi",
            "Rossi",
            "E98765432",
            "YA4455667",
            a.record_number,
            b.record_number,
            h.record_number,
            "MRN-000777",
            "DX-4711",
            "NGS-2024-0042",
            "Shanghai Genomics Lab",
            a.national_pseudonym,
            h.national_pseudonym,
            "1958-07-19",
            "1949-11-23",
            "pacs.center-a",
        ],
        true_dates=[
            D(2024, 3, 1),
            D(2024, 3, 5),
            D(2024, 3, 22),
            D(2024, 4, 2),
            D(2024, 2, 20),
            D(2024, 3, 15),
            D(2024, 6, 3),
            D(2024, 9, 27),
            D(2024, 8, 14),
            D(2024, 12, 9),
            D(2024, 3, 11),
            D(2024, 10, 16),
            D(2024, 10, 30),
            D(2023, 5, 17),
            D(2023, 5, 19),
            D(2023, 6, 6),
            D(2025, 1, 28),
        ],
        uids=[uid],
    )


def clean_key(network: Network) -> bytes:
    """A pseudonymisation key under which no shifted date happens to equal one of the
    network's real dates, so that "no real date in any file" is a sharp test (with ±180
    days of shift, some key would map a diagnosis onto a real treatment date by chance)."""
    from research.interop.dataset import Pseudonymiser

    real = set(network.true_dates)
    people = {network.icca_a.national_pseudonym, network.hcc_b.national_pseudonym}
    for n in range(256):
        key = KEY + bytes([n])
        p = Pseudonymiser(key)
        shifted = {p.date(d, person) for d in real for person in people}
        if not shifted & real:
            return key
    raise AssertionError("no clean key")  # pragma: no cover
