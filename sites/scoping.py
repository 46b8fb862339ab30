"""Moved to ``access.scoping`` (the access kernel); kept so existing imports still work."""

from access.scoping import (  # noqa: F401
    EMPTY,
    Scope,
    ScopedQuerySet,
    forget_scope,
    has_perm,
    scope_for,
)
