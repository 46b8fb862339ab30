"""``{{ text|engine_text }}``: an engine's method statement, definition, data problem or
RECIST note in the reader's language (``ui.engine_text``)."""

from __future__ import annotations

from django import template

from ui.eligibility_text import translate_reason
from ui.engine_text import translate

register = template.Library()


@register.filter
def engine_text(text: str | None) -> str | None:
    return translate(text)


@register.filter
def eligibility_reason(text: str | None) -> str | None:
    """An eligibility criterion's reason in the reader's language (``ui.eligibility_text``)."""
    return translate_reason(text)
