"""Names and titles that users read, kept as data in two languages.

The staff UI speaks English and Simplified Chinese (``settings.LANGUAGES``). A name a
site enters (a trial title, an arm, a visit, a hospital) has an English value and an
optional Chinese one; pages show the Chinese one to a reader in Chinese when it is
filled in, else the English one. Both are ordinary model fields, so the audit trail
records a change to either like any other field (the public recruiting texts, which
need more languages, use django-modeltranslation instead).
"""

from __future__ import annotations

from django.utils import translation


def in_reader_language(english: str, chinese: str) -> str:
    """``chinese`` for a reader in Chinese when it is given, else ``english``."""
    language = translation.get_language() or ""
    return chinese if chinese and language.startswith("zh") else english
