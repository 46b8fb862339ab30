"""Patient pages, one module per workflow."""

from .common import apply_errors
from .registration import patient_detail, patient_edit, patient_list, patient_register

__all__ = ["apply_errors", "patient_detail", "patient_edit", "patient_list", "patient_register"]
