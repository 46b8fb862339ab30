"""Every write of clinical data (keyword-only, one transaction, history with reason)."""

from .conmeds import conmed_record, conmed_update
from .exposure import exposure_record, exposure_update
from .labs import (
    ae_prefill,
    lab_result_dismiss_proposal,
    lab_result_link_adverse_event,
    lab_result_record,
    lab_result_record_adverse_event,
    lab_result_update,
    lab_results_record,
)
from .procedures import lesions_mark_ablated_on_study, procedure_record
from .visit_forms import visit_form_note
from .vitals import vital_signs_record, vital_signs_update

__all__ = [
    "ae_prefill",
    "conmed_record",
    "conmed_update",
    "exposure_record",
    "exposure_update",
    "lab_result_dismiss_proposal",
    "lab_result_link_adverse_event",
    "lab_result_record",
    "lab_result_record_adverse_event",
    "lab_result_update",
    "lab_results_record",
    "lesions_mark_ablated_on_study",
    "procedure_record",
    "visit_form_note",
    "vital_signs_record",
    "vital_signs_update",
]
