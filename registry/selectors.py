"""Reads on the registry: scoped lists, the patient page, completeness and consistency
checks, outcomes, the link to trial subjects and network aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Field, Model, Prefetch, QuerySet
from django.utils.translation import gettext as _

from domain.disclosure import shown_or_hidden, suppress
from domain.outcomes import Outcomes, outcomes

from .identity import pseudonym_from_hash
from .models import (
    Category,
    FollowUp,
    GenomicTest,
    ImagingStudy,
    PathologyReport,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
)
from .services.clinical import _engine_result, _value_of, tumour_derived_inputs


def registry_patients_for(user: Any) -> QuerySet[RegistryPatient]:
    return (
        RegistryPatient.objects.visible_to(user)
        .select_related("site")
        .annotate(tumour_count_=Count("tumours", distinct=True))
    )


def registry_patient_page(user: Any, pk: int) -> RegistryPatient:
    """The patient with every domain prefetched (a constant number of queries)."""
    return (
        RegistryPatient.objects.visible_to(user)
        .select_related("site")
        .prefetch_related(
            Prefetch(
                "tumours",
                queryset=Tumour.objects.prefetch_related("stagings", "pathology_reports").order_by(
                    "diagnosis_date"
                ),
            ),
            Prefetch(
                "genomic_tests",
                queryset=GenomicTest.objects.prefetch_related(
                    "variants", "fusions", "copy_numbers"
                ),
            ),
            Prefetch(
                "imaging_studies", queryset=ImagingStudy.objects.prefetch_related("observations")
            ),
            Prefetch("treatments", queryset=Treatment.objects.order_by("start_date")),
            Prefetch("follow_ups", queryset=FollowUp.objects.order_by("contact_date")),
        )
        .get(pk=pk)
    )


def other_centers_count(patient: RegistryPatient) -> int:
    """How many other centers have a record of this person (never which ones)."""
    return (
        RegistryPatient.objects.filter(national_pseudonym=patient.national_pseudonym)
        .exclude(site_id=patient.site_id)
        .values("site")
        .distinct()
        .count()
    )


@dataclass(frozen=True)
class Check:
    domain: str
    problem: str
    severity: str  # "missing" (completeness) or "inconsistent"


def _column_label(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)  # a column, not the reverse side of a relation
    return str(field.verbose_name)


def patient_checks(patient: RegistryPatient) -> list[Check]:
    """Completeness and consistency of one patient's record (on the prefetched page)."""
    checks: list[Check] = []
    unknown = [
        _column_label(RegistryPatient, f)
        for f in RegistryPatient.RISK_FACTORS
        if getattr(patient, f) is None
    ]
    if unknown:
        checks.append(
            Check(
                _("Risk factors"),
                _("Not recorded: %(list)s.") % {"list": ", ".join(unknown)},
                "missing",
            )
        )
    tumours = list(patient.tumours.all())
    if not tumours:
        checks.append(Check(_("Diagnosis"), _("No tumour recorded."), "missing"))
    for tumour in tumours:
        stagings = list(tumour.stagings.all())
        systems = {s.system for s in stagings}
        wanted = (
            {StagingRecord.System.AJCC8_LIVER, StagingRecord.System.BCLC}
            if tumour.category == "hcc"
            else {StagingRecord.System.AJCC8_ICC}
            if tumour.category == "icca"
            else set()
        )
        for system in sorted(wanted - systems):
            checks.append(
                Check(
                    _("Staging"),
                    _("%(system)s stage not recorded.")
                    % {"system": StagingRecord.System(system).label},
                    "missing",
                )
            )
        latest: dict[str, StagingRecord] = {}
        for s in sorted(stagings, key=lambda s: (s.staged_on, s.pk)):
            latest[s.system] = s
        for system in (StagingRecord.System.AJCC8_LIVER, StagingRecord.System.AJCC8_ICC):
            record = latest.get(system)
            if record is None or record.override_value:
                continue
            try:
                now = _value_of(
                    system,
                    _engine_result(
                        system,
                        {**record.inputs_for_engine(), **tumour_derived_inputs(tumour, system)},
                    ),
                )
            except (TypeError, ValueError):
                continue
            if now and now != record.computed_value:
                checks.append(
                    Check(
                        _("Staging"),
                        _(
                            "Stored %(system)s stage %(stored)s does not match the tumour's TNM (%(now)s)."
                        )
                        % {
                            "system": record.get_system_display(),
                            "stored": record.computed_value,
                            "now": now,
                        },
                        "inconsistent",
                    )
                )
        if tumour.basis == Tumour.Basis.HISTOLOGY and not tumour.pathology_reports.all():
            checks.append(
                Check(
                    _("Pathology"),
                    _("Histological diagnosis without a pathology report."),
                    "missing",
                )
            )
        for report in tumour.pathology_reports.all():
            if report.histologic_type != tumour.morphology:
                checks.append(
                    Check(
                        _("Pathology"),
                        _("The pathology report's histologic type differs from the diagnosis."),
                        "inconsistent",
                    )
                )
    first_diagnosis = min((t.diagnosis_date for t in tumours), default=None)
    treatments = list(patient.treatments.all())
    if tumours and not treatments:
        checks.append(Check(_("Treatments"), _("No treatment recorded."), "missing"))
    follow_ups = list(patient.follow_ups.all())
    if not follow_ups:
        checks.append(Check(_("Follow-up"), _("No follow-up recorded."), "missing"))
    dead = [f for f in follow_ups if f.vital_status == FollowUp.VitalStatus.DEAD]
    death = dead[0].death_date if dead else None
    if death is not None:  # a recorded death has its date (a missing one is not compared)
        later = [
            f
            for f in follow_ups
            if f.vital_status == FollowUp.VitalStatus.ALIVE and f.contact_date > death
        ]
        if later:
            checks.append(
                Check(
                    _("Follow-up"),
                    _("Alive at a contact after the recorded death."),
                    "inconsistent",
                )
            )
        for t in treatments:
            if t.start_date > death:
                checks.append(
                    Check(
                        _("Treatments"),
                        _("A treatment starts after the date of death."),
                        "inconsistent",
                    )
                )
    if first_diagnosis:
        for f in follow_ups:
            if f.event_date and f.event_date < first_diagnosis:
                checks.append(
                    Check(
                        _("Follow-up"),
                        _("Recurrence / progression before the diagnosis."),
                        "inconsistent",
                    )
                )
    return checks


