from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from sites.models import TrialSite
from sites.roles import Perm
from sites.scoping import has_perm

from .identity import document_hash
from .models import Patient


def patient_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Patient]:
    """Patients the user may see, filtered. Free text matches the subject id only:
    identity look-ups go through :func:`patient_find_by_document` (POST, never a query
    string that ends up in access logs)."""
    filters = filters or {}
    qs = Patient.objects.visible_to(user).select_related("trial_site__site", "trial_site__trial")
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(subject_id__icontains=q)
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("trial_site"):
        qs = qs.filter(trial_site=filters["trial_site"])
    if filters.get("expatriate") == "yes":
        qs = qs.filter(is_expatriate=True)
    elif filters.get("expatriate") == "no":
        qs = qs.filter(is_expatriate=False)
    return qs.order_by("subject_id")


def may_look_up_identity(user: Any) -> bool:
    """May ``user`` search patients by identity document anywhere (VIEW_IDENTITY at one
    trial-site at least)? Pseudonymised roles (lead investigator, data manager) may not:
    a hit would confirm a named person's participation."""
    return bool(identity_trial_site_ids(user))


def identity_trial_site_ids(user: Any) -> list[int]:
    sites = TrialSite.objects.visible_to(user).select_related("trial", "site")
    return [ts.pk for ts in sites if has_perm(user, Perm.VIEW_IDENTITY, trial_site=ts)]


def patient_find_by_document(*, user: Any, document_number: str) -> QuerySet[Patient]:
    """Patients with this identity document (exact, through its keyed hash) at the
    trial-sites where ``user`` may see identity; empty for everyone else."""
    number = (document_number or "").strip()
    allowed = identity_trial_site_ids(user)
    if not number or not allowed:
        return Patient.objects.none()
    return (
        Patient.objects.visible_to(user)
        .filter(trial_site__in=allowed, id_document_hash=document_hash("", number))
        .select_related("trial_site__site", "trial_site__trial")
        .order_by("subject_id")
    )


def registrable_trial_sites(*, user: Any) -> QuerySet[TrialSite]:
    """Active trial-sites of recruiting trials where the user may register patients."""
    qs = (
        TrialSite.objects.visible_to(user)
        .filter(status=TrialSite.Status.ACTIVE, trial__status="recruiting")
        .select_related("trial", "site")
    )
    allowed = [ts.pk for ts in qs if has_perm(user, Perm.REGISTER_PATIENT, trial_site=ts)]
    return qs.filter(pk__in=allowed)
