"""Small-cell suppression (pure Python): what an aggregate-only role may be shown.

Primary suppression hides every count from 1 to ``threshold - 1``. Secondary suppression
then makes sure no hidden cell can be recovered by arithmetic: when exactly one cell of a
table is hidden while the total is shown, the total minus the shown cells would give it
back, so the smallest other non-zero cell is hidden too (shown as ``*``: it is not small,
it is hidden to protect another); when no such cell exists, the total is hidden instead.
A total below the threshold hides the whole table. Zero is shown (it identifies nobody),
and a hidden value is never sent, only its label ``< 5`` (or ``*``).

The total counts persons (a patient treated at two centers is one person, linked by the
national pseudonym), so it can be lower than the sum of the cells; the rules above only
assume the total is at most that sum, which keeps them safe with or without duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    key: str
    count: int | None  # None when hidden
    display: str
    suppressed: bool


@dataclass(frozen=True)
class Table:
    cells: tuple[Cell, ...]
    total: Cell
    threshold: int

    def as_dict(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "total": {"count": self.total.count, "display": self.total.display},
            "cells": [
                {"key": c.key, "count": c.count, "display": c.display, "suppressed": c.suppressed}
                for c in self.cells
            ],
        }


COMPLEMENT = "*"


def hidden_label(threshold: int) -> str:
    return f"< {threshold}"


def suppress(counts: dict[str, int], total: int, threshold: int) -> Table:
    """The table of ``counts`` (per center, say) and its ``total`` as it may be shown."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    label = hidden_label(threshold)
    hidden = {k for k, n in counts.items() if 0 < n < threshold}
    complement: set[str] = set()
    total_hidden = 0 < total < threshold
    if total_hidden:
        hidden |= {k for k, n in counts.items() if n > 0}
    elif len(hidden) == 1:
        candidates = sorted(
            ((n, k) for k, n in counts.items() if k not in hidden and n > 0),
        )
        if candidates:
            complement.add(candidates[0][1])
        else:
            total_hidden = True
    cells = tuple(
        Cell(k, None, label, True)
        if k in hidden
        else Cell(k, None, COMPLEMENT, True)
        if k in complement
        else Cell(k, n, str(n), False)
        for k, n in counts.items()
    )
    total_cell = (
        Cell("total", None, label, True)
        if total_hidden
        else Cell("total", total, str(total), False)
    )
    return Table(cells, total_cell, threshold)


def shown_or_hidden(n: int, threshold: int) -> str:
    """One count alone (a characterisation cell): hidden from 1 to threshold - 1."""
    return hidden_label(threshold) if 0 < n < threshold else str(n)
