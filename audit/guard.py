# ruff: noqa: S608 - table names come from introspection and are quoted by quote_name
"""Tamper evidence for the audit trail on PostgreSQL: write-once tables, hash chains.

Installed after every ``migrate`` (``post_migrate``, idempotent) on every table whose
name contains ``historical`` — so history tables added later by any app are covered the
day their migration runs — and on the access log:

* **Write once.** A ``BEFORE UPDATE OR DELETE`` trigger raises. One exception: setting
  the user link to NULL when an account is deleted (Django's ``SET_NULL``); the copied
  username stays and is part of the hash.
* **Hash chain (history tables).** Two extra columns, managed by the database only:
  ``history_chain_seq`` (position in the table's chain) and ``history_hash`` =
  SHA-256 of the previous row's hash followed by the row's canonical JSON
  (``to_jsonb(row)`` without ``history_hash`` and the user link, rendered in UTC).
  A ``BEFORE INSERT`` trigger computes both under a transaction-scoped advisory lock on
  the table, so the chain order is the commit order. Why one chain per table rather
  than per record: a per-record chain cannot show that a whole record's history was
  removed; a per-table chain shows any removed or altered row except the very last one
  (``audit_verify`` also reports the length).
  The cost: the lock is held to commit, so two transactions that write history rows of
  the same table run one after the other from the first such row to the commit, even
  at different sites (the services' row locks serialise writes per trial-site only).
  This caps concurrent write throughput (README "Performance": about 3 enrollments/s
  with 4 gunicorn workers on 2 cores). Taking the lock at commit time (a deferred
  trigger computing the hash) or one chain per site would lift it; both change the
  tamper evidence and are not done.

**Schema changes.** A migration that adds a field to an audited model adds a column to
its history table, and the old rows then carry a value (``NULL`` or the field's default)
that was not there when they were hashed. So each chain hashes a *registered* column set:
``audit_chain_schema`` (append-only, write-once like the history) records, per table,
from which chain position which columns are hashed. After every ``migrate`` a table whose
columns changed gets a new entry starting at its next position; rows keep verifying
against the columns they were written with. A column dropped by a migration cannot be
re-hashed for the rows written with it: ``audit_verify`` says so in those words.

``manage.py audit_verify`` recomputes every chain and names the first broken link.

SQLite (development) has none of this: the tables are ordinary, writable tables and
``audit_verify`` says so. Run production on PostgreSQL, under a role that does not own
these tables (README, "Tamper-evident audit trail").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

ACCESS_LOG_TABLE = "audit_accesslog"
SCHEMA_TABLE = "audit_chain_schema"
SEQ = "history_chain_seq"
HASH = "history_hash"
# Columns left out of the hashed form (the user link may be nulled when an account is
# deleted; the username copy is hashed).
UNHASHED = (HASH, "history_user_id")

GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (to_jsonb(NEW) - 'history_user_id' - 'user_id')
               = (to_jsonb(OLD) - 'history_user_id' - 'user_id')
           AND COALESCE(to_jsonb(NEW)->>'history_user_id', to_jsonb(NEW)->>'user_id') IS NULL
        THEN
            RETURN NEW;  -- an account was deleted: its link is nulled, nothing else
        END IF;
    END IF;
    RAISE EXCEPTION 'audit trail is write-once: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

SCHEMA_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (
    table_name text NOT NULL,
    from_seq bigint NOT NULL,
    columns text[] NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, from_seq)
)
"""

# The row's canonical form: its hashed columns as a JSON object (jsonb orders the keys),
# the columns being those registered for the row's chain position.
CHAIN_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_chain_row() RETURNS trigger
LANGUAGE plpgsql SET timezone TO 'UTC' AS $$
DECLARE
    last_seq bigint;
    last_hash text;
    cols text[];
    canonical jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('audit_chain:' || TG_TABLE_NAME));
    EXECUTE format(
        'SELECT history_chain_seq, history_hash FROM %I WHERE history_chain_seq IS NOT NULL '
        'ORDER BY history_chain_seq DESC LIMIT 1', TG_TABLE_NAME)
        INTO last_seq, last_hash;
    NEW.history_chain_seq := COALESCE(last_seq, 0) + 1;
    SELECT s.columns INTO cols FROM {SCHEMA_TABLE} s
        WHERE s.table_name = TG_TABLE_NAME AND s.from_seq <= NEW.history_chain_seq
        ORDER BY s.from_seq DESC LIMIT 1;
    canonical := to_jsonb(NEW) - 'history_hash' - 'history_user_id';
    IF cols IS NOT NULL THEN
        SELECT COALESCE(jsonb_object_agg(e.key, e.value), '{{}}'::jsonb) INTO canonical
            FROM jsonb_each(canonical) e WHERE e.key = ANY(cols);
    END IF;
    NEW.history_hash := encode(sha256(convert_to(
        COALESCE(last_hash, '') || canonical::text, 'UTF8')), 'hex');
    RETURN NEW;
