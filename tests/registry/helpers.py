"""One record of every registry model at a center (through the services)."""

from __future__ import annotations

import datetime
from typing import Any

from registry.models import ImportJob
from registry.services import (
    copy_number_record,
    followup_record,
    fusion_record,
    genomic_test_record,
    imaging_study_record,
    lirads_observation_record,
    pathology_report_record,
    staging_compute,
    treatment_record,
    tumour_record,
    variant_record,
)

from .conftest import HCC

D = datetime.date


def center_records(patient: Any, user: Any, *, tag: str) -> dict[str, Any]:
    tumour = tumour_record(patient=patient, acting_user=user, **HCC)
    staging = staging_compute(
        tumour=tumour, system="AJCC8_LIVER", staged_on=D(2025, 3, 5), inputs={}, acting_user=user
    )
    pathology = pathology_report_record(
        tumour=tumour,
        acting_user=user,
        protocol="CAP_HCC",
        protocol_version="4.2.0.0",
        report_date=D(2025, 3, 10),
        specimen="biopsy",
        histologic_type="8170/3",
        grade="G2",
        vascular_invasion="no",
    )
    test = genomic_test_record(
        patient=patient,
        acting_user=user,
        kind="panel",
        lab=f"Lab {tag}",
        specimen="tissue",
        test_date=D(2025, 3, 20),
        genes_covered=["FGFR2", "IDH1"],
        panel_size_mb=1.2,
        tmb=4.1,
        msi="MSS",
    )
    variant = variant_record(test=test, acting_user=user, gene="IDH1", hgvs_p="p.R132C", vaf=0.31)
    fusion = fusion_record(test=test, acting_user=user, gene_5="FGFR2", gene_3="BICC1")
    cnv = copy_number_record(test=test, acting_user=user, gene="MDM2", change="amplification")
    study = imaging_study_record(
        patient=patient,
        acting_user=user,
        study_instance_uid=f"1.2.840.{patient.pk}",
        modality="MR",
        study_date=D(2025, 2, 20),
        contrast_phases=["arterial"],
    )
    observation = lirads_observation_record(
        study=study, acting_user=user, label="O1", segment=7, size_mm=45, category="LR-5"
    )
    treatment = treatment_record(
        patient=patient,
        acting_user=user,
        kind="resection",
        start_date=D(2025, 3, 15),
        intent="curative",
    )
    follow_up = followup_record(
        patient=patient,
        acting_user=user,
        contact_date=D(2025, 9, 1),
        vital_status="alive",
        status_source="visit",
    )
    job = ImportJob.objects.create(
        site=patient.site, domain="patients", source_system="HIS", file="x.csv", created_by=user
    )
    return {
        "registry/patients": patient,
        "registry/tumours": tumour,
        "registry/stagings": staging,
        "registry/pathology-reports": pathology,
        "registry/genomic-tests": test,
        "registry/variants": variant,
        "registry/fusions": fusion,
        "registry/copy-numbers": cnv,
        "registry/imaging-studies": study,
        "registry/lirads-observations": observation,
        "registry/treatments": treatment,
        "registry/follow-ups": follow_up,
        "registry/imports": job,
    }
