"""The base views: every page that shows a record gets it through ``visible_to``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from .roles import Perm
from .scoping import has_perm


class ScopedQuerysetMixin:
    """``get_queryset`` and ``get_object`` for every detail/list view: other sites → 404."""

    model: type[models.Model]
    request: Any

    def get_queryset(self) -> models.QuerySet:
        return self.model.objects.visible_to(self.request.user)


def require_perm(user: Any, perm: Perm, *, trial_site: Any = None, trial: Any = None) -> None:
    if not has_perm(user, perm, trial_site=trial_site, trial=trial):
        raise PermissionDenied


def get_visible_or_404(model: type[models.Model], user: Any, **lookup: Any) -> Any:
    try:
        return model.objects.visible_to(user).get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
