"""Who receives a notification, each with the language they read.

Recipients are active staff with an email address and an active membership of the
right role; safety contacts of a trial (plain addresses, no account) read English.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import BooleanField, Case, Q, Value, When

from sites.models import Membership
from sites.roles import Role

from .services import user_language

Recipient = tuple[str, str]  # (email, language)


def _add(out: dict[str, str], email: str, language: str) -> None:
    email = (email or "").strip()
    if email and email.lower() not in {e.lower() for e in out}:
        out[email] = language


def staff_recipients(
    *, roles: Iterable[str], trial: Any = None, trial_site: Any = None
) -> list[Recipient]:
    """Active members holding one of ``roles``: trial roles on ``trial``, site roles on
    ``trial_site`` (or, with only ``trial`` given, on any site of the trial)."""
    (group,) = staff_recipient_groups({"roles": roles, "trial": trial, "trial_site": trial_site})
    return group


def _membership_filter(*, roles: Iterable[str], trial: Any = None, trial_site: Any = None) -> Q:
    roles = set(roles)
    site_roles = {Role.COORDINATOR, Role.SITE_INVESTIGATOR} & roles
    trial_roles = {Role.LEAD_INVESTIGATOR, Role.MONITOR} & roles
    where = Q(pk__in=[])
    if trial_roles and trial is not None:
        where |= Q(role__in=trial_roles, trial=trial)
    if site_roles:
        if trial_site is not None:
            where |= Q(role__in=site_roles, trial_site=trial_site)
        elif trial is not None:
            where |= Q(role__in=site_roles, trial_site__trial=trial)
    return Q(role__in=roles) & where


def staff_recipient_groups(*specs: dict[str, Any]) -> list[list[Recipient]]:
    """:func:`staff_recipients` of each spec (its keyword arguments), in one query: the
    same recipients, in the same order, as one call per spec."""
    filters = [_membership_filter(**spec) for spec in specs]
    where = Q(pk__in=[])
    for f in filters:
        where |= f
    qs = (
        Membership.objects.filter(is_active=True, user__is_active=True)
        .exclude(user__email="")
        .filter(where)
        .select_related("user__staff_profile")
        .order_by("user__username", "pk")
    )
    if len(filters) > 1:  # which specs each membership answers
        qs = qs.annotate(
            **{
                f"_in_{i}": Case(
                    When(f, then=Value(True)), default=Value(False), output_field=BooleanField()
                )
                for i, f in enumerate(filters)
            }
        )
    out: list[dict[str, str]] = [{} for _ in specs]
    for membership in qs:
        for i, group in enumerate(out):
            if len(out) == 1 or getattr(membership, f"_in_{i}"):
                _add(group, membership.user.email, user_language(membership.user))
    return [list(group.items()) for group in out]


def user_recipient(user: Any) -> list[Recipient]:
    if user is None or not getattr(user, "email", "") or not user.is_active:
        return []
    return [(user.email, user_language(user))]


def safety_contact_addresses(trial: Any) -> list[str]:
    """The valid addresses of ``Trial.safety_contacts`` (one per line; commas and
    semicolons tolerated); anything that is not an address is ignored."""
    out = []
    text = (getattr(trial, "safety_contacts", "") or "").replace(",", "\n").replace(";", "\n")
    for line in text.splitlines():
        address = line.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            continue
        if address.lower() not in {a.lower() for a in out}:
            out.append(address)
    return out


def merge(*groups: Iterable[Recipient]) -> list[Recipient]:
    """Recipients of several groups, each address once (its first language wins)."""
    out: dict[str, str] = {}
    for group in groups:
        for email, language in group:
            _add(out, email, language)
    return list(out.items())


def safety_contacts(trial: Any) -> list[Recipient]:
    return [(a, settings.LANGUAGE_CODE) for a in safety_contact_addresses(trial)]


def site_zone(trial_site: Any) -> datetime.tzinfo:
    """The site's zone (``Site.zone``); the deployment's without a site."""
    site = getattr(trial_site, "site", None)
    return site.zone if site is not None else zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local_time(value: datetime.datetime | None, trial_site: Any) -> str:
    """A time as the site reads it, with its zone: "2026-03-02 14:05 (Asia/Shanghai)"."""
    if value is None:
        return "—"
    zone = site_zone(trial_site)
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M} ({zone})"


def absolute_url(path: str) -> str:
    """``SITE_URL`` + path, so a mail links to the page (a bare path without it)."""
    base = (getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{base}{path}"