END $$;
"""


def audit_tables(connection: Any) -> list[str]:
    """Every history table (name contains ``historical``) and the access log."""
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    return sorted(n for n in names if "historical" in n or n == ACCESS_LOG_TABLE)


def history_tables(connection: Any) -> list[str]:
    return [t for t in audit_tables(connection) if t != ACCESS_LOG_TABLE]


def _q(connection: Any, name: str) -> str:
    return connection.ops.quote_name(name)


def hashed_columns(connection: Any, cursor: Any, table: str) -> list[str]:
    """The columns a new row of ``table`` is hashed over: all but the hash and the link."""
    names = [c.name for c in connection.introspection.get_table_description(cursor, table)]
    return sorted(n for n in names if n not in UNHASHED)


def column_segments(cursor: Any, table: str) -> list[tuple[int, list[str]]]:
    """(from chain position, hashed columns) of ``table``, in order."""
    cursor.execute(
        f"SELECT from_seq, columns FROM {SCHEMA_TABLE} WHERE table_name = %s ORDER BY from_seq",
        [table],
    )
    return [(int(seq), list(cols)) for seq, cols in cursor.fetchall()]


def _register_columns(connection: Any, cursor: Any, table: str) -> None:
    """A new entry when ``table``'s columns differ from its latest registered set: from
    the next chain position on, rows are hashed over the current columns."""
    current = hashed_columns(connection, cursor, table)
    segments = column_segments(cursor, table)
    if segments and sorted(segments[-1][1]) == current:
        return
    q = _q(connection, table)
    cursor.execute(f"SELECT COALESCE(MAX({SEQ}), 0) FROM {q}")
    last = cursor.fetchone()[0]
    start = 1 if not segments else last + 1
    cursor.execute(
        f"INSERT INTO {SCHEMA_TABLE} (table_name, from_seq, columns) VALUES (%s, %s, %s)",
        [table, start, current],
    )


def install(connection: Any) -> list[str]:
    """Create or refresh the guards and chains; returns the guarded tables."""
    if connection.vendor != "postgresql":
        return []
    tables = audit_tables(connection)
    with connection.cursor() as cursor:
        cursor.execute(GUARD_FUNCTION)
        cursor.execute(SCHEMA_DDL)
        cursor.execute(CHAIN_FUNCTION)
        schema = _q(connection, SCHEMA_TABLE)
        cursor.execute(f"DROP TRIGGER IF EXISTS audit_write_once ON {schema}")
        cursor.execute(
            f"CREATE TRIGGER audit_write_once BEFORE UPDATE OR DELETE ON {schema} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
        for table in tables:
            q = _q(connection, table)
            if table != ACCESS_LOG_TABLE:
                cursor.execute(f"ALTER TABLE {q} ADD COLUMN IF NOT EXISTS {SEQ} bigint")
                cursor.execute(f"ALTER TABLE {q} ADD COLUMN IF NOT EXISTS {HASH} varchar(64)")
                _register_columns(connection, cursor, table)
                _backfill(connection, cursor, table)
                cursor.execute(f"DROP TRIGGER IF EXISTS audit_chain ON {q}")
                cursor.execute(
                    f"CREATE TRIGGER audit_chain BEFORE INSERT ON {q} "
                    "FOR EACH ROW EXECUTE FUNCTION audit_chain_row()"
                )
            cursor.execute(f"DROP TRIGGER IF EXISTS audit_write_once ON {q}")
            cursor.execute(
                f"CREATE TRIGGER audit_write_once BEFORE UPDATE OR DELETE ON {q} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            )
    return tables


def _backfill(connection: Any, cursor: Any, table: str) -> None:
    """Rows written before the chain existed (first install on an existing database) join
    it in ``history_id`` order. Runs before the write-once trigger is (re)created."""
    q = _q(connection, table)
    cursor.execute(f"SELECT 1 FROM {q} WHERE {SEQ} IS NULL LIMIT 1")
    if cursor.fetchone() is None:
        return
    cursor.execute(f"DROP TRIGGER IF EXISTS audit_write_once ON {q}")
    cursor.execute(f"SELECT COALESCE(MAX({SEQ}), 0) FROM {q}")
    seq = cursor.fetchone()[0]
    cursor.execute(f"SELECT {HASH} FROM {q} WHERE {SEQ} = %s", [seq])
    row = cursor.fetchone()
    prev = row[0] if row else ""
    columns = hashed_columns(connection, cursor, table)
    cursor.execute(f"SELECT history_id FROM {q} WHERE {SEQ} IS NULL ORDER BY history_id")
    for (history_id,) in cursor.fetchall():
        seq += 1
        cursor.execute(f"UPDATE {q} SET {SEQ} = %s WHERE history_id = %s", [seq, history_id])
        cursor.execute(
            f"SELECT {CANONICAL_SQL} FROM {q} t WHERE history_id = %s",
            [columns, history_id],
        )
        prev = chain_hash(prev, cursor.fetchone()[0])
        cursor.execute(f"UPDATE {q} SET {HASH} = %s WHERE history_id = %s", [prev, history_id])


def chain_hash(previous: str | None, canonical: str) -> str:
    return hashlib.sha256(((previous or "") + canonical).encode()).hexdigest()


@dataclass(frozen=True)
class Broken:
    table: str
    history_id: int
    problem: str


@dataclass
class ChainReport:
    rows: dict[str, int]
    broken: Broken | None = None


#: the canonical form of a row ``t`` over the columns given as the query's parameter
CANONICAL_SQL = (
    "(SELECT COALESCE(jsonb_object_agg(e.key, e.value), '{}'::jsonb) "
    "FROM jsonb_each(to_jsonb(t) - 'history_hash' - 'history_user_id') e "
    "WHERE e.key = ANY(%s))::text"
)


def verify(connection: Any) -> ChainReport:
    """Walk every history table's chain in order; stop at the first broken link. Each
    row is re-hashed over the columns registered for its chain position."""
    report = ChainReport(rows={})
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
        for table in history_tables(connection):
            broken = _verify_table(connection, cursor, table, report)
            if broken is not None:
                report.broken = broken
                return report
    return report


def _verify_table(connection: Any, cursor: Any, table: str, report: ChainReport) -> Broken | None:
    q = _q(connection, table)
    current = set(hashed_columns(connection, cursor, table))
    cursor.execute(f"SELECT COUNT(*) FROM {q}")
    report.rows[table] = cursor.fetchone()[0]
    cursor.execute(
        f"SELECT history_id FROM {q} WHERE {SEQ} IS NULL OR {HASH} IS NULL "
        "ORDER BY history_id LIMIT 1"
    )
    outside = cursor.fetchone()
    if outside is not None:
        return Broken(
            table, outside[0], "row outside the chain (inserted with the chain trigger disabled)"
        )
    segments = column_segments(cursor, table) or [(1, sorted(current))]
    prev, expected_seq = "", 1
    for index, (start, columns) in enumerate(segments):
        end = segments[index + 1][0] if index + 1 < len(segments) else None
        cursor.execute(
            f"SELECT history_id, {SEQ}, {HASH}, {CANONICAL_SQL} FROM {q} t "
            f"WHERE {SEQ} >= %s"
            + (f" AND {SEQ} < %s" if end is not None else "")
            + f" ORDER BY {SEQ}, history_id",
            [columns, start, *([end] if end is not None else [])],
        )
        dropped = sorted(set(columns) - current)
        for history_id, seq, stored, canonical in cursor.fetchall():
            if seq != expected_seq:
                problem = f"chain position {seq} where {expected_seq} was expected (row removed)"
            elif chain_hash(prev, canonical) != stored:
                problem = (
                    "written with column(s) "
                    + ", ".join(dropped)
                    + " that a later migration dropped: the row can no longer be re-hashed"
                    if dropped
                    else "hash does not match the row (row altered, or a row before it)"
                )
            else:
                prev, expected_seq = stored, expected_seq + 1
                continue
            return Broken(table, history_id, problem)
    return None


def guarded_tables(connection: Any) -> dict[str, set[str]]:
    """table -> names of its audit triggers (for tests and the verify command)."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname IN ('audit_write_once', 'audit_chain') AND t.tgenabled <> 'D'"
        )
        found: dict[str, set[str]] = {}
        for table, trigger in cursor.fetchall():
            found.setdefault(table, set()).add(trigger)
    return found
