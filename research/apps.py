from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResearchConfig(AppConfig):
    """Research on the national registry (cohorts, disclosure control, characterisation,
    feasibility, extracts, exports). A layer above ``registry``: registry never imports it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "research"
    verbose_name = _("Registry research")
