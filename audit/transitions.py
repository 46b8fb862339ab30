"""Statuses are data: a TextChoices plus an allowed-transitions table.

``check_transition`` refuses an illegal move with a message a user can act on
(pattern from django-oscar's ``Order.set_status``).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

# Keyed by the TextChoices members (str subclasses): a Mapping's key type is invariant, so a
# ``dict[Model.Status, set[Model.Status]]`` is not a ``Mapping[str, ...]``; the key is looked
# up with the plain string a record holds.
Transitions = Mapping[Any, Set[str]]


def allowed_targets(table: Transitions, current: str) -> frozenset[str]:
    return frozenset(table.get(current, ()))


def check_transition(
    *,
    choices: type[models.TextChoices],
    table: Transitions,
    current: str,
    target: str,
    field: str = "status",
) -> None:
    if target not in choices.values:
        raise ValidationError({field: _("Unknown status “%(status)s”.") % {"status": target}})
    if target == current:
        return
    if target not in allowed_targets(table, current):
        labels = dict(choices.choices)
        allowed = ", ".join(str(labels[t]) for t in sorted(allowed_targets(table, current)))
        raise ValidationError(
            {
                field: _(
                    "Cannot change status from “%(current)s” to “%(target)s”. "
                    "Allowed next statuses: %(allowed)s."
                )
                % {
                    "current": labels.get(current, current),
                    "target": labels[target],
                    "allowed": allowed or _("none (final status)"),
                }
            }
        )
