from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from sites.models import TrialSite
from sites.roles import Perm
from sites.scoping import has_perm

from .identity import document_hash
from .models import Patient


def patient_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Patient]:
    """Patients the user may see, filtered. Names are encrypted, so free text matches the
    subject id or, exactly, an identity document number (through its keyed hash)."""
    filters = filters or {}
    qs = Patient.objects.visible_to(user).select_related("trial_site__site", "trial_site__trial")
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(subject_id__icontains=q) | qs.filter(id_document_hash=document_hash("", q))
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("trial_site"):
        qs = qs.filter(trial_site=filters["trial_site"])
    if filters.get("expatriate") == "yes":
        qs = qs.filter(is_expatriate=True)
    elif filters.get("expatriate") == "no":
        qs = qs.filter(is_expatriate=False)
    return qs.order_by("subject_id")


def registrable_trial_sites(*, user: Any) -> QuerySet[TrialSite]:
    """Active trial-sites of recruiting trials where the user may register patients."""
    qs = (
        TrialSite.objects.visible_to(user)
        .filter(status=TrialSite.Status.ACTIVE, trial__status="recruiting")
        .select_related("trial", "site")
    )
    allowed = [ts.pk for ts in qs if has_perm(user, Perm.REGISTER_PATIENT, trial_site=ts)]
    return qs.filter(pk__in=allowed)
