from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    """Roles, permissions, scoping and blinding. No models: the memberships live in
    ``sites`` (``trial_sites.Membership``); this app decides what they grant."""

    name = "access"
    label = "access"
    verbose_name = _("Access")
