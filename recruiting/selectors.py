"""Reads for the public recruiting pages and the referral inbox."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet

from domain.eligibility import Criterion
from domain.prescreen import Kind, Option, Question
from patients.selectors_screening import (
    CONVERSION_KEYS,
    SiteRow,
    as_domain,
    consent_version_for,
    criteria_in_effect,
    planned_followup_days,
)
from sites.models import TrialSite
from trials.models import EligibilityCriterion, Trial

from .models import (
    PrescreenEvent,
    PrescreenOption,
    PrescreenQuestion,
    Referral,
    SiteClinic,
    TrialPublicPage,
)

#: Public language code -> language code of patient records and consent versions.
RECORD_LANGUAGE = {"zh-hans": "zh"}


def record_language(public_language: str) -> str:
    return RECORD_LANGUAGE.get(public_language, public_language)


def public_languages() -> list[tuple[str, str]]:
    """(code, name in that language) of the languages the public pages offer."""
    names = settings.PUBLIC_LANGUAGE_NAMES
    return [(code, names.get(code, code)) for code in settings.RECRUITING_LANGUAGES]


def published_pages() -> QuerySet[TrialPublicPage]:
    return TrialPublicPage.objects.published().select_related("trial").order_by("trial__pk")


def public_clinics(trial: Trial) -> QuerySet[SiteClinic]:
    """Clinics of the trial's active sites, lead site (lowest site code order) first."""
    return (
        SiteClinic.objects.filter(
            trial_site__trial=trial,
            trial_site__status=TrialSite.Status.ACTIVE,
            accepts_requests=True,
        )
        .select_related("trial_site__site")
        .order_by("trial_site__pk")
    )


def site_today(site: Any) -> datetime.date:
    return site.today()


@dataclass(frozen=True)
class ClinicDay:
    day: datetime.date
    taken: int
    capacity: int

    @property
    def full(self) -> bool:
        return self.taken >= self.capacity

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.taken, 0)


def clinic_dates(clinic: SiteClinic, today: datetime.date) -> list[datetime.date]:
    """The site's clinic days from tomorrow for ``weeks_ahead`` weeks."""
    weekdays = set(clinic.trial_site.site.clinic_weekdays or [])
    days = []
    for offset in range(1, 7 * clinic.weeks_ahead + 1):
        day = today + datetime.timedelta(days=offset)
        if day.weekday() in weekdays:
            days.append(day)
    return days


def taken_per_day(
    trial_site_ids: list[int], days: list[datetime.date]
) -> dict[tuple[int, Any], int]:
    """Places taken per (trial-site, day): one grouped query."""
    if not days:
        return {}
    rows = (
        Referral.objects.filter(
            trial_site_id__in=trial_site_ids,
            appointment_date__in=days,
            status__in=Referral.HOLDS_PLACE,
        )
        .values("trial_site_id", "appointment_date")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(r["trial_site_id"], r["appointment_date"]): r["n"] for r in rows}


def clinic_days(clinics: list[SiteClinic]) -> dict[int, list[ClinicDay]]:
    """Offered clinic days per clinic pk, with the places already taken."""
    dates = {c.pk: clinic_dates(c, site_today(c.trial_site.site)) for c in clinics}
    all_days = sorted({d for ds in dates.values() for d in ds})
    taken = taken_per_day([c.trial_site_id for c in clinics], all_days)
    return {
        c.pk: [
            ClinicDay(d, taken.get((c.trial_site_id, d), 0), c.daily_capacity) for d in dates[c.pk]
        ]
        for c in clinics
    }


@dataclass(frozen=True)
class PrescreenSpec:
    """The questionnaire of a trial today: criteria (for the engine), their patient
    wording and the questions (rows for the form, plain objects for the engine)."""

    criteria: list[Criterion]
    rows: list[EligibilityCriterion]
    questions: list[PrescreenQuestion]
    plain_texts: dict[str, str]

    def engine_questions(self) -> list[Question]:
        return [
            Question(
                key=f"q{q.pk}",
                field=q.field,
                kind=Kind(q.kind),
                options=tuple(Option(f"o{o.pk}", o.values or {}) for o in q.options.all()),
                expatriate_only=q.expatriate_only,
            )
            for q in self.questions
        ]


