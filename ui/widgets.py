from __future__ import annotations

from typing import Any

from django import forms


class DateInput(forms.DateInput):
    """The browser's date picker. Its value is always ISO (``YYYY-MM-DD``), whatever the
    language: the HTML date input reads nothing else (Chinese formats dates ``%Y/%m/%d``)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")
