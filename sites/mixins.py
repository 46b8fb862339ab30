"""Moved to ``access.views`` (the access kernel); kept so existing imports still work."""

from access.views import (  # noqa: F401
    ScopedQuerysetMixin,
    get_visible_or_404,
    require_perm,
)
