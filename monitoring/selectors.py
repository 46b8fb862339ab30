"""Reads for the monitoring pages: query lists and aging, SDV to-do and progress, the
investigator's to-sign list, the record panel, and the homes."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from patients.models import AdverseEvent, Patient

from .models import DataQuery, Lock, Signature, SourceVerification
from .services.verification import plan_for, sdv_required
from .targets import all_targets, target_for

AGE_BUCKETS = (7, 14, 30)


def queries_for(user: Any, filters: dict[str, Any] | None = None) -> QuerySet[DataQuery]:
    """Visible queries, filtered by site, status, age (days open), form and raiser."""
    filters = filters or {}
    qs = DataQuery.objects.visible_to(user).select_related(
        "trial_site__site", "patient", "content_type", "trial", "edit_check"
    )
    if filters.get("trial_site"):
        qs = qs.filter(trial_site_id=filters["trial_site"])
    status = filters.get("status")
    if status == "unresolved":
        qs = qs.filter(status__in=DataQuery.UNRESOLVED)
    elif status:
        qs = qs.filter(status=status)
    if filters.get("min_age"):
        cutoff = timezone.now() - datetime.timedelta(days=int(filters["min_age"]))
        qs = qs.filter(raised_at__lte=cutoff)
    if filters.get("form"):
        app_label, _, model = str(filters["form"]).partition(".")
        qs = qs.filter(content_type__app_label=app_label, content_type__model=model)
    if filters.get("raised_by"):
        qs = qs.filter(raised_by_username=filters["raised_by"])
    if filters.get("patient"):
        qs = qs.filter(patient_id=filters["patient"])
    return qs.order_by("raised_at", "pk")


def aging_report(user: Any, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    """Unresolved queries per site: total and how many are open more than 7 / 14 / 30 days."""
    now = now or timezone.now()
    aggregates = {
        f"over_{days}": Count("pk", filter=Q(raised_at__lte=now - datetime.timedelta(days=days)))
        for days in AGE_BUCKETS
    }
    rows = (
        DataQuery.objects.visible_to(user)
        .filter(status__in=DataQuery.UNRESOLVED)
        .values(
            "trial_site", "trial_site__site__code", "trial_site__site__name", "trial__protocol_code"
        )
        .annotate(
            total=Count("pk"), answered=Count("pk", filter=Q(status="answered")), **aggregates
        )
        .order_by("trial__protocol_code", "trial_site__site__code")
    )
    return [dict(row) for row in rows]


def record_queries(record: Any) -> QuerySet[DataQuery]:
    ct = ContentType.objects.get_for_model(type(record))
    return DataQuery.objects.filter(content_type=ct, object_id=record.pk).prefetch_related(
        "messages"
    )


def open_query_fields(record: Any) -> dict[str, int]:
    """{field name: number of unresolved queries} for the record's field badges."""
    ct = ContentType.objects.get_for_model(type(record))
    rows = (
        DataQuery.objects.filter(
            content_type=ct, object_id=record.pk, status__in=DataQuery.UNRESOLVED
        )
        .values("field_name")
        .annotate(n=Count("pk"))
    )
    return {r["field_name"]: r["n"] for r in rows}


def verification_of(record: Any) -> SourceVerification | None:
    ct = ContentType.objects.get_for_model(type(record))
    return SourceVerification.objects.filter(content_type=ct, object_id=record.pk).first()


def signatures_of(record: Any) -> QuerySet[Signature]:
    ct = ContentType.objects.get_for_model(type(record))
    return Signature.objects.filter(content_type=ct, object_id=record.pk).order_by("-signed_at")


def locks_on_patient(patient: Patient) -> QuerySet[Lock]:
    return (
        Lock.objects.active()
        .filter(
            Q(level=Lock.Level.CASEBOOK, patient=patient)
            | Q(level=Lock.Level.SITE, trial_site_id=patient.trial_site_id)
            | Q(level=Lock.Level.TRIAL, trial_id=patient.trial_site.trial_id)
        )
        .select_related("trial", "trial_site__site", "patient")
    )


@dataclass
class SdvProgress:
    required: int = 0
    verified: int = 0
    todo: list[dict[str, Any]] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.verified / self.required) if self.required else 100


def sdv_overview(user: Any, trial: Any, *, trial_site_id: int | None = None) -> dict[str, Any]:
    """SDV to-do and progress per site and per patient, per the trial's plan."""
    plan = plan_for(trial.pk)
    patients = Patient.objects.visible_to(user).filter(trial_site__trial=trial)
    if trial_site_id:
        patients = patients.filter(trial_site_id=trial_site_id)
    info = {
        p["pk"]: p
        for p in patients.values("pk", "subject_id", "trial_site_id", "trial_site__site__code")
    }
    verified = {
        (ct, oid)
        for ct, oid in SourceVerification.objects.filter(
            trial=trial, patient_id__in=info, status=SourceVerification.Status.VERIFIED
        ).values_list("content_type_id", "object_id")
    }
    per_site: dict[str, SdvProgress] = defaultdict(SdvProgress)
    per_patient: dict[int, SdvProgress] = defaultdict(SdvProgress)
    total = SdvProgress()
    for target in all_targets():
        ct = ContentType.objects.get_for_model(target.model)
        rows = target.model._base_manager.filter(**{f"{target.patient_filter}__in": list(info)})
        if target.patient_path:
            rows = rows.select_related(target.patient_path)
        for record in rows.order_by("pk"):
            if not sdv_required(record, plan, target):
                continue
            patient_id = target.patient_id_of(record)
            assert patient_id is not None  # the rows were filtered on their patient
            patient = info[patient_id]
            done = (ct.pk, record.pk) in verified
            for bucket in (
                total,
                per_site[patient["trial_site__site__code"]],
                per_patient[patient["pk"]],
            ):
                bucket.required += 1
                bucket.verified += int(done)
            if not done:
                total.todo.append(
                    {
                        "form": target.label,
                        "form_name": target.model._meta.verbose_name,
                        "object_id": record.pk,
                        "subject_id": patient["subject_id"],
                        "site": patient["trial_site__site__code"],
                        "record": str(record),
                    }
                )
    return {
        "plan": plan,
        "total": total,
        "per_site": sorted(per_site.items()),
        "per_patient": sorted(
            ((info[pk]["subject_id"], prog) for pk, prog in per_patient.items()),
            key=lambda item: item[0],
        ),
    }


