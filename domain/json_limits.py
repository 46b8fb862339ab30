"""Nesting depth of a JSON text, measured before parsing.

Python's ``json`` module recurses once per nesting level: a 50,000-deep body raises
``RecursionError`` (a 500) instead of a parse error. Every place that parses JSON from a
user (the API parser, admin JSON fields, uploaded data cuts) measures the depth first with
this linear scan, which never recurses. No Django import.
"""

from __future__ import annotations

import re

# Sane for every document the app accepts (the deepest real one, an eligibility rule,
# nests a handful of levels).
MAX_JSON_DEPTH = 64

_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"?|[\[\]{}]')


def json_depth(text: str, *, stop_after: int | None = None) -> int:
    """Deepest nesting of arrays/objects in ``text`` (strings are skipped). Stops early
    once ``stop_after`` is exceeded. Malformed text is measured as far as it goes; the
    parser reports what is wrong with it."""
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_after is not None and deepest > stop_after:
                    return deepest
        elif token in ("]", "}"):
            depth = max(0, depth - 1)
    return deepest


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    return json_depth(text, stop_after=limit) > limit
