"""What the benchmarks share: a throw-away database next to the real one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def prepare_database(name: str) -> tuple[str, Callable[[], None], str]:
    """A fresh benchmark database; returns (url, cleanup, label).

    With ``DATABASE_URL`` pointing at PostgreSQL, database ``name`` is (re)created next to
    it and dropped by ``cleanup``; otherwise a temporary SQLite file is used.
    """
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        import psycopg

        parts = urlsplit(url)
        admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        bench_url = urlunsplit(parts._replace(path=f"/{name}"))

        def cleanup() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return bench_url, cleanup, f"PostgreSQL (database {name}, dropped afterwards)"
    directory = tempfile.mkdtemp(prefix=f"hbtrials-{name}-")
    path = Path(directory) / "bench.sqlite3"

    def cleanup() -> None:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(directory, ignore_errors=True)

    return f"sqlite:///{path}", cleanup, f"SQLite (temporary file {path})"


def existing_database(name: str) -> tuple[str, Callable[[], None], str]:
    """The PostgreSQL database ``name`` kept by an earlier ``--keep`` run (not dropped)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        raise SystemExit("--reuse needs DATABASE_URL pointing at the PostgreSQL server")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}")), lambda: None, f"PostgreSQL ({name})"


class _NoMigrations(dict):
    """``MIGRATION_MODULES`` saying "no migrations" for every app (as pytest-django's
    ``--no-migrations``)."""

    def __contains__(self, item: object) -> bool:
        return True

    def __getitem__(self, item: str) -> None:
        return None


def create_schema() -> None:
    """The tables of a fresh benchmark database, created from the models as the test
    databases are (README "Tests"), instead of replaying every migration, which takes
    minutes on 2 cores; the ``post_migrate`` handlers still run (audit guards on
    PostgreSQL, the shipped CTCAE terms)."""
    from django.conf import settings
    from django.core.management import call_command

    settings.MIGRATION_MODULES = _NoMigrations()
    call_command("migrate", run_syncdb=True, verbosity=0)
