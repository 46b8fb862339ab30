"""A service's ValidationError shown on the form that called it (every app's pages)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


def apply_errors(form: Any, exc: ValidationError) -> None:
    """Put a service's ValidationError back onto the form, field by field."""
    for field, messages_ in exc.message_dict.items():
        target = field if field in form.fields else None
        for message in messages_:
            form.add_error(target, message)


def add_missing_errors(form: Any, errors: dict[str, list[str]]) -> None:
    """After the form's own checks failed, add what the service's rules say about the
    values that could be read, so the user corrects everything in one round. A field
    already in error keeps its own message (the rule saw a blank there); errors on
    unknown keys become errors of the form."""
    for field, messages_ in errors.items():
        target = field if field in form.fields else None
        if target is not None and target in form.errors:
            continue
        for message in messages_:
            if target is None and message in form.non_field_errors():
                continue
            form.add_error(target, message)
