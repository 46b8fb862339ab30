from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


def apply_errors(form: Any, exc: ValidationError) -> None:
    """Put a service's ValidationError back onto the form, field by field."""
    for field, messages_ in exc.message_dict.items():
        target = field if field in form.fields else None
        for message in messages_:
            form.add_error(target, message)
