from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = _("Trial analysis")

    def ready(self) -> None:
        # A changed outcome (patients.services.response, below this app) bumps the trial's
        # statistics version, then asks here for a background recomputation.
        from patients.services import response

        from .tasks import schedule_statistics_recompute

        if schedule_statistics_recompute not in response.STATISTICS_INVALIDATED:
            response.STATISTICS_INVALIDATED.append(schedule_statistics_recompute)
