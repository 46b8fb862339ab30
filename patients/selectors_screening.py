"""Reads for screening: the criteria in effect, the values taken from records, and the
screening log (CONSORT-style counts per site).

The log is computed with a few grouped aggregate queries (one per kind of record),
never by looping over patients, so it costs the same for 10 or 10,000 patients.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils.translation import get_language

from domain.eligibility import AppliesTo, Criterion, CriterionKind
from sites.models import TrialSite
from trials.models import ConsentVersion, EligibilityCriterion, ProtocolVersion, Trial

from .models import Consent, Enrollment, Patient, Screening

#: Screening fields taken from the patient record or the trial, never asked on the form.
RECORD_FIELDS: tuple[str, ...] = (
    "birth_date",
    "residence_permit_expiry_date",
    "id_document_recorded",
    "insurance_recorded",
    "consent_language_available",
    "planned_followup_days",
)
DAYS_PER_MONTH = 30.44


def criteria_in_effect(
    *, trial: Trial, on_date: datetime.date
) -> tuple[ProtocolVersion | None, list[EligibilityCriterion]]:
    """The criteria of the latest protocol version effective on ``on_date`` that has any."""
    version = (
        ProtocolVersion.objects.filter(
            trial=trial, effective_date__lte=on_date, criteria__isnull=False
        )
        .distinct()
        .order_by("-effective_date", "-pk")
        .first()
    )
    if version is None:
        return None, []
    return version, list(version.criteria.order_by("order", "code"))


def as_domain(criteria: list[EligibilityCriterion]) -> list[Criterion]:
    return [
        Criterion(
            code=c.code,
            kind=CriterionKind(c.kind),
            text=c.text,
            rule=c.rule,
            applies_to=AppliesTo(c.applies_to),
        )
        for c in criteria
    ]


def consent_version_for(
    *, trial: Trial, language: str, on_date: datetime.date
) -> ConsentVersion | None:
    """An ethics-approved consent version in ``language``, in effect and not superseded."""
    return (
        ConsentVersion.objects.filter(trial=trial, language=language, effective_from__lte=on_date)
        .filter(Q(superseded_on__isnull=True) | Q(superseded_on__gt=on_date))
        .order_by("-effective_from", "-pk")
        .first()
    )


def planned_followup_days(trial: Trial) -> int:
    return round(trial.planned_followup_months * DAYS_PER_MONTH)


def first_consent_date(patient: Patient) -> datetime.date | None:
    """The date (site time) the patient first consented, or None."""
    from django.utils import timezone

    from .models import Consent

    first = Consent.objects.filter(patient=patient).order_by("consented_at").first()
    if first is None:
        return None
    try:
        tz: datetime.tzinfo = zoneinfo.ZoneInfo(patient.trial_site.site.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = datetime.UTC
    return timezone.localtime(first.consented_at, tz).date()


def is_pre_screening(screening_date: datetime.date, consent_date: datetime.date | None) -> bool:
    """GCP: study-specific procedures need consent first. A screening dated before the
    patient's first consent (or with none yet) can only use routine-care data (labs,
    imaging, histology done for care): it is a pre-screening and is labelled so; a
    screening on or after the consent date is the protocol screening."""
    return consent_date is None or screening_date < consent_date


def permit_ends_before_followup(patient: Patient) -> datetime.date | None:
    """The end of the planned follow-up (registration + the trial's planned follow-up)
    when an expatriate's residence permit ends before it, else None."""
    expiry = patient.residence_permit_expiry
    if not patient.is_expatriate or expiry is None:
        return None
    start = patient.registered_at.date() if patient.registered_at else datetime.date.today()
    end = start + datetime.timedelta(days=planned_followup_days(patient.trial_site.trial))
    return end if expiry < end else None


@dataclass(frozen=True)
class RecordValues:
    """Screening values derived from records, JSON-ready, plus what they came from."""

    values: dict[str, Any]
    consent_version: ConsentVersion | None = None


def record_values(*, patient: Patient, on_date: datetime.date) -> RecordValues:
    """The values the coordinator is not asked for: they are already recorded."""
    trial = patient.trial_site.trial
    consent = consent_version_for(trial=trial, language=patient.preferred_language, on_date=on_date)
    values: dict[str, Any] = {
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        "residence_permit_expiry_date": (
            patient.residence_permit_expiry.isoformat() if patient.residence_permit_expiry else None
        ),
        "id_document_recorded": bool(patient.id_document_type and patient.id_document_number),
        "insurance_recorded": bool(
            (patient.insurance_provider or "").strip()
            or patient.insurance_covers_trial != Patient.Coverage.UNKNOWN
            or patient.trial_injury_insurance
        ),
        "consent_language_available": consent is not None,
        "planned_followup_days": planned_followup_days(trial),
    }
    return RecordValues(values=values, consent_version=consent)


def criterion_text(result: dict[str, Any]) -> str:
    """A stored criterion result's text in the UI language (Chinese when available)."""
    language = (get_language() or "").lower()
    if language.startswith("zh") and result.get("text_zh"):
        return result["text_zh"]
    return result.get("text", "")


# ---------------------------------------------------------------------------
# Screening log
# ---------------------------------------------------------------------------

COUNT_KEYS: tuple[str, ...] = (
    "registered",
    "screened",
    "screenings",
    "screen_failed",
    "eligible",
    "incomplete",
    "consented",
    "enrolled",
)


#: Conversion figures of the public recruiting pages (recruiting/): completed
#: self pre-screenings (per trial; they name no site), appointment requests received
#: and requests registered as patients.
CONVERSION_KEYS: tuple[str, ...] = ("prescreened", "referred", "referred_registered")

#: Where they are counted: the recruiting app, above this one, registers its count here
#: (``recruiting.apps``): ``count(rows=, sites=, date_from=, date_to=)`` fills each row's
#: ``referrals`` and returns the totals of CONVERSION_KEYS.
CONVERSION_COUNTS: list[Callable[..., dict[str, int]]] = []


@dataclass
class SiteRow:
    trial_site: TrialSite
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    referrals: dict[str, int] = field(
        default_factory=lambda: {"referred": 0, "referred_registered": 0}
    )


@dataclass
class FailureRow:
    code: str
    text: str
    patients: int  # patients whose latest screening failed on this criterion
    screenings: int  # failed screenings naming this criterion


@dataclass
class ScreeningLog:
    rows: list[SiteRow]
    totals: dict[str, int]
    failures: list[FailureRow]
    conversion: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONVERSION_KEYS, 0))


