"""Every write on the registry. Views, forms, the admin, the API, the importer and the
demo call these (the demo's bulk path writes history through simple-history's helpers)."""

from .clinical import (
    followup_record,
    staging_compute,
    staging_update,
    treatment_record,
    tumour_record,
)
from .edit import EDITABLE, registry_record_update
from .genomics import (
    copy_number_record,
    fusion_record,
    genomic_test_record,
    variant_record,
    vcf_attach,
)
from .imaging import imaging_study_from_dicom, imaging_study_record, lirads_observation_record
from .pathology import pathology_report_record
from .patients import registry_patient_register, registry_patient_update

__all__ = [
    "EDITABLE",
    "registry_record_update",
    "copy_number_record",
    "followup_record",
    "fusion_record",
    "genomic_test_record",
    "imaging_study_from_dicom",
    "imaging_study_record",
    "lirads_observation_record",
    "pathology_report_record",
    "registry_patient_register",
    "registry_patient_update",
    "staging_compute",
    "staging_update",
    "treatment_record",
    "tumour_record",
    "variant_record",
    "vcf_attach",
]
