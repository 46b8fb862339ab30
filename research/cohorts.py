"""The research entry points: which registry patients a cohort holds, who may see what.

Other research modules (extracts, exports, characterisation) start here:

- ``matching_patients(criteria)``: every registry record the criteria select, across all
  centers, unscoped. Internal to research: aggregates are computed on it and only ever
  leave through ``disclosure``; an approved extract may read its centers' rows from it.
- ``cohort_patients(cohort, user)``: the rows a user may see (``visible_to``): a center's
  staff their own center's records, an aggregate-only role none.
- ``cohort_counts(...)``: per-center counts and the person total, suppressed, throttled
  and logged (``CohortQuery``).
- ``cohort_create`` / ``cohort_update``: the writes (services: validated, versioned,
  history attributed).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from domain.disclosure import Table, suppress
from registry.models import RegistryPatient
from sites.models import Site
from sites.roles import Perm
from sites.scoping import has_perm, scope_for

from . import criteria as engine
from .models import Cohort, CohortQuery


def threshold() -> int:
    return int(getattr(settings, "RESEARCH_SMALL_CELL_THRESHOLD", 5))


def criteria_errors(tree: Any) -> dict[str, list[str]]:
    """The engine's problems as one form / API field: {"criteria": ["path: message", …]}."""
    problems = engine.validate(tree)
    if not problems:
        return {}
    return {
        "criteria": [
            f"{path}: {message}" if path != "criteria" else message
            for path, messages in problems.items()
            for message in messages
        ]
    }


def _criteria_of(cohort_or_criteria: Cohort | dict) -> dict:
    tree = (
        cohort_or_criteria.criteria
        if isinstance(cohort_or_criteria, Cohort)
        else cohort_or_criteria
    )
    errors = criteria_errors(tree)
    if errors:
        raise ValidationError(errors)
    return tree


def matching_patients(cohort_or_criteria: Cohort | dict) -> QuerySet[RegistryPatient]:
    """Every registry record the criteria select (all centers; see the module docstring)."""
    tree = _criteria_of(cohort_or_criteria)
    return RegistryPatient.objects.filter(engine.compile_q(tree))


def cohort_patients(cohort_or_criteria: Cohort | dict, user: Any) -> QuerySet[RegistryPatient]:
    """The cohort's records ``user`` may see row by row (own center; none for researchers)."""
    if not has_perm(user, Perm.VIEW_REGISTRY):
        return RegistryPatient.objects.none()
    return matching_patients(cohort_or_criteria).filter(
        pk__in=RegistryPatient.objects.visible_to(user).values("pk")
    )


def row_centers(user: Any) -> list[Site]:
    """Centers whose rows ``user`` may see (center staff; data managers: every center)."""
    scope = scope_for(user)
    if scope.everything:
        return list(Site.objects.all())
    return list(Site.objects.filter(pk__in=scope.center_site_ids))


def may_query_aggregates(user: Any) -> bool:
    return has_perm(user, Perm.VIEW_REGISTRY_AGGREGATES)


# --- throttling and the query log ---------------------------------------------------------


class Throttled(Exception):
    """The same question, reshaped, too often: refused and logged."""

    def __init__(self, limit: int, days: int) -> None:
        super().__init__(
            _(
                "You have asked this question (with other numbers or dates) %(limit)s times "
                "in %(days)s days: further variants are refused. A data steward can review "
                "your queries."
            )
            % {"limit": limit, "days": days}
        )


def check_throttle(*, user: Any, tree: dict, kind: str = CohortQuery.Kind.COUNT) -> None:
    """Refuse a query whose shape (criteria without numbers and dates) this user already
    asked ``RESEARCH_REPEAT_LIMIT`` times in ``RESEARCH_REPEAT_WINDOW_DAYS`` with other
    values (an identical repeat is not a new question and is answered)."""
    limit = int(getattr(settings, "RESEARCH_REPEAT_LIMIT", 7))
    days = int(getattr(settings, "RESEARCH_REPEAT_WINDOW_DAYS", 30))
    since = timezone.now() - datetime.timedelta(days=days)
    fp = engine.fingerprint(tree)
    digest = engine.criteria_hash(tree)
    recent = CohortQuery.objects.filter(
        user=user, fingerprint=fp, created_at__gte=since, throttled=False
    )
    if recent.filter(criteria_hash=digest).exists():
        return
    if recent.values("criteria_hash").distinct().count() >= limit:
        log_query(user=user, kind=kind, tree=tree, result={}, throttled=True)
        raise Throttled(limit, days)