def _range(prefix: str, date_from: datetime.date | None, date_to: datetime.date | None) -> Q:
    q = Q()
    if date_from:
        q &= Q(**{f"{prefix}__gte": date_from})
    if date_to:
        q &= Q(**{f"{prefix}__lte": date_to})
    return q


def screening_log(
    *,
    user: Any,
    trial: Trial | None = None,
    trial_site: TrialSite | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> ScreeningLog:
    """CONSORT-style counts per visible trial-site and in total.

    Each count uses the date of its own event: registration date, screening date,
    consent date, enrollment date. Patient-level screening outcomes (screen failed,
    eligible, incomplete) are those of each patient's latest screening in the period,
    so they partition the screened patients; a patient who failed and was later found
    eligible counts once, as eligible. The failure breakdown counts, per criterion, the
    patients whose latest screening failed on it and every failed screening naming it.
    """
    sites: QuerySet[TrialSite] = (
        TrialSite.objects.visible_to(user)
        .select_related("trial", "site")
        .order_by("trial__protocol_code", "site__code")
    )
    if trial is not None:
        sites = sites.filter(trial=trial)
    if trial_site is not None:
        sites = sites.filter(pk=trial_site.pk)
    rows = {ts.pk: SiteRow(ts) for ts in sites}  # query 1: the sites

    scr_range = _range("screening_date", date_from, date_to)
    patients = Patient.objects.filter(trial_site__in=sites.values("pk"))
    consents = Consent.objects.filter(
        _range("consented_at__date", date_from, date_to), patient=OuterRef("pk")
    )
    enrollments = Enrollment.objects.filter(
        _range("enrolled_on", date_from, date_to), patient=OuterRef("pk")
    )
    per_site = (  # query 2: patient-level counts per site
        patients.values("trial_site")
        .annotate(
            registered=Count("pk", filter=_range("registered_at__date", date_from, date_to)),
            consented=Count("pk", filter=Q(Exists(consents))),
            enrolled=Count("pk", filter=Q(Exists(enrollments))),
        )
        .order_by()
    )
    for item in per_site:
        row = rows.get(item["trial_site"])
        if row is not None:
            for key in ("registered", "consented", "enrolled"):
                row.counts[key] = item[key]

    screenings = Screening.objects.filter(scr_range, patient__trial_site__in=sites.values("pk"))
    latest_pk = Subquery(
        Screening.objects.filter(scr_range, patient=OuterRef("patient"))
        .order_by("-screening_date", "-created_at", "-pk")
        .values("pk")[:1]
    )
    is_latest = Q(pk=latest_pk)
    per_site_screenings = (  # query 3: screening counts per site
        screenings.values("patient__trial_site")
        .annotate(
            screenings=Count("pk"),
            screened=Count("patient", distinct=True),
            screen_failed=Count("pk", filter=is_latest & Q(result=Screening.Result.NOT_ELIGIBLE)),
            eligible=Count("pk", filter=is_latest & Q(result=Screening.Result.ELIGIBLE)),
            incomplete=Count("pk", filter=is_latest & Q(result=Screening.Result.INCOMPLETE)),
        )
        .order_by()
    )
    for screening_counts in per_site_screenings:
        row = rows.get(screening_counts["patient__trial_site"])
        if row is not None:
            row.counts.update(
                screenings=screening_counts["screenings"],
                screened=screening_counts["screened"],
                screen_failed=screening_counts["screen_failed"],
                eligible=screening_counts["eligible"],
                incomplete=screening_counts["incomplete"],
            )

    totals = dict.fromkeys(COUNT_KEYS, 0)
    for row in rows.values():
        for key in COUNT_KEYS:
            totals[key] += row.counts[key]

    failures = _failure_breakdown(sites=sites, screenings=screenings, is_latest=is_latest)
    conversion = dict.fromkeys(CONVERSION_KEYS, 0)
    for count in CONVERSION_COUNTS:  # queries 6-7
        conversion.update(count(rows=rows, sites=sites, date_from=date_from, date_to=date_to))
    return ScreeningLog(
        rows=list(rows.values()), totals=totals, failures=failures, conversion=conversion
    )


def _failure_breakdown(
    *, sites: QuerySet[TrialSite], screenings: QuerySet[Screening], is_latest: Q
) -> list[FailureRow]:
    """Counts per failed criterion code, in one aggregate query over the screenings.

    ``failed_codes`` is a JSON list; matching the quoted code in its text form works on
    SQLite and PostgreSQL alike (the code set is small: one conditional count each).
    """
    # query 4: the criteria of the trials shown, newest version first (for the text)
    texts: dict[str, dict[str, str]] = {}
    for code, text, text_zh in (
        EligibilityCriterion.objects.filter(trial__in=sites.values("trial"))
        .order_by("-protocol_version__effective_date", "order", "code")
        .values_list("code", "text", "text_zh")
    ):
        texts.setdefault(code, {"text": text, "text_zh": text_zh})
    if not texts:
        return []
    codes = sorted(texts)
    failed = screenings.filter(result=Screening.Result.NOT_ELIGIBLE).annotate(
        codes_text=Cast("failed_codes", output_field=TextField())
    )
    aggregates: dict[str, Any] = {}
    for i, code in enumerate(codes):
        has_code = Q(codes_text__contains=f'"{code}"')
        aggregates[f"s{i}"] = Count("pk", filter=has_code)
        aggregates[f"p{i}"] = Count("pk", filter=has_code & is_latest)
    counts = failed.aggregate(**aggregates)  # query 5: every code counted at once
    rows = [
        FailureRow(
            code=code,
            text=criterion_text(texts[code]),
            patients=counts[f"p{i}"] or 0,
            screenings=counts[f"s{i}"] or 0,
        )
        for i, code in enumerate(codes)
    ]
    rows = [r for r in rows if r.screenings]
    rows.sort(key=lambda r: (-r.patients, -r.screenings, r.code))
    return rows
