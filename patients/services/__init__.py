"""Writes on patient records, one module per workflow. Views, forms, the admin, the API
and tasks call these; nothing else saves a clinical record."""

from .common import require_reason
from .consent import (
    consent_needs_reconsent,
    consent_record,
    consent_withdraw,
    patient_is_collecting,
)
from .enrollment import enrollment_set_first_treatment, patient_enroll
from .registration import (
    EDITABLE_FIELDS,
    PossibleDuplicate,
    patient_register,
    patient_set_status,
    patient_update,
)
from .sae import adverse_event_set_expectedness, sae_escalate_overdue, sae_mark_reported
from .safety import adverse_event_record, adverse_event_update
from .screening import screening_record
from .status import (
    patient_complete,
    patient_mark_lost,
    patient_record_death,
    patient_resume_follow_up,
    patient_withdraw_from_study,
)
from .tumor import (
    assessment_record_baseline,
    assessment_record_followup,
    assessment_update,
)
from .unblinding import arm_visible_to, enrollment_unblind
from .visits import (
    visit_add_unscheduled,
    visit_mark_missed,
    visit_reschedule,
    visit_schedule_generate,
    visit_submit,
)

__all__ = [
    "assessment_record_baseline",
    "assessment_record_followup",
    "assessment_update",
    "arm_visible_to",
    "consent_needs_reconsent",
    "consent_record",
    "consent_withdraw",
    "enrollment_set_first_treatment",
    "enrollment_unblind",
    "patient_enroll",
    "patient_is_collecting",
    "EDITABLE_FIELDS",
    "PossibleDuplicate",
    "patient_register",
    "patient_set_status",
    "patient_update",
    "require_reason",
    "adverse_event_record",
    "adverse_event_update",
    "adverse_event_set_expectedness",
    "sae_escalate_overdue",
    "sae_mark_reported",
    "screening_record",
    "patient_complete",
    "patient_mark_lost",
    "patient_record_death",
    "patient_resume_follow_up",
    "patient_withdraw_from_study",
    "visit_add_unscheduled",
    "visit_mark_missed",
    "visit_reschedule",
    "visit_schedule_generate",
    "visit_submit",
]
