"""The national pseudonym: the same person at two centers gets the same value, derived
from the keyed HMAC of the normalised identity document (``patients.identity``), so the
registry links records across centers without storing or showing the document to anyone
who cannot already see it. A trial subject's ``id_document_hash`` gives the same value,
which is how a trial subject links to their registry record."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from patients.identity import document_hash

PREFIX = "NP-"


def pseudonym_from_hash(doc_hash: str) -> str:
    key = hmac.new(
        settings.FIELD_ENCRYPTION_KEY.encode(), b"registry-national-pseudonym-v1", hashlib.sha256
    ).digest()
    digest = hmac.new(key, doc_hash.encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:20].upper()


def national_pseudonym(doc_type: str, number: str) -> str:
    return pseudonym_from_hash(document_hash(doc_type, number))
