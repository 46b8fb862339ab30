"""The base views: every page that shows a record gets it through ``visible_to``.

- ``get_visible_or_404(queryset, user, **lookup)``: the function views' one fetch. It takes
  a queryset (or a model) so a view that needs ``select_related`` asks for it here, and
  never fetches the object a second time unscoped.
- ``ScopedQuerysetMixin``: class-based views. Subclasses say what to load in
  ``get_base_queryset()``; ``get_queryset`` / ``get_object`` are sealed (a subclass that
  defines them is a ``TypeError`` at import, see ``sealed``), so scoping cannot be skipped.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from .roles import Perm
from .scoping import has_perm

#: The methods a scoped base class owns; subclasses customise ``get_base_queryset``.
SEALED = ("get_queryset", "get_object")


def sealed(cls: type, base: type, names: tuple[str, ...] = SEALED) -> None:
    """Refuse a subclass of ``base`` that redefines one of ``names`` (called from
    ``__init_subclass__``): the scoping they apply cannot be overridden."""
    for name in names:
        if name in cls.__dict__ and cls is not base:
            raise TypeError(
                f"{cls.__module__}.{cls.__qualname__} overrides {name}(), which applies "
                f"the site scoping of {base.__qualname__}: customise get_base_queryset() "
                "(what to load) instead."
            )


def _as_queryset(source: Any) -> models.QuerySet:
    if isinstance(source, models.QuerySet):
        return source
    if isinstance(source, models.Manager):
        return source.all()
    return source.objects.all()  # a model class


def visible(source: Any, user: Any) -> models.QuerySet:
    """``source`` (a queryset, manager or model) restricted to what ``user`` may see."""
    return _as_queryset(source).visible_to(user)


def get_visible_or_404(source: Any, user: Any, **lookup: Any) -> Any:
    """The object of ``source`` (a queryset, e.g. with ``select_related``, or a model)
    matching ``lookup`` that ``user`` may see; anything else (another site's, missing,
    malformed id) is a 404."""
    qs = _as_queryset(source)
    try:
        return qs.visible_to(user).get(**lookup)
    except (qs.model.DoesNotExist, qs.model.MultipleObjectsReturned, ValueError, TypeError) as exc:
        raise Http404 from exc


def require_perm(user: Any, perm: Perm, *, trial_site: Any = None, trial: Any = None) -> None:
    if not has_perm(user, perm, trial_site=trial_site, trial=trial):
        raise PermissionDenied


class ScopedQuerysetMixin:
    """``get_queryset`` and ``get_object`` for every class-based detail/list view: other
    sites → 404. Subclasses provide ``get_base_queryset()``."""

    model: type[models.Model]
    request: Any
    kwargs: dict[str, Any]
    pk_url_kwarg = "pk"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        sealed(cls, ScopedQuerysetMixin)

    def get_base_queryset(self) -> models.QuerySet:
        return self.model.objects.all()

    def get_queryset(self) -> models.QuerySet:
        return visible(self.get_base_queryset(), self.request.user)

    def get_object(self, queryset: Any = None) -> Any:
        qs = self.get_queryset() if queryset is None else visible(queryset, self.request.user)
        return get_visible_or_404(qs, self.request.user, pk=self.kwargs.get(self.pk_url_kwarg))
