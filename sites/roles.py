"""Moved to ``access.roles`` (the access kernel); kept so existing imports still work."""

from access.roles import (  # noqa: F401
    CENTER_ROLES,
    GLOBAL_ROLES,
    NETWORK_ROLES,
    ROLE_PERMS,
    SITE_ROLES,
    TRIAL_ROLES,
    Perm,
    Role,
)
