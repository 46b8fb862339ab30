from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SitesConfig(AppConfig):
    # django.contrib.sites owns the label "sites"; ours is "trial_sites" from day one.
    name = "sites"
    label = "trial_sites"
    verbose_name = _("Sites and staff")
