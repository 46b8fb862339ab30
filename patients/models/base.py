from __future__ import annotations

from typing import Any

from encrypted_fields.fields import EncryptedCharField

from sites.scoping import ScopedQuerySet


class PatientChildQuerySet(ScopedQuerySet):
    """Records that hang on a patient are scoped through the patient's trial-site."""

    scope_trial_field = "patient__trial_site__trial"
    scope_trial_site_field = "patient__trial_site"


class EncryptedBlankCharField(EncryptedCharField):
    """An encrypted text that may be empty: ``""`` is stored as ``""`` (nothing to hide),
    not as NULL as the parent field does, so a NOT NULL column keeps working."""

    def get_prep_value(self, value: Any) -> Any:
        if value == "":
            return ""
        return super().get_prep_value(value)
