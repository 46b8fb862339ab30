"""Spreadsheet-safe CSV: the one place every CSV the application writes goes through.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read as a formula by Excel, LibreOffice and Google Sheets ("CSV injection": an adverse
event term ``=HYPERLINK(...)`` would run on the sponsor's workstation). Following OWASP,
such a cell is prefixed with a single quote, which spreadsheets show as text.

Numbers stay numbers: ``int``/``float``/``Decimal`` values, and text that is exactly a
decimal number (``-3.5``, ``+2``, ``1e-3``), are written unchanged — a negative tumour
shrinkage of ``-30.0`` must still sum in a spreadsheet, and a plain number cannot carry a
formula. Anything else starting with a trigger character (``-3.5+A1``, ``+86 138…``,
``-``) is text and gets the quote.

Pure: no Django import.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """The value as it may be written to a CSV cell without being run as a formula."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    text = value if isinstance(value, str) else str(value)
    if text[:1] in TRIGGERS and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: Any, **kwargs: Any) -> SafeWriter:
    """Drop-in for ``csv.writer`` (same keyword arguments)."""
    return SafeWriter(stream, **kwargs)
