"""The audit trail on PostgreSQL: history tables and the access log are write-once, each
history row is hash-chained, and ``audit_verify`` finds an altered row."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit import guard
from audit.models import AccessLog
from patients.models import Patient
from patients.services import patient_update

pytestmark = pytest.mark.postgres


def test_every_history_table_and_the_access_log_are_guarded(db):
    tables = guard.audit_tables(connection)
    assert "audit_accesslog" in tables and "patients_historicalpatient" in tables
    assert len(tables) > 20
    guarded = guard.guarded_tables(connection)
    for table in tables:
        assert "audit_write_once" in guarded.get(table, set()), table
        if table != "audit_accesslog":
            assert "audit_chain" in guarded[table], table


def test_update_and_delete_of_a_history_row_raise(patient_a):
    row = patient_a.history.first()
    for sql in (
        "UPDATE patients_historicalpatient SET history_change_reason = 'x' WHERE history_id = %s",
        "DELETE FROM patients_historicalpatient WHERE history_id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="write-once"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [row.history_id])
    AccessLog.record(event="login", user=patient_a.registered_by)
    for sql in ("UPDATE audit_accesslog SET username = 'x'", "DELETE FROM audit_accesslog"):
        with (
            pytest.raises(DatabaseError, match="write-once"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)


def test_deleting_an_account_only_nulls_its_link(patient_a, coordinator_site_a):
    """Django's SET_NULL when an account is removed is the one update allowed."""
    assert Patient.history.model.objects.filter(history_user=coordinator_site_a).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE patients_historicalpatient SET history_user_id = NULL WHERE history_user_id = %s",
            [coordinator_site_a.pk],
        )
    assert not Patient.history.model.objects.filter(history_user=coordinator_site_a).exists()
    call_command("audit_verify")  # the link is not hashed: still intact


@pytest.mark.django_db(transaction=True)
def test_audit_verify_names_a_row_altered_with_triggers_disabled(patient_a, coordinator_site_a):
    patient_update(
        patient=patient_a, acting_user=coordinator_site_a, reason="Typo", phone="13900000000"
    )
    call_command("audit_verify")  # intact
    target = patient_a.history.order_by("history_id").first()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE patients_historicalpatient DISABLE TRIGGER audit_write_once")
        cursor.execute(
            "UPDATE patients_historicalpatient SET history_change_reason = 'forged' "
            "WHERE history_id = %s",
            [target.history_id],
        )
        cursor.execute("ALTER TABLE patients_historicalpatient ENABLE TRIGGER audit_write_once")
    with pytest.raises(SystemExit) as exc:
        call_command("audit_verify")
    assert exc.value.code == 1
    report = guard.verify(connection)
    assert report.broken.table == "patients_historicalpatient"
    assert report.broken.history_id == target.history_id


@pytest.mark.django_db(transaction=True)
def test_concurrent_history_writes_keep_one_chain(trial_site_a, coordinator_site_a, register):
    patients = [
        register(
            trial_site_a,
            coordinator_site_a,
            id_document_type="passport",
            id_document_number=f"E7000000{i}",
        )
        for i in range(8)
    ]
    barrier = threading.Barrier(8)
    errors = []

    def worker(p):
        try:
            barrier.wait()
            patient_update(
                patient=p, acting_user=coordinator_site_a, reason="Phone", phone="13911112222"
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(p,)) for p in patients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = guard.verify(connection)
    assert report.broken is None
    assert report.rows["patients_historicalpatient"] == 16


def test_a_migration_adding_a_column_keeps_earlier_rows_verifiable(patient_a, coordinator_site_a):
    """Adding a field to an audited model gives every old history row a value it was not
    hashed with; the chain hashes the columns registered for each row's position."""
    table = "patients_historicalpatient"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending trigger events
        # what AddField(default=False) does to the history table
        cursor.execute(f"ALTER TABLE {table} ADD COLUMN extra_flag boolean NOT NULL DEFAULT false")
        guard.install(connection)  # what post_migrate does after the migration
        segments = guard.column_segments(cursor, table)
    assert len(segments) >= 2 and "extra_flag" in segments[-1][1]
    assert "extra_flag" not in segments[-2][1]
    assert guard.verify(connection).broken is None  # the old rows still verify
    patient_update(
        patient=patient_a, acting_user=coordinator_site_a, reason="Typo", phone="13900000009"
    )
    assert guard.verify(connection).broken is None  # and the new one, over the new columns
    newest = patient_a.history.order_by("-history_id").first()
    with connection.cursor() as cursor:  # the new column is hashed for the new rows
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER audit_write_once")
        cursor.execute(
            f"UPDATE {table} SET extra_flag = true WHERE history_id = %s", [newest.history_id]
        )
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER audit_write_once")
    broken = guard.verify(connection).broken
    assert broken is not None and broken.history_id == newest.history_id


def test_a_dropped_column_is_named_not_called_tampering(patient_a, coordinator_site_a):
    table = "patients_historicalpatient"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} ADD COLUMN note_tmp text")
        guard.install(connection)
    patient_update(
        patient=patient_a, acting_user=coordinator_site_a, reason="Typo", phone="13900000008"
    )
    written = patient_a.history.order_by("-history_id").first()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DROP COLUMN note_tmp")
    broken = guard.verify(connection).broken
    assert broken is not None and broken.history_id == written.history_id
    assert "note_tmp" in broken.problem and "dropped" in broken.problem


def test_the_column_register_is_write_once(db):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {guard.SCHEMA_TABLE}")
        assert cursor.fetchone()[0] > 20  # one entry per history table at least
    with (
        pytest.raises(DatabaseError, match="write-once"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {guard.SCHEMA_TABLE}")
