"""Trial statistics for the dashboard: the analysis engine over stored outcomes, scoped
to what the user may see, and cached.

Every enrolled patient's outcome is stored in ``ResponseSummary.outcome`` (exactly what
``domain.analysis.patient_outcome`` returns, kept in step by
``patients.services.response.response_recompute``), so the figures come from one query
over stored outcomes, whatever the number of assessments, and from the same engine as
``manage.py analyze_datacut``.

Caching: results live in Django's cache under a key that includes the trial's statistics
version (``trial-stats-version:<trial id>``, bumped by ``statistics_invalidate`` whenever
a patient's outcome changes), the cutoff date, the scope (site codes) and whether
arm-level figures are included; in two entries (``domain.analysis_payload.split``): the
summary, whose size does not grow with the number of patients (the dashboard page and
its data.json read only this one), and the per-patient rows (waterfall, swimmer, every
Kaplan-Meier step: the waterfall.json and swimmer.json endpoints, the CSV downloads and
the API). The trial header (settings, arms, sites and targets) is
cached the same way, with a short time-out so configuration edits show within minutes.

Scope:
- trial-wide roles (lead investigator, monitor, data manager, administrator): every site,
  or the one chosen with ``site_code``;
- site roles (site investigator): the trial-sites where they hold the dashboard
  permission; they also get ``trial_level``, the whole trial's aggregate figures with the
  patient-level rows (waterfall, swimmer, per-site figures) removed.
Blinding: in a blinded trial arm-level efficacy is left out unless the user holds
the unblinded view of the trial (``access.blinding.arms_visible``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.cache import cache
from django.db import connection, models
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from access import blinding
from domain import analysis, analysis_payload
from patients.models import ResponseSummary
from sites.roles import ROLE_PERMS, SITE_ROLES, TRIAL_ROLES, Perm
from sites.scoping import has_perm, scope_for
from trials.models import Trial
from ui.translated import in_reader_language

from .datacut import trial_header

STATS_TIMEOUT = 6 * 3600  # seconds; the version key makes a stale entry unreachable anyway
HEADER_TIMEOUT = 600  # seconds; trial configuration (targets, arms) shows within 10 minutes
ALL_SITES = "*"
SUMMARY, ROWS = "summary", "rows"  # the two cache entries of one set of figures
#: First rows of each per-patient list and KM curve the summary keeps (the page's
#: "Numbers" tables show no more; the CSV downloads read the rows).
HEAD_ROWS = 100

#: Keys of ``trial_level`` (the trial-wide aggregates a site investigator also sees).
TRIAL_LEVEL_KEYS = (
    "format",
    "format_version",
    "trial",
    "cutoff_date",
    "criteria",
    "definitions",
    "overall",
    "by_arm",
    "comparisons",
    "arm_level",
)


class UnknownSite(Http404):
    """The requested site is not one of the trial's sites the user may see."""


def stats_version(trial_id: int) -> int:
    return int(cache.get(f"trial-stats-version:{trial_id}") or 0)


def _trial_token(trial: Trial) -> str:
    # The creation time guards against a reused primary key (a restored database, or
    # rolled-back test transactions) finding another trial's cached figures.
    created = trial.created_at.timestamp() if trial.created_at else 0
    return f"{trial.pk}.{created:.6f}"


def cached_trial_header(trial: Trial, *, cutoff: date) -> dict[str, Any]:
    """``trial_header`` (2 queries: arms, trial-sites with their sites), cached."""
    key = f"trial-header:{_trial_token(trial)}:v{stats_version(trial.pk)}:{cutoff.isoformat()}"
    header = cache.get(key)
    if header is None:
        header = trial_header(trial, cutoff=cutoff)
        cache.set(key, header, HEADER_TIMEOUT)
    return header


def dashboard_sites(*, trial: Trial, user: Any) -> tuple[bool, list[str]]:
    """(trial_wide, site codes) the user may see on this trial's dashboard.

    Site codes of site roles come from the user's memberships (no query); for trial-wide
    users the list is empty and means "every site of the trial".
    """
    scope = scope_for(user)
    if scope.everything or getattr(user, "is_superuser", False):
        return True, []
    if any(
        m.role in TRIAL_ROLES
        and m.trial_id == trial.pk
        and Perm.VIEW_DASHBOARD in ROLE_PERMS.get(m.role, ())
        for m in scope.memberships
    ):
        return True, []
    codes = sorted(
        {
            m.trial_site.site.code
            for m in scope.memberships
            if m.role in SITE_ROLES
            and m.trial_site_id
            and m.trial_site.trial_id == trial.pk
            and has_perm(user, Perm.VIEW_DASHBOARD, trial_site=m.trial_site)
        }
    )
    return False, codes


