"""Cell parsers of the CSV templates: each reads one cell or raises ``RowError`` naming the
column."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _


class RowError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _date(field: str, value: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise RowError(field, _("Not a date (use YYYY-MM-DD).")) from exc


def _bool(field: str, value: str) -> bool | None:
    v = value.lower()
    if v == "":
        return None
    if v in ("1", "true", "yes", "y"):
        return True
    if v in ("0", "false", "no", "n"):
        return False
    raise RowError(field, _("Use yes or no (or leave empty if unknown)."))


def _int(field: str, value: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise RowError(field, _("Not a whole number.")) from exc


def _decimal(field: str, value: str) -> Decimal | None:
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise RowError(field, _("Not a number.")) from exc


def _list(field: str, value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def _text(field: str, value: str) -> str:
    return value


def _markers(field: str, value: str) -> dict[str, str]:
    """``marker:result;marker:result`` (IHC) as a dict."""
    markers: dict[str, str] = {}
    for item in _list(field, value):
        marker, sep, result = item.partition(":")
        if not sep or not marker.strip() or not result.strip():
            raise RowError(field, _("Write markers as marker:result separated by ;."))
        markers[marker.strip()] = result.strip()
    return markers
