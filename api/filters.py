"""Filter fields that refuse an impossible id with a 400 instead of sending it to the
database (where an integer beyond 64 bits is an error, i.e. a 500)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django_filters import fields
from django_filters import rest_framework as filters

MAX_ID = 2**63 - 1


class IdMultipleChoiceField(fields.ModelMultipleChoiceField):
    def _check_values(self, value: Any) -> Any:
        for pk in value:
            try:
                number = int(str(pk))
            except ValueError:
                number = 0
            if not 0 < number <= MAX_ID:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class IdMultipleChoiceFilter(filters.ModelMultipleChoiceFilter):
    """Records linked to any of these ids (``?arms=1&arms=2``)."""

    field_class = IdMultipleChoiceField
