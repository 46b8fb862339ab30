"""Identity documents: validation, normalisation and the keyed hash used to detect the
same person registered at another site without revealing that site's record.

The hash is HMAC-SHA256 under a key derived from FIELD_ENCRYPTION_KEY, so it cannot be
recomputed (or dictionary-attacked) without the server's key.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident identity card")
    PASSPORT = "passport", _("Passport")
    PERMANENT_RESIDENCE = "permanent_residence", _("Foreigner's permanent residence card")


FOREIGNER_DOCUMENTS = frozenset({DocumentType.PASSPORT, DocumentType.PERMANENT_RESIDENCE})

_RESIDENT_ID = re.compile(r"^\d{17}[\dX]\Z")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}\Z")
_PERMANENT_RESIDENCE = re.compile(r"^[A-Z0-9]{9,18}\Z")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalize_document_number(number: str) -> str:
    return re.sub(r"[\s\-]", "", number or "").upper()


def validate_document(doc_type: str, number: str) -> str:
    """Return the normalised number or raise ValidationError naming the problem."""
    value = normalize_document_number(number)
    if doc_type not in DocumentType.values:
        raise ValidationError({"id_document_type": _("Choose a document type from the list.")})
    if doc_type == DocumentType.RESIDENT_ID:
        if not _RESIDENT_ID.match(value):
            raise ValidationError(
                {
                    "id_document_number": _(
                        "A resident identity card number has 18 characters: 17 digits and a final digit or X."
                    )
                }
            )
        check = _ID_CHECK[
            sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True)) % 11
        ]
        if value[17] != check:
            raise ValidationError(
                {
                    "id_document_number": _(
                        "This resident identity card number fails its check digit; please re-check it."
                    )
                }
            )
    elif doc_type == DocumentType.PASSPORT and not _PASSPORT.match(value):
        raise ValidationError(
            {"id_document_number": _("A passport number has 5 to 20 letters and digits.")}
        )
    elif doc_type == DocumentType.PERMANENT_RESIDENCE and not _PERMANENT_RESIDENCE.match(value):
        raise ValidationError(
            {
                "id_document_number": _(
                    "A permanent residence card number has 9 to 18 letters and digits."
                )
            }
        )
    return value


def _hash_key() -> bytes:
    return hmac.new(
        settings.FIELD_ENCRYPTION_KEY.encode(), b"identity-document-hash-v1", hashlib.sha256
    ).digest()


def document_hash(doc_type: str, number: str) -> str:
    # Passports and permanent-residence cards identify the same foreign national; the
    # type is not part of the hash input so either document matches, a resident id never
    # collides with them in practice (different formats).
    value = normalize_document_number(number)
    return hmac.new(_hash_key(), value.encode(), hashlib.sha256).hexdigest()
