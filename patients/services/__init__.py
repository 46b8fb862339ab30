"""Writes on patient records, one module per workflow. Views, forms, the admin, the API
and tasks call these; nothing else saves a clinical record."""

from .common import require_reason
from .registration import (
    EDITABLE_FIELDS,
    PossibleDuplicate,
    patient_register,
    patient_set_status,
    patient_update,
)

__all__ = [
    "EDITABLE_FIELDS",
    "PossibleDuplicate",
    "patient_register",
    "patient_set_status",
    "patient_update",
    "require_reason",
]