def prescreen_spec(trial: Trial, today: datetime.date) -> PrescreenSpec:
    _version, rows = criteria_in_effect(trial=trial, on_date=today)
    ids = [c.pk for c in rows]
    questions = list(
        PrescreenQuestion.objects.filter(criterion_id__in=ids)
        .prefetch_related(Prefetch("options", queryset=PrescreenOption.objects.order_by("order")))
        .order_by("order", "pk")
    )
    # One question per field: two criteria reading the same field ask it once.
    seen: set[str] = set()
    unique = []
    for q in questions:
        key = q.field if q.kind != Kind.AGE else "birth_date"
        if key in seen:
            continue
        seen.add(key)
        unique.append(q)
    plain = {
        c.code: t
        for c, t in (
            (c, getattr(getattr(c, "plain_text", None), "text", None))
            for c in EligibilityCriterion.objects.filter(pk__in=ids).select_related("plain_text")
        )
        if t
    }
    return PrescreenSpec(as_domain(rows), rows, unique, plain)


def known_values(*, trial: Trial, language: str, today: datetime.date) -> dict[str, Any]:
    """Values the trial supplies to the engine for a person's pre-screening."""
    consent = consent_version_for(trial=trial, language=record_language(language), on_date=today)
    return {
        "planned_followup_days": planned_followup_days(trial),
        "consent_language_available": consent is not None,
    }


def inbox(*, user: Any, status: str | None = None) -> QuerySet[Referral]:
    qs = Referral.objects.visible_to(user).select_related("trial_site__site", "trial_site__trial")
    if status == "open":
        qs = qs.filter(status__in=Referral.HOLDS_PLACE)
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("appointment_date", "created_at")


def referral_counts(
    *, trial_site_ids: list[int], date_from: Any = None, date_to: Any = None
) -> dict[int, dict[str, int]]:
    """Referred and registered-from-referral per trial-site (one grouped query)."""
    q = Q()
    if date_from:
        q &= Q(created_at__date__gte=date_from)
    if date_to:
        q &= Q(created_at__date__lte=date_to)
    rows = (
        Referral.objects.filter(q, trial_site_id__in=trial_site_ids)
        .values("trial_site_id")
        .annotate(
            referred=Count("pk"),
            referred_registered=Count("pk", filter=Q(status=Referral.Status.CONVERTED)),
        )
        .order_by()
    )
    return {
        r["trial_site_id"]: {
            "referred": r["referred"],
            "referred_registered": r["referred_registered"],
        }
        for r in rows
    }


def screening_conversion(
    *,
    rows: dict[int, SiteRow],
    sites: QuerySet[TrialSite],
    date_from: datetime.date | None,
    date_to: datetime.date | None,
) -> dict[str, int]:
    """The screening log's conversion figures (``patients.selectors_screening``
    ``CONVERSION_COUNTS``, registered by ``recruiting.apps``): pre-screenings, referrals
    and referrals registered as patients, in two queries."""
    out = dict.fromkeys(CONVERSION_KEYS, 0)
    per_site = referral_counts(trial_site_ids=list(rows), date_from=date_from, date_to=date_to)
    for pk, counts in per_site.items():
        if pk in rows:
            rows[pk].referrals.update(counts)
            out["referred"] += counts["referred"]
            out["referred_registered"] += counts["referred_registered"]
    days = Q()
    if date_from:
        days &= Q(day__gte=date_from)
    if date_to:
        days &= Q(day__lte=date_to)
    out["prescreened"] = PrescreenEvent.objects.filter(
        days, trial__in=sites.values("trial")
    ).count()
    return out
