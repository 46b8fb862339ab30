from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = _("Patients")

    def ready(self) -> None:
        post_migrate.connect(
            _ensure_ctcae_terms, sender=self, dispatch_uid="patients_ensure_ctcae_terms"
        )


def _ensure_ctcae_terms(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    """The shipped CTCAE catalogue on a database that has none.

    Migration ``0006_load_ctcae_v5_terms`` loads it on every database built by
    migrations, so this finds the terms there and does nothing. It loads them where the
    tables were created straight from the models (the test databases, built without
    replaying the migrations: README "Tests") and after a ``flush``, which empties every
    table and then sends ``post_migrate`` again.
    """
    from .ctcae_catalogue import shipped_terms
    from .models import CtcaeTerm

    terms = CtcaeTerm.objects.using(using)
    if terms.exists():
        return
    terms.bulk_create([CtcaeTerm(**row) for row in shipped_terms()])
