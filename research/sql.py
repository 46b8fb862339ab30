"""How research statements run on PostgreSQL: without JIT compilation.

A cohort statement joins a handful of registry tables with window functions; its cost
estimate passes ``jit_above_cost`` as soon as the registry is national (and more so when
a CTE's row estimate is the planner's default), and PostgreSQL then spends 0.3 to 0.7 s
compiling expressions (measured at 50,000 patients: 648 ms of JIT in an 808 ms
statement) for a statement that runs in tens of milliseconds. ``SET LOCAL`` keeps the
setting to the research transaction; every other query keeps the server's setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction


@contextmanager
def without_jit(using: str) -> Iterator[None]:
    """The block's statements run with ``jit = off`` on PostgreSQL (nothing elsewhere)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield
