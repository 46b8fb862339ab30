"""Monitoring services: every write of the monitoring app goes through here."""

from .checks import edit_checks_run_record, edit_checks_run_trial
from .locks import LockProblems, lock_create, lock_in_force, lock_problems, lock_release
from .queries import (
    query_answer,
    query_cancel,
    query_close,
    query_raise,
    query_reason,
    query_reopen,
)
from .signatures import signature_sign
from .verification import plan_for, sdv_required, sdv_verify

__all__ = [
    "LockProblems",
    "edit_checks_run_record",
    "edit_checks_run_trial",
    "lock_create",
    "lock_in_force",
    "lock_problems",
    "lock_release",
    "plan_for",
    "query_answer",
    "query_cancel",
    "query_close",
    "query_raise",
    "query_reason",
    "query_reopen",
    "sdv_required",
    "sdv_verify",
    "signature_sign",
]
