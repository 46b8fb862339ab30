"""Rows created in bulk carry the same audit trail as rows saved one by one."""

from __future__ import annotations

import datetime

from audit.bulk import bulk_create_audited
from audit.context import audit_context
from patients.models import Visit

FIELDS = (
    "history_type",
    "history_user_id",
    "history_username",
    "history_change_reason",
    "history_ip",
    "history_user_agent",
    "history_request_id",
    "history_origin",
)


def _trail(visit: Visit) -> tuple:
    row = visit.history.get()
    return tuple(getattr(row, f) for f in FIELDS) + (row.scheduled_date, row.patient_id)


def test_bulk_history_rows_match_a_save(patient_a, coordinator_site_a):
    day = datetime.date(2026, 3, 2)
    with audit_context(
        user=coordinator_site_a,
        reason="Visit schedule generated",
        ip="10.0.0.7",
        user_agent="pytest",
        request_id="req-1",
        origin="web",
    ):
        saved = Visit(patient=patient_a, scheduled_date=day)
        saved.save()
        bulk = bulk_create_audited([Visit(patient=patient_a, scheduled_date=day)])
    (made,) = bulk
    assert made.pk and made.pk != saved.pk
    assert _trail(made) == _trail(saved)
    assert _trail(made)[:4] == ("+", coordinator_site_a.pk, "crc_a", "Visit schedule generated")


def test_bulk_outside_any_context_is_attributed_to_the_shell(patient_a):
    (made,) = bulk_create_audited([Visit(patient=patient_a, scheduled_date=datetime.date.today())])
    row = made.history.get()
    assert (row.history_username, row.history_origin, row.history_user_id) == (
        "system",
        "shell",
        None,
    )