def to_sign(user: Any) -> dict[str, Any]:
    """The investigator's list: enrolled casebooks without a valid signature, and the
    signatures invalidated by a change."""
    patients = Patient.objects.visible_to(user).filter(enrollment__isnull=False)
    signed = Signature.objects.filter(
        level=Signature.Level.CASEBOOK, status=Signature.Status.VALID, patient__in=patients
    ).values("patient_id")
    unsigned = (
        patients.exclude(pk__in=signed).select_related("trial_site__site").order_by("subject_id")
    )
    invalidated = (
        Signature.objects.visible_to(user)
        .filter(status=Signature.Status.INVALIDATED, signer=user)
        .select_related("patient")
        .order_by("-invalidated_at")
    )
    return {"unsigned": unsigned, "invalidated": invalidated}


def saes_awaiting_assessment(user: Any) -> QuerySet[AdverseEvent]:
    """Serious events whose expectedness (and so the SUSAR decision) is not assessed."""
    return (
        AdverseEvent.objects.visible_to(user)
        .filter(serious=True, expected__isnull=True)
        .select_related("patient")
        .order_by("onset_date")
    )


def changed_since_last_visit(user: Any, days: int = 30) -> list[dict[str, Any]]:
    """Per visible trial-site: records changed by others since the user's last source
    verification there (the last monitoring visit), or in the last ``days`` days.
    One query per monitored form."""
    from django.db.models import Max

    from sites.models import TrialSite

    sites = list(
        TrialSite.objects.visible_to(user)
        .select_related("site", "trial")
        .order_by("site__code")[:50]
    )
    if not sites:
        return []
    last = dict(
        SourceVerification.objects.filter(verified_by=user)
        .values("trial_site_id")
        .annotate(last=Max("verified_at"))
        .values_list("trial_site_id", "last")
    )
    default = timezone.now() - datetime.timedelta(days=days)
    since = {ts.pk: last.get(ts.pk, default) for ts in sites}
    counts: dict[int, int] = defaultdict(int)
    for target in all_targets():
        site_path = f"{target.patient_path}__trial_site" if target.patient_path else "trial_site"
        window = Q(pk__in=[])
        for ts_id, moment in since.items():
            window |= Q(**{f"{site_path}_id": ts_id}, history_date__gt=moment)
        rows = (
            target.model.history.filter(window)
            .exclude(history_user=user)
            .values(f"{site_path}_id")
            .annotate(n=Count("history_id"))
        )
        for row in rows:
            counts[row[f"{site_path}_id"]] += row["n"]
    return [
        {"trial_site": ts, "since": since[ts.pk], "changes": counts.get(ts.pk, 0)} for ts in sites
    ]


def form_choices() -> list[tuple[str, str]]:
    return [(t.label, str(t.model._meta.verbose_name)) for t in all_targets()]


def target_model(label: str) -> Any:
    target = target_for(label)
    return target.model if target else None


def casebook_signatures_at(
    *, trial_site_ids: list[int], cutoff: datetime.datetime
) -> dict[str, Any]:
    """Casebook signatures that were valid at ``cutoff``, latest per subject id (for the
    ODM export): {subject id: Signature}."""
    rows = (
        Signature.objects.filter(
            trial_site_id__in=trial_site_ids,
            level=Signature.Level.CASEBOOK,
            signed_at__lte=cutoff,
        )
        .filter(Q(status=Signature.Status.VALID) | Q(invalidated_at__gt=cutoff))
        .select_related("patient", "trial_site__site")
        .order_by("signed_at", "pk")
    )
    return {s.patient.subject_id: s for s in rows}


def record_signatures_at(
    *, trial_site_ids: list[int], cutoff: datetime.datetime
) -> dict[tuple[str, int], Any]:
    """Record-level signatures (visit, tumour assessment, AE causality, exposure,
    procedure) valid at ``cutoff``, latest per record (for the ODM export):
    {(model label, record id): Signature}."""
    rows = (
        Signature.objects.filter(
            trial_site_id__in=trial_site_ids,
            level=Signature.Level.RECORD,
            signed_at__lte=cutoff,
        )
        .filter(Q(status=Signature.Status.VALID) | Q(invalidated_at__gt=cutoff))
        .select_related("content_type", "trial_site__site")
        .order_by("signed_at", "pk")
    )
    return {(f"{s.content_type.app_label}.{s.content_type.model}", s.object_id): s for s in rows}
