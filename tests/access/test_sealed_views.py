"""Scoped base classes own get_queryset / get_object: a subclass cannot bypass them."""

from __future__ import annotations

import pytest
from django.contrib import admin
from rest_framework import viewsets

from access.views import ScopedQuerysetMixin
from api.base import ScopedViewSetMixin
from api.urls import router
from sites.admin_base import ScopedAdmin


@pytest.mark.parametrize("method", ["get_queryset", "get_object"])
def test_a_viewset_overriding_the_scoped_queryset_is_refused(method):
    with pytest.raises(TypeError, match="get_base_queryset"):
        type("Leaky", (ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet), {method: lambda s: 0})


@pytest.mark.parametrize("method", ["get_queryset", "get_object"])
def test_a_view_overriding_the_scoped_queryset_is_refused(method):
    with pytest.raises(TypeError, match="get_base_queryset"):
        type("Leaky", (ScopedQuerysetMixin,), {method: lambda s: 0})


def test_an_admin_overriding_the_scoped_queryset_is_refused():
    with pytest.raises(TypeError):
        type("LeakyAdmin", (ScopedAdmin,), {"get_queryset": lambda s, r: 0})


def test_subclasses_may_shape_what_they_load():
    cls = type("Fine", (ScopedViewSetMixin,), {"get_base_queryset": lambda s: 0})
    assert cls.get_base_queryset(None) == 0


def test_every_api_viewset_that_reads_models_is_scoped():
    """Every routed viewset with a model goes through ScopedViewSetMixin (exports are
    personal and scoped by their own queryset, ``exports.models``)."""
    for prefix, viewset, _basename in router.registry:
        if getattr(viewset, "queryset", None) is None and not hasattr(viewset, "queryset_model"):
            continue
        assert issubclass(viewset, ScopedViewSetMixin) or "get_queryset" in vars(viewset), prefix


def test_every_project_admin_is_scoped():
    """Each admin page of a scoped model restricts its rows through the kernel: a
    ``ScopedAdmin`` (sealed), or its own ``get_queryset`` calling ``visible_to``."""
    import inspect

    for model, model_admin in admin.site._registry.items():
        if not hasattr(model.objects, "visible_to"):
            continue
        if isinstance(model_admin, ScopedAdmin):
            continue
        source = inspect.getsource(type(model_admin).get_queryset)
        assert "visible_to" in source, model
