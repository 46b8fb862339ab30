"""ICD-O-3 code lists shipped as data (``registry/data/icdo3.json``, sources in the file
and in the README). Loaded once; choices are (code, "code – label") in the active language.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import get_language

DATA = Path(__file__).parent / "data" / "icdo3.json"


@cache
def _codes() -> dict[str, Any]:
    return json.loads(DATA.read_text(encoding="utf-8"))


def _label(entry: dict[str, str]) -> str:
    lang = (get_language() or "en").lower()
    return entry["zh"] if lang.startswith("zh") else entry["en"]


def topography_codes() -> list[str]:
    return [e["code"] for e in _codes()["topography"]]


def morphology_codes() -> list[str]:
    return [e["code"] for e in _codes()["morphology"]]


def topography_choices() -> list[tuple[str, str]]:
    return [(e["code"], f"{e['code']} – {_label(e)}") for e in _codes()["topography"]]


def morphology_choices() -> list[tuple[str, str]]:
    return [(e["code"], f"{e['code']} – {_label(e)}") for e in _codes()["morphology"]]


def morphology_label(code: str) -> str:
    for e in _codes()["morphology"]:
        if e["code"] == code:
            return _label(e)
    return code


def topography_label(code: str) -> str:
    for e in _codes()["topography"]:
        if e["code"] == code:
            return _label(e)
    return code


def morphology_topographies(code: str) -> list[str]:
    """Sites where this morphology is expected (histology vs topography check)."""
    for e in _codes()["morphology"]:
        if e["code"] == code:
            return list(e["topography"])
    return []


def morphology_category(code: str) -> str | None:
    for e in _codes()["morphology"]:
        if e["code"] == code:
            return e["category"]
    return None


def category_topographies(category: str) -> list[str]:
    return list(_codes()["category_topography"].get(category, []))
