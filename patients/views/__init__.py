"""Patient pages, one module per workflow."""

from .enrollment import (
    consent_create,
    consent_withdraw,
    enrollment_first_treatment,
    enrollment_unblind,
    patient_enroll,
)
from .registration import patient_detail, patient_edit, patient_list, patient_register
from .safety import ae_detail, ae_edit, ae_list, ae_new
from .screening import patient_screen, screening_detail, screening_log
from .visits import (
    patient_status,
    visit_detail,
    visit_missed,
    visit_reschedule,
    visit_submit,
    visit_unscheduled,
)

__all__ = [
    "consent_create",
    "consent_withdraw",
    "enrollment_first_treatment",
    "enrollment_unblind",
    "patient_enroll",
    "patient_detail",
    "patient_edit",
    "patient_list",
    "patient_register",
    "ae_detail",
    "ae_edit",
    "ae_list",
    "ae_new",
    "patient_screen",
    "screening_detail",
    "screening_log",
    "patient_status",
    "visit_detail",
    "visit_missed",
    "visit_reschedule",
    "visit_submit",
    "visit_unscheduled",
]
