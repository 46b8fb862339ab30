from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring and data quality")

    def ready(self) -> None:
        # The lock guard (pre_save / pre_delete) and the change watcher
        # (post_create_historical_record) of every registered clinical model.
        # The visit page's form states: entered -> verified -> signed.
        from clinical.selectors import STATE_HOOKS

        from . import guard, watcher  # noqa: F401
        from .visit_forms import refine_form_states

        if refine_form_states not in STATE_HOOKS:
            STATE_HOOKS.append(refine_form_states)