#: The stored outcome's keys the statistics read, with their types. Everything but the
#: per-scan ``timepoints`` and the ``notes`` (most of each ~2 KB outcome), read as typed
#: columns (``outcome->>'key'`` cast in SQL) so no whole JSON document is decoded.
OUTCOME_COLUMNS: dict[str, type[models.Field]] = {
    "subject_id": models.TextField,
    "site": models.TextField,
    "arm": models.TextField,
    "enrolled_on": models.TextField,
    "day0": models.TextField,
    "stratum": models.TextField,
    "evaluable": models.BooleanField,
    "measurable_disease": models.BooleanField,
    "treated": models.BooleanField,
    "recorded": models.BooleanField,
    "confirmed": models.BooleanField,
    "not_yet_assessable": models.BooleanField,
    "bor": models.TextField,
    "bor_confirmed": models.TextField,
    "bor_unconfirmed": models.TextField,
    "non_ablated_bor": models.TextField,
    "best_change_pct": models.FloatField,
    "first_response_day": models.IntegerField,
    "progression_day": models.IntegerField,
    "followups": models.IntegerField,
    "pfs_days": models.IntegerField,
    "pfs_event": models.BooleanField,
    "os_days": models.IntegerField,
    "os_event": models.BooleanField,
    "dor_days": models.IntegerField,
    "dor_event": models.BooleanField,
    "days_on_study": models.IntegerField,
}
#: Keys an older outcome may lack, where the engine's default differs from None.
_ABSENT_WHEN_NULL = ("treated", "followups")
_READ_KEYS = frozenset([*OUTCOME_COLUMNS, "problems"])


def _outcomes(trial: Trial, site_codes: Sequence[str] | None) -> list[dict[str, Any]]:
    """ONE query: the stored outcomes of the trial's enrolled patients in scope, as
    plain dicts of the keys in ``OUTCOME_COLUMNS`` (typed columns) and ``problems``.

    Ordered by subject id, as a data cut lists its patients, so that ties in the
    waterfall and swimmer order come out exactly as ``analyze_datacut`` orders them.
    """
    qs = ResponseSummary.objects.filter(
        patient__trial_site__trial_id=trial.pk, patient__enrollment__isnull=False
    ).exclude(outcome={})
    if site_codes is not None:
        qs = qs.filter(patient__trial_site__site__code__in=list(site_codes))
    qs = qs.order_by("patient__subject_id")
    if connection.vendor != "postgresql":
        # SQLite's ->> gives JSON text for nulls and 1/0 for booleans: read the
        # documents there (development and tests), without the keys no figure uses.
        return [
            {k: v for k, v in o.items() if k in _READ_KEYS}
            for o in qs.values_list("outcome", flat=True)
        ]
    columns: dict[str, Any] = {
        f"o_{key}": Cast(KeyTextTransform(key, "outcome"), field())
        for key, field in OUTCOME_COLUMNS.items()
    }
    columns["o_problems"] = KeyTransform("problems", "outcome")
    keys = [*OUTCOME_COLUMNS, "problems"]
    out = []
    for row in qs.annotate(**columns).values_list(*columns):
        o = dict(zip(keys, row, strict=True))
        o["problems"] = o["problems"] or []
        for key in _ABSENT_WHEN_NULL:
            if o[key] is None:
                del o[key]
        out.append(o)
    return out


def _header_for(header: dict[str, Any], site_codes: Sequence[str] | None) -> dict[str, Any]:
    """The header restricted to the sites in scope (per-site figures and targets)."""
    if site_codes is None:
        return header
    wanted = set(site_codes)
    return {**header, "sites": [s for s in header["sites"] if s["code"] in wanted]}


def _stats_key(
    trial: Trial, site_codes: Sequence[str] | None, *, arm_level: bool, cutoff: date
) -> str:
    scope_key = ALL_SITES if site_codes is None else ",".join(sorted(site_codes))
    return (
        f"trial-stats:{_trial_token(trial)}:v{stats_version(trial.pk)}:{cutoff.isoformat()}"
        f":{scope_key}:{int(arm_level)}"
    )


