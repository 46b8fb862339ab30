"""Escaping and the minimal streaming XML writer the ODM export writes with."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTR_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


_SPECIAL = re.compile('[&<>"\x00-\x1f\ufffe\uffff]')


def _attr(value: Any) -> str:
    text = str(value)
    if _SPECIAL.search(text) is None:  # the common case: nothing to escape
        return text
    return escape(_ILLEGAL_XML.sub("", text), _ATTR_ENTITIES)


def _text(value: Any) -> str:
    text = str(value)
    if _SPECIAL.search(text) is None:
        return text
    return escape(_ILLEGAL_XML.sub("", text))


def _oid_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@+-]", "_", value) or "_"


class XmlOut:
    """A minimal streaming XML writer (what ``XMLGenerator`` does, with empty elements
    closed in place to keep large files smaller)."""

    def __init__(self, write: Callable[[str], Any]) -> None:
        self.write = write

    @staticmethod
    def _attrs(attrs: dict[str, Any] | None) -> str:
        if not attrs:
            return ""
        return "".join(f' {k}="{_attr(v)}"' for k, v in attrs.items() if v is not None)

    def start(self, name: str, attrs: dict[str, Any] | None = None) -> None:
        self.write(f"<{name}{self._attrs(attrs)}>\n")

    def end(self, name: str) -> None:
        self.write(f"</{name}>\n")

    def empty(self, name: str, attrs: dict[str, Any] | None = None) -> None:
        self.write(f"<{name}{self._attrs(attrs)}/>\n")

    def leaf(self, name: str, text: Any, attrs: dict[str, Any] | None = None) -> None:
        self.write(f"<{name}{self._attrs(attrs)}>{_text(text)}</{name}>\n")

    def translated(self, name: str, text: Any) -> None:
        self.write(
            f'<{name}><TranslatedText xml:lang="en">{_text(text)}</TranslatedText></{name}>\n'
        )
