from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from . import signals  # noqa: F401
        from .context import connect_task_signals

        connect_task_signals()
        post_migrate.connect(_install_guards, dispatch_uid="audit_install_guards")


def _install_guards(sender: object, using: str = "default", **kwargs: object) -> None:
    """After every migrate (once, on the last app with models): write-once triggers and hash chains
    on every history table and the access log (PostgreSQL; ``audit.guard``)."""
    from django.apps import apps
    from django.db import connections

    from .guard import install

    # post_migrate is sent only for apps with a models module (``demo`` and ``access``
    # have none): install after the last of those, when every table exists.
    with_models = [a for a in apps.get_app_configs() if a.models_module is not None]
    if sender is not with_models[-1]:
        return
    install(connections[using])
