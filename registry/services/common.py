"""What every registry write shares: permission at the record's center, full validation
in one round, a reason for any change to saved data, history attributed to the user."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.users import ActingUser
from patients.services.common import require_reason
from sites.roles import Perm
from sites.scoping import has_perm

M = TypeVar("M", bound=models.Model)


def require_registry_perm(user: Any, site: Any, perm: Perm = Perm.EDIT_REGISTRY) -> None:
    if not has_perm(user, perm, site=site):
        raise PermissionDenied(_("You may not change registry records of this center."))


def merge_errors(*errors: ValidationError | dict[str, list[str]] | None) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for err in errors:
        if err is None:
            continue
        items = err.message_dict.items() if isinstance(err, ValidationError) else err.items()
        for field, messages in items:
            merged.setdefault(field, []).extend(str(m) for m in messages)
    return merged


def save_record(
    instance: M,
    *,
    fields: dict[str, Any],
    site: Any,
    acting_user: ActingUser,
    reason: str = "",
    rules: Callable[[M], dict[str, list[str]]] | None = None,
    created_reason: str = "",
) -> M:
    """Apply ``fields`` to ``instance``, validate everything (model + ``rules``) and save
    in one transaction. A saved record needs a reason; a new one records ``created_reason``.
    """
    require_registry_perm(acting_user, site)
    creating = instance.pk is None
    reason_errors: ValidationError | None = None
    if not creating:
        try:
            reason = require_reason(reason)
        except ValidationError as exc:  # reported with every other problem, in one round
            reason_errors = exc
    for name, value in fields.items():
        if isinstance(value, float) and isinstance(
            instance._meta.get_field(name), models.DecimalField
        ):
            value = Decimal(str(value))  # 1.2, not 1.1999999999999999555910790149937
        setattr(instance, name, value)
    model_errors: ValidationError | None = None
    try:
        instance.full_clean(validate_constraints=False)
    except ValidationError as exc:
        model_errors = exc
    errors = merge_errors(reason_errors, model_errors, rules(instance) if rules else None)
    if errors:
        raise ValidationError(errors)
    with (
        transaction.atomic(),
        audit_context(user=acting_user, reason=(created_reason if creating else reason) or None),
    ):
        if not creating:
            set_change_reason(instance, reason)
        try:
            instance.validate_constraints()
        except ValidationError as exc:
            raise ValidationError(merge_errors(exc)) from exc
        instance.save()
    return instance
