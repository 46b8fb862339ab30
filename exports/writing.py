"""What both writers share: the export's context and the progress counter."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Rows fetched per database round trip: large enough to stream fast, small enough that
# memory does not depend on the size of the trial.
CHUNK_SIZE = 2000


@dataclass
class ExportContext:
    """Everything a writer needs, decided by the service before writing starts."""

    trial: Any
    trial_sites: list[Any]  # the trial-sites in the export (the requester's scope)
    identities: bool  # identity columns included (VIEW_IDENTITY at every site)
    allocation: bool  # arm and treatment names included (``access.blinding.arms_visible``)
    cutoff: datetime.datetime  # UTC; the ODM audit trail stops here
    requested_by: str
    job_id: int
    chunk_size: int = CHUNK_SIZE
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def trial_site_ids(self) -> list[int]:
        return [ts.pk for ts in self.trial_sites]


class Progress:
    """Counts written rows and reports every ``every`` rows (and at the end)."""

    def __init__(self, report: Callable[[int, int], None], *, every: int = 1000) -> None:
        self.report = report
        self.every = max(1, every)
        self.total = 0
        self.done = 0
        self._next = self.every

    def start(self, total: int) -> None:
        self.total = total
        self.report(0, total)

    def tick(self, n: int = 1) -> None:
        self.done += n
        if self.done >= self._next:
            self._next = self.done + self.every
            self.report(self.done, self.total)

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return min(99, self.done * 100 // self.total)
