"""Password rules beyond Django's validators."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class NoUsernameInPasswordValidator:
    """Refuse a password that contains the account's username (any case).

    ``UserAttributeSimilarityValidator`` catches passwords *similar* to the username;
    this one also catches a long password with the username inside ("crc_sh01-2026-…").
    """

    def validate(self, password: str, user: Any = None) -> None:
        username = (user.get_username() if user is not None else "") or ""
        if len(username) >= 3 and username.casefold() in password.casefold():
            raise ValidationError(
                _("The password must not contain your username."),
                code="password_contains_username",
            )

    def get_help_text(self) -> str:
        return _("Your password must not contain your username.")
