"""Read the study metadata of one DICOM file with pydicom, without its pixels and without
identifying tags: the registry keeps only what describes the study."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pydicom
from pydicom.errors import InvalidDicomError

#: Non-identifying tags kept in ``ImagingStudy.header``.
KEPT_TAGS = (
    "Modality",
    "StudyDate",
    "StudyDescription",
    "SeriesDescription",
    "BodyPartExamined",
    "Manufacturer",
    "ManufacturerModelName",
    "SliceThickness",
    "ContrastBolusAgent",
    "SeriesInstanceUID",
    "StudyInstanceUID",
)
PHASES = {
    "arterial": "arterial",
    "portal": "portal_venous",
    "venous": "portal_venous",
    "delayed": "delayed",
    "transitional": "transitional",
    "hepatobiliary": "hepatobiliary",
    "non-contrast": "unenhanced",
    "unenhanced": "unenhanced",
    "plain": "unenhanced",
}


class DicomError(ValueError):
    pass


def read_header(content: bytes) -> dict[str, Any]:
    try:
        ds = pydicom.dcmread(io.BytesIO(content), stop_before_pixels=True)
    except (InvalidDicomError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise DicomError(f"not a DICOM file ({exc})") from exc
    header = {}
    for tag in KEPT_TAGS:
        value = ds.get(tag)
        if value not in (None, ""):
            header[tag] = str(value)
    if "StudyInstanceUID" not in header:
        raise DicomError("the file has no Study Instance UID")
    raw_date = header.get("StudyDate", "")
    try:
        study_date = datetime.datetime.strptime(raw_date, "%Y%m%d").date()
    except ValueError as exc:
        raise DicomError(f"the study date {raw_date!r} is not a DICOM date") from exc
    text = f"{header.get('SeriesDescription', '')} {header.get('StudyDescription', '')}".lower()
    phases = sorted({phase for word, phase in PHASES.items() if word in text})
    if header.get("ContrastBolusAgent") and not phases:
        phases = ["contrast"]
    return {
        "study_instance_uid": header["StudyInstanceUID"],
        "modality": header.get("Modality", "OT"),
        "study_date": study_date,
        "body_part": header.get("BodyPartExamined", "")[:64],
        "description": header.get("StudyDescription", "")[:200],
        "contrast_phases": phases,
        "header": header,
    }
