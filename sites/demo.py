"""What every app's demo seed shares: the demo accounts' password and a clock that runs
the real services "as if it were that day" (so history and "not in the future" checks
agree with the made-up dates). Used by ``demo/`` and by each app's own ``demo.py``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

DEMO_PASSWORD = "demo-Trial-2026"  # noqa: S105 - printed for the demo, documented


@contextmanager
def at(day: datetime.date, hour: int = 10) -> Iterator[None]:
    """Run the services as if it were ``day`` (history and "not in the future" checks agree)."""
    when = datetime.datetime.combine(day, datetime.time(hour, 0), tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield
