"""What every registry record shares: where it came from (for idempotent re-import) and
the scoping by center."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sites.scoping import ScopedQuerySet


def center_queryset(path: str) -> type[ScopedQuerySet]:
    """A queryset class scoped by the center at ``path`` (no trial scope: registry records
    belong to a center whatever the trial)."""

    return type(
        f"CenterScoped_{path.replace('__', '_')}",
        (ScopedQuerySet,),
        {"scope_trial_field": None, "scope_trial_site_field": None, "scope_site_field": path},
    )


class Sourced(models.Model):
    """Source system + source id: a re-import of the same row updates, never duplicates."""

    source_system = models.CharField(_("source system"), max_length=50, blank=True)
    source_id = models.CharField(_("source id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        abstract = True


class Response(models.TextChoices):
    CR = "CR", _("Complete response")
    PR = "PR", _("Partial response")
    SD = "SD", _("Stable disease")
    PD = "PD", _("Progressive disease")
    NE = "NE", _("Not evaluable")
