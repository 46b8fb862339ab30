from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClinicalConfig(AppConfig):
    name = "clinical"
    verbose_name = _("Clinical data")

    def ready(self) -> None:
        from patients import sweeps

        from .selectors import incomplete_visits

        sweeps.INCOMPLETE_FORMS_SELECTOR = incomplete_visits
