"""``manage.py audit_verify``: recompute the hash chain of every history table.

Exit status 0 when every chain is intact, 1 at the first broken link (named: table and
``history_id``), 2 when a guard is missing. On SQLite there is no chain (development):
it says so and exits 0.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection

from audit import guard


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains and write-once guards (PostgreSQL)."

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write(
                "SQLite: the audit tables are not write-protected and carry no hash chain "
                "(development database); nothing to verify."
            )
            return
        guarded = guard.guarded_tables(connection)
        missing = [
            t
            for t in guard.audit_tables(connection)
            if "audit_write_once" not in guarded.get(t, set())
        ]
        missing += [
            t
            for t in guard.history_tables(connection)
            if "audit_chain" not in guarded.get(t, set())
        ]
        report = guard.verify(connection)
        if report.broken is not None:
            b = report.broken
            self.stderr.write(f"BROKEN: {b.table} history_id={b.history_id}: {b.problem}")
            raise SystemExit(1)
        if missing:
            self.stderr.write("Guard missing (run migrate): " + ", ".join(sorted(set(missing))))
            raise SystemExit(2)
        total = sum(report.rows.values())
        self.stdout.write(
            self.style.SUCCESS(f"Audit trail intact: {len(report.rows)} tables, {total} rows.")
        )
