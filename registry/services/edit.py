"""One entry point to correct any saved registry record (pages and API call it): the
record's own service runs again with the changed fields and a reason for change."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from audit.users import ActingUser

from ..models import (
    CopyNumberChange,
    FollowUp,
    Fusion,
    GenomicTest,
    ImagingStudy,
    LiradsObservation,
    PathologyReport,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
    Variant,
)
from .clinical import (
    FOLLOWUP_FIELDS,
    TREATMENT_FIELDS,
    TUMOUR_FIELDS,
    followup_record,
    staging_update,
    treatment_record,
    tumour_record,
)
from .genomics import (
    CNV_FIELDS,
    FUSION_FIELDS,
    TEST_FIELDS,
    VARIANT_FIELDS,
    copy_number_record,
    fusion_record,
    genomic_test_record,
    variant_record,
)
from .imaging import (
    OBSERVATION_FIELDS,
    STUDY_FIELDS,
    imaging_study_record,
    lirads_observation_record,
)
from .pathology import FIELDS as PATHOLOGY_FIELDS
from .pathology import pathology_report_record
from .patients import EDITABLE_FIELDS as PATIENT_FIELDS
from .patients import registry_patient_update

STAGING_FIELDS = ("staged_on", "inputs", "override_value", "override_reason")

#: What a correction may change, per record type (the parent and the source never change).
EDITABLE: dict[type, tuple[str, ...]] = {
    RegistryPatient: PATIENT_FIELDS,
    Tumour: TUMOUR_FIELDS,
    StagingRecord: STAGING_FIELDS,
    PathologyReport: PATHOLOGY_FIELDS,
    GenomicTest: TEST_FIELDS,
    Variant: tuple(f for f in VARIANT_FIELDS),
    Fusion: FUSION_FIELDS,
    CopyNumberChange: CNV_FIELDS,
    ImagingStudy: STUDY_FIELDS,
    LiradsObservation: OBSERVATION_FIELDS,
    Treatment: TREATMENT_FIELDS,
    FollowUp: FOLLOWUP_FIELDS,
}


def registry_record_update(
    *, record: Any, acting_user: ActingUser, reason: str, **fields: Any
) -> Any:
    """Correct ``record`` (any registry record type) with ``fields``; every problem is
    reported at once (unknown or fixed fields included), nothing is half-saved."""
    allowed = EDITABLE.get(type(record))
    if allowed is None:
        raise ValidationError(_("This record cannot be corrected."))
    fixed = sorted(set(fields) - set(allowed))
    if fixed:
        raise ValidationError({f: [_("This field cannot be changed.")] for f in fixed})
    common = {"acting_user": acting_user, "reason": reason, **fields}
    match record:
        case RegistryPatient():
            return registry_patient_update(patient=record, **common)
        case Tumour():
            return tumour_record(patient=record.patient, tumour=record, **common)
        case StagingRecord():
            return staging_update(record=record, **common)
        case PathologyReport():
            return pathology_report_record(tumour=record.tumour, report=record, **common)
        case GenomicTest():
            return genomic_test_record(patient=record.patient, test=record, **common)
        case Variant():
            return variant_record(test=record.test, variant=record, **common)
        case Fusion():
            return fusion_record(test=record.test, fusion=record, **common)
        case CopyNumberChange():
            return copy_number_record(test=record.test, cnv=record, **common)
        case ImagingStudy():
            return imaging_study_record(patient=record.patient, study=record, **common)
        case LiradsObservation():
            return lirads_observation_record(study=record.study, observation=record, **common)
        case Treatment():
            return treatment_record(patient=record.patient, treatment=record, **common)
        case FollowUp():
            return followup_record(patient=record.patient, follow_up=record, **common)
    raise ValidationError(_("This record cannot be corrected."))  # pragma: no cover
