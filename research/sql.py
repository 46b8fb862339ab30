"""How research statements run on PostgreSQL: without JIT compilation.

A cohort statement joins a handful of registry tables with window functions; its cost
estimate passes ``jit_above_cost`` as soon as the registry is national (and more so when
a CTE's row estimate is the planner's default), and PostgreSQL then spends 0.3 to 0.7 s
compiling expressions (measured at 50,000 patients: 648 ms of JIT in an 808 ms
statement that otherwise runs in 160 ms). ``SET LOCAL`` keeps the
setting to the block's transaction (in autocommit) or to the enclosing transaction when
there is one: other connections and later transactions keep the server's setting.
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
