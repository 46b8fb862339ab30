from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecruitingConfig(AppConfig):
    name = "recruiting"
    verbose_name = _("Recruiting")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The screening log (patients, below this app) counts the referrals through here.
        from patients import selectors_screening

        from .selectors import screening_conversion

        if screening_conversion not in selectors_screening.CONVERSION_COUNTS:
            selectors_screening.CONVERSION_COUNTS.append(screening_conversion)