def log_query(
    *,
    user: Any,
    kind: str,
    tree: dict,
    result: dict,
    cohort: Cohort | None = None,
    throttled: bool = False,
) -> CohortQuery:
    with audit_context(user=user):
        return CohortQuery.objects.create(
            user=user if getattr(user, "is_authenticated", False) else None,
            username=getattr(user, "username", "") or "",
            kind=kind,
            cohort=cohort,
            cohort_version=cohort.version if cohort else None,
            criteria=tree,
            criteria_hash=engine.criteria_hash(tree),
            fingerprint=engine.fingerprint(tree),
            result=result,
            throttled=throttled,
        )


# --- counts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    table: Table  # per center, suppressed
    own_rows: int  # records of the user's own center(s) (exact: they may see them)

    def as_dict(self) -> dict[str, Any]:
        return {**self.table.as_dict(), "own_center_records": self.own_rows}


def raw_counts(patients: QuerySet[RegistryPatient]) -> tuple[dict[str, int], int]:
    """(records per center code for every center, distinct persons)."""
    per_center = dict(
        patients.order_by().values_list("site__code").annotate(n=Count("id")).order_by()
    )
    persons = patients.order_by().values("national_pseudonym").distinct().count()
    centers = Site.objects.order_by("code").values_list("code", flat=True)
    return {code: per_center.get(code, 0) for code in centers}, persons


def cohort_counts(
    *, criteria: Any = None, cohort: Cohort | None = None, acting_user: Any
) -> Counts:
    """Per-center counts and the total of persons, as an aggregate role may see them.
    Raises ``PermissionDenied``, ``ValidationError`` (criteria) or ``Throttled``."""
    if not may_query_aggregates(acting_user):
        raise PermissionDenied(_("You may not query registry aggregates."))
    tree = _criteria_of(cohort if cohort is not None else criteria)
    check_throttle(user=acting_user, tree=tree)
    patients = matching_patients(tree)
    per_center, persons = raw_counts(patients)
    table = suppress(per_center, persons, threshold())
    own = patients.filter(site_id__in=scope_for(acting_user).center_site_ids).count()
    counts = Counts(table, own)
    log_query(
        user=acting_user,
        kind=CohortQuery.Kind.COUNT,
        tree=tree,
        cohort=cohort,
        result=counts.as_dict(),
    )
    return counts


# --- saved cohorts ------------------------------------------------------------------------


def _check_fields(name: str, tree: Any) -> None:
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("This field is required.")]
    elif len(name) > 200:
        errors["name"] = [_("At most 200 characters.")]
    errors.update(criteria_errors(tree))
    if errors:
        raise ValidationError(errors)


def cohort_create(
    *,
    name: str,
    criteria: dict,
    acting_user: Any,
    description: str = "",
    is_shared: bool = False,
    reason: str = "",
) -> Cohort:
    if not (may_query_aggregates(acting_user) or has_perm(acting_user, Perm.VIEW_REGISTRY)):
        raise PermissionDenied(_("You may not build registry cohorts."))
    _check_fields(name, criteria)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason or None):
        return Cohort.objects.create(
            name=name.strip(),
            description=description,
            criteria=criteria,
            is_shared=is_shared,
            owner=acting_user,
            owner_username=acting_user.username,
        )


def cohort_update(
    *,
    cohort: Cohort,
    acting_user: Any,
    reason: str = "",
    name: str | None = None,
    criteria: dict | None = None,
    description: str | None = None,
    is_shared: bool | None = None,
) -> Cohort:
    """A new version of the cohort (the history keeps the previous one). Owner only."""
    if cohort.owner_id != getattr(acting_user, "pk", None):
        raise PermissionDenied(_("Only the owner changes a cohort; save a copy instead."))
    new_name = cohort.name if name is None else name
    new_criteria = cohort.criteria if criteria is None else criteria
    _check_fields(new_name, new_criteria)
    if (
        new_name.strip() == cohort.name
        and new_criteria == cohort.criteria
        and description in (None, cohort.description)
        and is_shared in (None, cohort.is_shared)
    ):
        return cohort  # nothing changed: no new version
    with transaction.atomic(), audit_context(user=acting_user, reason=reason or None):
        cohort.name = new_name.strip()
        cohort.criteria = new_criteria
        if description is not None:
            cohort.description = description
        if is_shared is not None:
            cohort.is_shared = is_shared
        cohort.version += 1
        cohort._change_reason = reason or f"version {cohort.version}"
        cohort.save()
    return cohort