def patient_outcomes(patient: RegistryPatient, *, anchor: str = "diagnosis") -> Outcomes | None:
    """OS / RFS / PFS from the first diagnosis (or the first treatment)."""
    tumours = list(patient.tumours.all())
    treatments = list(patient.treatments.all())
    if anchor == "treatment":
        start = min((t.start_date for t in treatments), default=None)
    else:
        start = min((t.diagnosis_date for t in tumours), default=None)
    if start is None:
        return None
    follow_ups = list(patient.follow_ups.all())
    last_contact = max((f.contact_date for f in follow_ups), default=None)
    death = next((f.death_date for f in follow_ups if f.death_date), None)
    recurrence = min(
        (f.event_date for f in follow_ups if f.event == FollowUp.Event.RECURRENCE and f.event_date),
        default=None,
    )
    progression = min(
        (
            f.event_date
            for f in follow_ups
            if f.event == FollowUp.Event.PROGRESSION and f.event_date
        ),
        default=None,
    )
    return outcomes(
        anchor=start,
        last_contact=last_contact,
        death_date=death,
        recurrence_date=recurrence,
        progression_date=progression,
    )


def registry_record_for_trial_patient(trial_patient: Any, user: Any) -> RegistryPatient | None:
    """The registry record of a trial subject at the subject's own center, linked by the
    national pseudonym, if the user may see trial data of that site (the caller checks)."""
    pseudonym = pseudonym_from_hash(trial_patient.id_document_hash)
    return (
        RegistryPatient.objects.filter(
            national_pseudonym=pseudonym, site_id=trial_patient.trial_site.site_id
        )
        .prefetch_related(
            Prefetch(
                "tumours", queryset=Tumour.objects.prefetch_related("stagings", "pathology_reports")
            ),
            "treatments",
        )
        .first()
    )


def network_aggregates(threshold: int | None = None) -> dict[str, Any]:
    """Counts across the network, no rows, for the network researcher role, under the
    same disclosure control as the cohort builder (``domain.disclosure``): counts from 1
    to ``threshold - 1`` are hidden, with secondary suppression inside each table so no
    hidden cell can be recovered from its total."""
    limit = threshold or int(getattr(settings, "RESEARCH_SMALL_CELL_THRESHOLD", 5))
    labels = dict(Category.choices)
    by_category = dict(
        Tumour.objects.values_list("category").annotate(n=Count("id")).order_by("category")
    )
    by_center = {
        row["site__code"]: row["n"]
        for row in RegistryPatient.objects.values("site__code")
        .annotate(n=Count("id"))
        .order_by("site__code")
    }
    patients = sum(by_center.values())
    tumours = suppress(by_category, sum(by_category.values()), limit)
    centers = suppress(by_center, patients, limit)
    return {
        "threshold": limit,
        "patients": centers.total.display,
        "tumours": tumours.total.display,
        "tumours_by_category": [
            (str(labels.get(c.key, c.key)), c.display, c.suppressed) for c in tumours.cells
        ],
        "patients_by_center": [(c.key, c.display, c.suppressed) for c in centers.cells],
        "pathology_reports": shown_or_hidden(PathologyReport.objects.count(), limit),
        "deaths": shown_or_hidden(
            FollowUp.objects.filter(vital_status=FollowUp.VitalStatus.DEAD).count(), limit
        ),
    }
