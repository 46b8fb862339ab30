"""Consistent backups and restores of the database, with a manifest and a key reminder.

A backup folder holds:

* ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``: one snapshot, consistent
  while the app keeps writing) or ``database.sqlite3`` (SQLite's online backup API);
* ``manifest.json``: when, which database engine, the applied migrations, the row count
  of every table (history tables included), the SHA-256 and size of every file, and a
  fingerprint of the keys the data was encrypted with (a hash, never the keys);
* ``KEYS-README.txt``: which key material the backup depends on and where it must be
  kept. Patient identity is encrypted with keys derived from ``SECRET_KEY`` and
  ``FIELD_ENCRYPTION_KEY``: a backup without them is unreadable, and the keys stored in the
  same place as the backup would make the encryption pointless.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder

FORMAT = "hbtrials-backup"
FORMAT_VERSION = 1
PG_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
MANIFEST = "manifest.json"
KEYS_README = "KEYS-README.txt"

KEYS_TEXT = """\
This backup depends on key material that is NOT in this folder, on purpose.

Patient names, contacts, document numbers and the keyed document hash are encrypted
with keys derived from two settings of the installation that wrote this backup:

  SECRET_KEY            (and SECRET_KEY_FALLBACKS, if any were set)
  FIELD_ENCRYPTION_KEY  (and FIELD_ENCRYPTION_KEY_FALLBACKS, if any were set)

Without exactly these values the restored database opens but every identity field is
unreadable, for ever. Keep them:

  * with the backups, but separately: in the hospital's password safe / secret store, or
    a sealed envelope in the data-protection officer's safe, never in the same folder,
    disk, bucket or tape as the dump;
  * for as long as any backup made with them is kept (after a key rotation, keep the old
    key with the backups made before it);
  * tested: a restore test (README "Backup and restore") proves the keys open the data.

The manifest's "key_fingerprint" is a one-way hash of the keys, so the right keys can be
recognised at restore time without writing them down here.
Backup written: {created} by {who} from database {database}.
"""


class BackupError(Exception):
    """A backup or restore that cannot be done safely; the message says why."""


def key_fingerprint() -> str:
    """One-way fingerprint of the encryption keys (SHA-256 of a labelled concatenation):
    equal keys give equal fingerprints; the keys cannot be recovered from it."""
    material = "\0".join(
        ["hbtrials-key-fingerprint-v1", settings.SECRET_KEY, *settings.SALT_KEY[:1]]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def table_counts(using: str = "default") -> dict[str, int]:
    conn = connections[using]
    counts = {}
    with conn.cursor() as cursor:
        for table in sorted(conn.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {conn.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = {**os.environ}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if db.get(key):
            env[var] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        subprocess.run(command, env=env, check=True, capture_output=True, text=True)  # noqa: S603
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools).") from exc
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{command[0]} failed: {exc.stderr.strip()[-2000:]}") from exc


def backup_create(*, out: Path, who: str = "") -> Path:
    """Write a backup folder under ``out``; returns its path."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(out) / f"hbtrials-backup-{stamp}"
    folder.mkdir(parents=True, exist_ok=False)
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        data_file = folder / PG_FILE
        _run(
            ["pg_dump", "--format=custom", "--no-owner", f"--file={data_file}", db["NAME"]],
            _pg_env(db),
        )
    elif connection.vendor == "sqlite":
        data_file = folder / SQLITE_FILE
        connection.ensure_connection()
        target = sqlite3.connect(data_file)
        try:
            connection.connection.backup(target)  # consistent copy while others write
        finally:
            target.close()
    else:  # pragma: no cover
        raise BackupError(f"no backup method for {connection.vendor}")
    created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    recorder = MigrationRecorder(connection)
    # A database built straight from the models (the test databases) records none.
    migrations = (
        sorted(recorder.migration_qs.values_list("app", "name")) if recorder.has_table() else []
    )
    (folder / KEYS_README).write_text(
        KEYS_TEXT.format(created=created, who=who or "-", database=db["NAME"])
    )
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created,
        "created_by": who,
        "engine": connection.vendor,
        "database": str(db["NAME"]),
        "key_fingerprint": key_fingerprint(),
        "migrations": [f"{app}.{name}" for app, name in migrations],
        "table_counts": table_counts(),
        "files": {
            path.name: {"sha256": sha256_of(path), "bytes": path.stat().st_size}
            for path in sorted([data_file, folder / KEYS_README])
        },
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return folder


def backup_read(folder: Path) -> dict[str, Any]:
    """The manifest, after checking every file against its SHA-256."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{folder} has no {MANIFEST}: not a backup folder") from exc
    except (ValueError, RecursionError) as exc:
        raise BackupError(f"{MANIFEST} is not valid JSON") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST} is not a {FORMAT} manifest")
    for name, expected in manifest.get("files", {}).items():
        path = folder / name
        if not path.exists():
            raise BackupError(f"{name} is missing")
        if sha256_of(path) != expected["sha256"]:
            raise BackupError(f"{name} does not match its SHA-256 in the manifest (damaged)")
    return manifest


def backup_restore(*, folder: Path, allow_other_keys: bool = False) -> dict[str, Any]:
    """Restore ``folder`` into the configured database, which must be empty (a fresh
    database: restoring never overwrites data). Returns the manifest."""
    manifest = backup_read(folder)
    if manifest["engine"] != connection.vendor:
        raise BackupError(
            f"the backup is of {manifest['engine']}, the configured database is {connection.vendor}"
        )
    if manifest["key_fingerprint"] != key_fingerprint() and not allow_other_keys:
        raise BackupError(
            "SECRET_KEY / FIELD_ENCRYPTION_KEY differ from the keys of the backup: patient "
            "identity would be unreadable. Set the keys of the backup (see KEYS-README.txt)."
        )
    with connection.cursor() as cursor:
        existing = connection.introspection.table_names(cursor)
    if existing:
        raise BackupError(
            "the configured database is not empty: restore into a freshly created database"
        )
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={db['NAME']}",
                str(Path(folder) / PG_FILE),
            ],
            _pg_env(db),
        )
    else:
        connection.close()
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise BackupError("restore into a database file, not an in-memory database")
        source = sqlite3.connect(Path(folder) / SQLITE_FILE)
        target = sqlite3.connect(name)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    counts = table_counts()
    differing = {
        table: (count, counts.get(table))
        for table, count in manifest["table_counts"].items()
        if counts.get(table) != count
    }
    if differing:
        raise BackupError(f"restored row counts differ from the manifest: {differing}")
    return manifest