def _figures(
    trial: Trial,
    header: dict[str, Any],
    site_codes: Sequence[str] | None,
    *,
    arm_level: bool,
    cutoff: date,
    rows: bool,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(summary, per-patient rows or None) of ``domain.analysis_payload.split``, from the
    cache (one read, of the rows only when asked for); on a miss both are computed and
    cached under their two keys, so that a page reading the summary never loads rows."""
    key = _stats_key(trial, site_codes, arm_level=arm_level, cutoff=cutoff)
    keys = [f"{key}:{SUMMARY}", f"{key}:{ROWS}"] if rows else [f"{key}:{SUMMARY}"]
    found = cache.get_many(keys)
    if len(found) == len(keys):
        return found[keys[0]], found[keys[1]] if rows else None
    outcomes = _outcomes(trial, site_codes)
    stats = analysis.trial_statistics(
        _header_for(header, site_codes), outcomes, arm_level=arm_level
    )
    stats["computed_at"] = timezone.now().isoformat(timespec="seconds")
    summary, patient_rows = analysis_payload.split(stats, head=HEAD_ROWS)
    cache.set_many({f"{key}:{SUMMARY}": summary, f"{key}:{ROWS}": patient_rows}, STATS_TIMEOUT)
    return summary, patient_rows if rows else None


def _compute(
    trial: Trial,
    header: dict[str, Any],
    site_codes: Sequence[str] | None,
    *,
    arm_level: bool,
    cutoff: date,
) -> dict[str, Any]:
    """The cached summary (computed, with the rows, on a miss)."""
    return _figures(trial, header, site_codes, arm_level=arm_level, cutoff=cutoff, rows=False)[0]


def trial_level_only(stats: dict[str, Any]) -> dict[str, Any]:
    """Whole-trial aggregates without any patient-level row or per-site figure."""
    out = {k: stats[k] for k in TRIAL_LEVEL_KEYS if k in stats}
    enrollment = stats.get("enrollment") or {}
    out["enrollment"] = {
        "months": [
            {"month": m["month"], "total": m["total"]} for m in enrollment.get("months", [])
        ],
        "total_target": enrollment.get("total_target", 0),
    }
    out["computed_at"] = stats.get("computed_at")
    return out


def arm_level_for(*, trial: Trial, user: Any) -> bool:
    """Arm-level efficacy is shown unless the trial is blinded and the user is too
    (``access.blinding.arms_visible``)."""
    return blinding.arms_visible(user, trial)


def trial_statistics_for(
    *, trial: Trial, user: Any, site_code: str | None = None, part: str = "full"
) -> dict[str, Any]:
    """Every dashboard figure of ``trial`` that ``user`` may see (see the module doc).

    ``part``: ``"full"`` (the API, the CSV downloads): the whole dict of
    ``domain.analysis.trial_statistics``, per-patient rows and every KM step included;
    ``"summary"`` (the dashboard page and its data.json): the summary of
    ``domain.analysis_payload.split``, whose size does not grow with the number of
    patients, read from its own cache entry without the rows. Both carry ``scope`` and
    ``trial_level`` (the whole trial's aggregates, for site roles).

    Queries, whatever the number of patients: the user's memberships (once per user
    object), then on a cache miss the trial header (2) and the outcomes (1; a site
    investigator's trial-level figures add 1 more). A warm cache needs none of them.
    Raises ``UnknownSite`` (a 404) for a site the user may not see.
    """
    if part not in ("full", SUMMARY):
        raise ValueError(f"part must be 'full' or 'summary', not {part!r}")
    cutoff = timezone.localdate()
    trial_wide, own_sites = dashboard_sites(trial=trial, user=user)
    arm_level = arm_level_for(trial=trial, user=user)
    header = cached_trial_header(trial, cutoff=cutoff)
    trial_codes = [s["code"] for s in header["sites"]]
    visible = trial_codes if trial_wide else [c for c in trial_codes if c in own_sites]
    if site_code:
        if site_code not in visible:
            raise UnknownSite(site_code)
        scope: list[str] | None = [site_code]
    elif trial_wide:
        scope = None
    else:
        scope = visible

    def figures(codes: list[str] | None) -> dict[str, Any]:
        summary, rows = _figures(
            trial, header, codes, arm_level=arm_level, cutoff=cutoff, rows=part == "full"
        )
        return dict(summary) if rows is None else analysis_payload.join(summary, rows)

    stats = figures(scope)
    stats["scope"] = {
        "trial_wide": trial_wide,
        "sites": visible if scope is None else list(scope),
        "site_filter": site_code or None,
        # names in the reader's language (the cached header keeps the English ones)
        "visible_sites": [
            {"code": s["code"], "name": in_reader_language(s["name"], s.get("name_local", ""))}
            for s in header["sites"]
            if s["code"] in visible
        ],
    }
    stats["trial_level"] = None if trial_wide else trial_level_only(figures(None))
    return stats


def patient_rows_for(
    *, trial: Trial, user: Any, site_code: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summary as ``trial_statistics_for(part="summary")``, the per-patient rows of the
    same scope and arm level: ``waterfall`` and ``swimmer`` when arm-level figures are
    shown, and ``steps``, every KM curve's steps). Same scope, blinding and queries."""
    summary = trial_statistics_for(trial=trial, user=user, site_code=site_code, part=SUMMARY)
    scope = summary["scope"]
    codes = None if scope["trial_wide"] and not scope["site_filter"] else scope["sites"]
    cutoff = date.fromisoformat(summary["cutoff_date"])
    _summary, rows = _figures(
        trial,
        cached_trial_header(trial, cutoff=cutoff),
        codes,
        arm_level=summary["arm_level"],
        cutoff=cutoff,
        rows=True,
    )
    return summary, rows or {}
