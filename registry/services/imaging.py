from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from audit.users import ActingUser

from ..dicom import DicomError, read_header
from ..models import ImagingStudy, LiradsObservation, RegistryPatient
from .clinical import _not_future
from .common import save_record

STUDY_FIELDS = (
    "study_instance_uid",
    "modality",
    "study_date",
    "body_part",
    "description",
    "contrast_phases",
    "dicomweb_url",
)
OBSERVATION_FIELDS = ("label", "segment", "size_mm", "category")


def study_rules(study: ImagingStudy) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    _not_future(errors, "study_date", study.study_date)
    if not isinstance(study.contrast_phases, list):
        errors["contrast_phases"] = [_("List the contrast phases.")]
    return errors


def imaging_study_record(
    *,
    patient: RegistryPatient,
    acting_user: ActingUser,
    study: ImagingStudy | None = None,
    reason: str = "",
    header: dict[str, Any] | None = None,
    source_system: str = "",
    source_id: str = "",
    **fields: Any,
) -> ImagingStudy:
    instance = study or ImagingStudy(
        patient=patient, source_system=source_system, source_id=source_id
    )
    values = {k: v for k, v in fields.items() if k in STUDY_FIELDS}
    if header is not None:
        values["header"] = header
    return save_record(
        instance,
        fields=values,
        site=patient.site,
        acting_user=acting_user,
        reason=reason,
        rules=study_rules,
        created_reason=_("Imaging study recorded"),
    )


def imaging_study_from_dicom(
    *, patient: RegistryPatient, content: bytes, acting_user: ActingUser, dicomweb_url: str = ""
) -> ImagingStudy:
    """Create the study from one DICOM file's header (pixels are read past, not kept)."""
    try:
        meta = read_header(content)
    except DicomError as exc:
        raise ValidationError(
            {"dicom_file": [_("This file cannot be read as DICOM: %(error)s") % {"error": exc}]}
        ) from exc
    if meta["modality"] not in ImagingStudy.Modality.values:
        meta["modality"] = ImagingStudy.Modality.OTHER
    return imaging_study_record(
        patient=patient, acting_user=acting_user, dicomweb_url=dicomweb_url, **meta
    )


def lirads_observation_record(
    *,
    study: ImagingStudy,
    acting_user: ActingUser,
    observation: LiradsObservation | None = None,
    reason: str = "",
    **fields: Any,
) -> LiradsObservation:
    def rules(o: LiradsObservation) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if study.modality not in (ImagingStudy.Modality.CT, ImagingStudy.Modality.MR):
            errors["category"] = [_("LI-RADS CT/MRI categories need a CT or MRI study.")]
        if (
            o.category == LiradsObservation.Category.LR5
            and o.size_mm is not None
            and o.size_mm < 10
        ):
            errors["size_mm"] = [_("LR-5 needs an observation of at least 10 mm.")]
        return errors

    return save_record(
        observation or LiradsObservation(study=study),
        fields={k: v for k, v in fields.items() if k in OBSERVATION_FIELDS},
        site=study.patient.site,
        acting_user=acting_user,
        rules=rules,
        reason=reason,
        created_reason=_("LI-RADS observation recorded"),
    )
