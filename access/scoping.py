"""Site scoping: the one mechanism that decides which records a user can see.

Every queryset of the project exposes ``.visible_to(user)``; every view, admin page and
API endpoint gets its objects through it (``access.views``, ``api.base.ScopedViewSetMixin``, ``ScopedAdmin``), so a
record of another site is a 404, never a 403 that would confirm it exists
(PostHog ``routing.py``, NetBox ``RestrictedQuerySet.restrict``).

Scope by role:
- data manager, administrator, superuser: everything;
- lead investigator, monitor: every site of their trial(s);
- coordinator, site investigator: their own trial-site(s) only;
- center data abstractor / investigator / steward: their own center's (``Site``) registry
  records, whatever the trial (``scope_site_field``); no trial data;
- network researcher: no row at all (registry aggregates only, decided by permission).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from django.apps import apps
from django.db import models
from django.db.models import Q

from .roles import (
    CENTER_ROLES,
    GLOBAL_ROLES,
    NETWORK_ROLES,
    ROLE_PERMS,
    SITE_ROLES,
    TRIAL_ROLES,
    Perm,
)

_CACHE_ATTR = "_hb_scope"


@dataclass(frozen=True)
class Scope:
    everything: bool
    trial_ids: frozenset[int]  # trial-wide access (lead investigator, monitor)
    trial_site_ids: frozenset[int]  # site-level access (coordinator, site investigator)
    site_trial_ids: frozenset[int]  # trials of the user's trial-sites
    memberships: tuple[Any, ...]
    center_site_ids: frozenset[int] = frozenset()  # center roles: the user's centers (Site)

    @property
    def nothing(self) -> bool:
        return not (
            self.everything or self.trial_ids or self.trial_site_ids or self.center_site_ids
        )


EMPTY = Scope(False, frozenset(), frozenset(), frozenset(), ())


def scope_for(user: Any) -> Scope:
    """The user's scope, computed once per user object (i.e. once per request)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return EMPTY
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    # by name, not import: the memberships' app (``sites``) sits above this kernel
    membership = apps.get_model("trial_sites", "Membership")
    memberships = tuple(
        membership.objects.filter(user=user, is_active=True).select_related(
            "trial_site", "trial_site__site", "trial_site__trial", "trial", "site"
        )
    )
    everything = user.is_superuser or any(m.role in GLOBAL_ROLES for m in memberships)
    scope = Scope(
        everything=everything,
        trial_ids=frozenset(m.trial_id for m in memberships if m.role in TRIAL_ROLES),
        trial_site_ids=frozenset(m.trial_site_id for m in memberships if m.role in SITE_ROLES),
        site_trial_ids=frozenset(
            m.trial_site.trial_id for m in memberships if m.role in SITE_ROLES
        ),
        memberships=memberships,
        center_site_ids=frozenset(m.site_id for m in memberships if m.role in CENTER_ROLES),
    )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def has_perm(
    user: Any, perm: Perm, *, trial_site: Any = None, trial: Any = None, site: Any = None
) -> bool:
    """May ``user`` do ``perm`` on data of ``trial_site`` (or trial-level ``trial``), or on
    registry data of center ``site``? Without any of them: anywhere (menus, list pages)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    trial_id = trial.pk if trial is not None else (trial_site.trial_id if trial_site else None)
    for m in scope_for(user).memberships:
        if perm not in ROLE_PERMS.get(m.role, ()):
            continue
        if m.role in GLOBAL_ROLES:
            return True
        if m.role in CENTER_ROLES:
            # a center role acts on its center's registry data only, never on a trial's
            if site is not None and m.site_id == site.pk:
                return True
            if site is None and trial_site is None and trial is None:
                return True
            continue
        if m.role in NETWORK_ROLES:
            if site is None and trial_site is None and trial is None:
                return True  # network-wide, aggregates only
            continue
        if site is not None:
            continue  # registry data of a center: only center (and global) roles
        if m.role in TRIAL_ROLES and (trial_id is None or m.trial_id == trial_id):
            return True
        if m.role in SITE_ROLES:
            if trial_site is not None and m.trial_site_id == trial_site.pk:
                return True
            if trial_site is None and (trial_id is None or m.trial_site.trial_id == trial_id):
                return True
    return False


class ScopedQuerySet(models.QuerySet):
    """Base queryset: subclasses name the paths from the model to its trial / trial-site.

    ``scope_trial_field``: path to the Trial (``"trial"``, ``"trial_site__trial"``).
    ``scope_trial_site_field``: path to the TrialSite (``"trial_site"``), or None for
    trial-level reference data that every member of the trial may read.
    ``scope_site_field``: path to the center (``Site``) for records that belong to a center
    whatever the trial (the registry): center roles see them for their own centers.
    """

    scope_trial_field: str | None = "trial"
    scope_trial_site_field: str | None = None
    scope_site_field: str | None = None

    def scope_q(self, scope: Scope) -> Q:
        q = Q(pk__in=[])
        if self.scope_trial_field and scope.trial_ids:
            q |= Q(**{f"{self.scope_trial_field}__in": scope.trial_ids})
        if self.scope_trial_site_field:
            if scope.trial_site_ids:
                q |= Q(**{f"{self.scope_trial_site_field}__in": scope.trial_site_ids})
        elif self.scope_trial_field and scope.site_trial_ids:
            q |= Q(**{f"{self.scope_trial_field}__in": scope.site_trial_ids})
        if self.scope_site_field and scope.center_site_ids:
            q |= Q(**{f"{self.scope_site_field}__in": scope.center_site_ids})
        return q

    def visible_to(self, user: Any) -> Self:
        scope = scope_for(user)
        if scope.everything:
            return self.all()
        if scope.nothing:
            return self.none()
        return self.filter(self.scope_q(scope))


class PersonalQuerySet(models.QuerySet):
    """Rows that belong to a person rather than a site (the access log): global roles and
    superusers see every row, anyone else only their own (``scope_user_field``). An access
    log names usernames, IP addresses and the URLs of patient records: a staff coordinator
    of site A must not read site B's."""

    scope_user_field: str = "user"

    def visible_to(self, user: Any) -> Self:
        scope = scope_for(user)
        if scope.everything:
            return self.all()
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(**{self.scope_user_field: user})
