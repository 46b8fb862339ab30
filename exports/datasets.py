"""What an export contains: one ``Dataset`` per table, one ``Column`` per exported field.

Both writers read these definitions: the CSV bundle (one file per dataset, plus the data
dictionary generated from the same columns) and the ODM file (an ItemDef per column that
has an ODM ``field``). Labels, types and allowed values come from the model fields, so
the dictionary never drifts from the schema.

Pseudonymisation and blinding are column properties: ``identity`` columns are written
only when the requester may see identities at every site of the trial; ``allocation``
columns only when the requester may see the allocation (open-label trial, or the
unblinded-view permission).

Why one module: it is one declarative table. ``Column`` and ``Dataset``, the resolution of
a column against the model fields and the value formatting at the top are the vocabulary
the dataset definitions below are written in, and have no other use; both writers
(``exports/csv_bundle.py`` and ``exports/odm/``) import the definitions and the same
``formatter`` from here, so the CSV files, the data dictionary and the ODM ItemDefs cannot
drift apart.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinical.models import (
    ConcomitantMedication,
    Exposure,
    LabResult,
    Procedure,
    ProcedureComplication,
    ProcedureLesion,
    VitalSigns,
)
from patients.models import (
    AdverseEvent,
    AdverseEventCausality,
    Consent,
    Enrollment,
    Lesion,
    LesionMeasurement,
    Patient,
    ResponseSummary,
    Screening,
    TumorAssessment,
    Visit,
)

TYPES = ("text", "integer", "float", "date", "datetime", "boolean", "list", "json")
MAX_LISTED_CHOICES = 40  # longer choice lists (countries) are described, not listed


def _year(value: Any) -> Any:
    return value.year if value is not None else None


@dataclass(frozen=True)
class Column:
    """One exported field.

    ``source``: ORM path read by the CSV writer (defaults to ``name``).
    ``field``: attribute of the (historical) model row read by the ODM writer; ``None``
    means the column is CSV-only (keys, joins, bookkeeping that the ODM structure or its
    audit records already carry). ``ref`` names a lookup that turns a foreign key id
    into a readable code in ODM (``arm``, ``lesion``...). ``transform`` derives the
    exported value from the field (year of birth from the date of birth).
    """

    name: str
    source: str = ""
    field: str | None = ""
    type: str = ""
    label: Any = None
    description: Any = ""
    identity: bool = False
    allocation: bool = False
    ref: str = ""
    transform: Callable[[Any], Any] | None = None
    choices: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class Dataset:
    name: str
    model: type[models.Model]
    # Path from the model to its Patient ("" for Patient itself).
    patient_path: str
    columns: tuple[Column, ...]
    order_by: tuple[str, ...]
    description: Any = ""
    # Optional rewrite of CSV rows (masking study-treatment names in blinded trials).
    masker: Callable[[Iterable[tuple], list[str]], Iterator[tuple]] | None = None
    resolved: list[Column] = field(default_factory=list, compare=False, repr=False)

    @property
    def patient_prefix(self) -> str:
        return f"{self.patient_path}__" if self.patient_path else ""

    @property
    def patient_id_path(self) -> str:
        return f"{self.patient_path}_id" if self.patient_path else "id"

    def columns_for(self, *, identities: bool, allocation: bool) -> list[Column]:
        if not self.resolved:
            self.resolved.extend(_resolve(self.model, c) for c in self.columns)
        return [
            c
            for c in self.resolved
            if (identities or not c.identity) and (allocation or not c.allocation)
        ]

    def queryset(self, *, trial_site_ids: list[int]) -> models.QuerySet:
        return self.model._default_manager.filter(
            **{f"{self.patient_prefix}trial_site_id__in": trial_site_ids}
        )

    def history_queryset(self, *, trial_site_ids: list[int], cutoff: datetime.datetime) -> Any:
        history = self.model.history.model
        return history.objects.filter(
            **{f"{self.patient_prefix}trial_site_id__in": trial_site_ids},
            history_date__lte=cutoff,
        )


def _walk(model: type[models.Model], path: str) -> tuple[models.Field | None, str]:
    """The model field at the end of ``path`` and a trailing transform name, if any
    (``"year"``; ``"id"`` when the path ends on a foreign key's raw id)."""
    current: Any = model
    found: models.Field | None = None
    for part in path.split("__"):
        if current is None:
            return found, part
        try:
            f = current._meta.get_field(part)
        except FieldDoesNotExist:
            return found, part
        if f.is_relation and part != f.name and getattr(f, "attname", None) == part:
            return f, "id"
        found = f
        current = f.related_model if f.is_relation else None
    return found, ""


def _field_type(f: models.Field | None) -> str:
    if f is None:
        return "text"
    if isinstance(f, models.DateTimeField):
        return "datetime"
    if isinstance(f, models.DateField):
        return "date"
    if isinstance(f, models.BooleanField):
        return "boolean"
    if isinstance(f, models.FloatField | models.DecimalField):
        return "float"
    if isinstance(f, models.IntegerField | models.AutoField):
        return "integer"
    if isinstance(f, models.JSONField):
        return "json"
    return "text"


def _resolve(model: type[models.Model], c: Column) -> Column:
    source = c.source or c.name
    odm_field = c.name if c.field == "" else c.field
    f, transform = _walk(model, source)
    if transform == "id":
        f = None
    kind = c.type or ("integer" if transform in ("year", "id") else _field_type(f))
    label = c.label if c.label is not None else (f.verbose_name if f is not None else c.name)
    description = c.description or (getattr(f, "help_text", "") if f is not None else "")
    choices = c.choices
    if choices is None:
        choices = ()
        if f is not None and f.choices and not transform:
            flat = list(f.flatchoices)
            if len(flat) <= MAX_LISTED_CHOICES:
                choices = tuple((str(k), str(v)) for k, v in flat)
    return Column(
        name=c.name,
        source=source,
        field=odm_field,
        type=kind,
        label=label,
        description=description,
        identity=c.identity,
        allocation=c.allocation,
        ref=c.ref,
        transform=c.transform,
        choices=choices,
    )


# --- value formatting (shared by both writers) ------------------------------------------


def format_value(kind: str, value: Any) -> str:
    """The exported text of a value: ISO dates, UTC datetimes with ``Z``, true/false."""
    if value is None:
        return ""
    if kind == "datetime" and isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    if kind == "date" and isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "list" or (kind == "json" and isinstance(value, list) and _flat(value)):
        return "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if kind == "json":
        if value in ({}, []):
            return ""
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, float):
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text else text
    return str(value)


def _flat(values: list) -> bool:
    return all(isinstance(v, str | int | float) for v in values)


def formatter(column: Column, *, transform: bool = False) -> Callable[[Any], str]:
    """The column's value → text. ``transform`` for values read from the model field
    (ODM); the CSV reads ``source``, where the database already derived the value."""
    kind = column.type
    derive = column.transform if transform else None
    if derive is None:
        return lambda value: format_value(kind, value)
    return lambda value: format_value(kind, derive(value))


# --- blinded trials: study-treatment names would reveal the arm --------------------------


def mask_interventions(rows: Iterable[tuple], names: list[str]) -> Iterator[tuple]:
    """Rows ordered by adverse event then intervention name: the intervention becomes
    "Study treatment 1, 2..." per adverse event, as on the adverse-event page."""
    ae_at = names.index("adverse_event_id")
    iv_at = names.index("intervention")
    current, n = None, 0
    for row in rows:
        if row[ae_at] != current:
            current, n = row[ae_at], 0
        n += 1
        row = list(row)
        row[iv_at] = str(_("Study treatment %(n)s") % {"n": n})
        yield tuple(row)


def mask_exposure_treatments(rows: Iterable[tuple], names: list[str]) -> Iterator[tuple]:
    """Rows ordered by patient then intervention name: each patient's drugs become
    "Study treatment 1, 2..." (a blinded trial's drug names would reveal the arm)."""
    subject_at = names.index("subject_id")
    iv_at = names.index("intervention")
    current, seen = None, {}
    for row in rows:
        if row[subject_at] != current:
            current, seen = row[subject_at], {}
        n = seen.setdefault(row[iv_at], len(seen) + 1)
        row = list(row)
        row[iv_at] = str(_("Study treatment %(n)s") % {"n": n})
        yield tuple(row)


# --- the datasets --------------------------------------------------------------------------

C = Column
SUBJECT = C("subject_id", source="patient__subject_id", field=None, label=_("subject id"))
SITE = C("site", source="patient__trial_site__site__code", field=None, label=_("site code"))

PATIENTS = Dataset(
    name="patients",
    model=Patient,
    patient_path="",
    order_by=("id",),
    description=_("One row per registered patient."),
    columns=(
        C("subject_id", field=None),
        C("site", source="trial_site__site__code", field=None, label=_("site code")),
        C("status"),
        C("sex"),
        C(
            "birth_year",
            source="birth_date__year",
            field="birth_date",
            transform=_year,
            label=_("year of birth"),
        ),
        C("birth_date", identity=True),
        C(
            "nationality",
            description=_("ISO 3166-1 alpha-2 country code."),
        ),
        C("is_expatriate"),
        C("preferred_language"),
        C("interpreter_needed"),
        C("residence_permit_expiry", identity=True),
        C("insurance_provider"),
        C("insurance_covers_trial"),
        C("trial_injury_insurance"),
        C("death_date"),
        C("last_known_alive_date"),
        C("full_name", identity=True),
        C("phone", identity=True),
        C("email", identity=True),
        C("id_document_type", identity=True),
        C("id_document_number", identity=True),
        C("registered_at", field=None),
        C("registered_by", source="registered_by_username", field=None, label=_("registered by")),
    ),
)

SCREENINGS = Dataset(
    name="screenings",
    model=Screening,
    patient_path="patient",
    order_by=("patient_id", "id"),
    description=_("Eligibility screenings; a re-screening adds a row."),
    columns=(
        SUBJECT,
        C("screening_id", source="id", field=None, label=_("screening id")),
        C(
            "protocol_version",
            source="protocol_version__version",
            field="protocol_version_id",
            ref="protocol_version",
            label=_("protocol version"),
        ),
        C("screening_date"),
        C("result"),
        C("failed_codes", type="list", description=_("Codes of the criteria not met.")),
        C("data", description=_("The values the eligibility rules were evaluated on (JSON).")),
        C("screened_by", source="screened_by_username", field=None, label=_("screened by")),
        C("created_at", field=None),
    ),
)

CONSENTS = Dataset(
    name="consents",
    model=Consent,
    patient_path="patient",
    order_by=("patient_id", "id"),
    description=_("Informed consents, including withdrawals."),
    columns=(
        SUBJECT,
        C("consent_id", source="id", field=None, label=_("consent id")),
        C(
            "consent_version",
            source="consent_version__version",
            field="consent_version_id",
            ref="consent_version",
            label=_("consent version"),
        ),
        C("language"),
        C("consented_at"),
        C("interpreter_used"),
        C("interpreter_name", identity=True),
        C("interpreter_qualification"),
        C("witness_name", identity=True),
        C("personal_information_consent"),
        C("samples_consent"),
        C("obtained_by", source="obtained_by_username", field=None, label=_("obtained by")),
        C("withdrawn_on"),
        C("withdrawal_reason"),
        C("created_at", field=None),
    ),
)

ENROLLMENTS = Dataset(
    name="enrollments",
    model=Enrollment,
    patient_path="patient",
    order_by=("patient_id",),
    description=_(
        "Enrollment and randomization. In a blinded trial the arm is left out unless the "
        "requester may see the allocation."
    ),
    columns=(
        SUBJECT,
        C("enrolled_on"),
        C("first_treatment_date"),
        C("randomization_number"),
        C("stratum"),
        C("arm", source="arm__code", field="arm_id", ref="arm", allocation=True, label=_("arm")),
        C("arm_name", source="arm__name", field=None, allocation=True, label=_("arm name")),
        C("enrolled_by", source="enrolled_by_username", field=None, label=_("enrolled by")),
        C("created_at", field=None),
    ),
)

VISITS = Dataset(
    name="visits",
    model=Visit,
    patient_path="patient",
    order_by=("patient_id", "scheduled_date", "id"),
    description=_("Scheduled and unscheduled visits."),
    columns=(
        SUBJECT,
        C("visit_id", source="id", field=None, label=_("visit id")),
        C(
            "visit_code",
            source="definition__code",
            field=None,
            label=_("visit code"),
            description=_("Empty for an unscheduled visit."),
        ),
        C("visit_name", source="definition__name", field=None, label=_("visit name")),
        C("unscheduled_reason"),
        C("status"),
        C("target_date"),
        C("window_start"),
        C("window_end"),
        C("scheduled_date"),
        C("actual_date"),
        C("vital_status"),
        C("ecog"),
        C("ae_review_done"),
        C("notes"),
        C("is_deviation"),
        C("deviation_reason"),
        C("submitted_at"),
        C("submitted_by", source="submitted_by_username", field=None, label=_("submitted by")),
    ),
)

ADVERSE_EVENTS = Dataset(
    name="adverse_events",
    model=AdverseEvent,
    patient_path="patient",
    order_by=("patient_id", "id"),
    description=_("Adverse events (CTCAE v5.0 grade; seriousness by ICH E2A)."),
    columns=(
        SUBJECT,
        C("adverse_event_id", source="id", field=None, label=_("adverse event id")),
        C("visit_id", field=None, label=_("reported at visit (visit id)")),
        C("term"),
        C("grade"),
        C("serious"),
        C(
            "serious_criteria",
            type="list",
            choices=tuple((str(k), str(v)) for k, v in AdverseEvent.SeriousCriterion.choices),
        ),
        C("onset_date"),
        C("resolution_date"),
        C("outcome"),
        C("action_taken"),
        C("description"),
        C("recorded_by", source="recorded_by_username", field=None, label=_("recorded by")),
        C("created_at", field=None),
    ),
)

CAUSALITY = Dataset(
    name="adverse_event_causality",
    model=AdverseEventCausality,
    patient_path="adverse_event__patient",
    order_by=("adverse_event__patient_id", "adverse_event_id", "intervention__name", "id"),
    description=_(
        "Relatedness of each adverse event to each study treatment. In a blinded trial "
        "the treatments are numbered per event instead of named."
    ),
    masker=mask_interventions,
    columns=(
        C("subject_id", source="adverse_event__patient__subject_id", field=None),
        C("adverse_event_id", field=None, label=_("adverse event id")),
        C(
            "intervention",
            source="intervention__name",
            field="intervention_id",
            ref="intervention",
            label=_("study treatment"),
        ),
        C("relatedness"),
    ),
)

TUMOR_ASSESSMENTS = Dataset(
    name="tumor_assessments",
    model=TumorAssessment,
    patient_path="patient",
    order_by=("patient_id", "assessment_date", "id"),
    description=_("Imaging time points (RECIST 1.1 / iRECIST)."),
    columns=(
        SUBJECT,
        C("assessment_id", source="id", field=None, label=_("assessment id")),
        C("visit_id", field=None, label=_("visit id")),
        C("is_baseline"),
        C("assessment_date"),
        C("method"),
        C("non_target_status"),
        C("new_lesions"),
        C("new_lesions_increased"),
        C("nontarget_increased"),
        C("recorded_response"),
        C("recorded_response_source"),
        C("notes"),
        C("entered_by", source="entered_by_username", field=None, label=_("entered by")),
        C("created_at", field=None),
    ),
)

LESIONS = Dataset(
    name="lesions",
    model=Lesion,
    patient_path="patient",
    order_by=("patient_id", "code", "id"),
    description=_("Lesions recorded at baseline."),
    columns=(
        SUBJECT,
        C("lesion_id", source="id", field=None, label=_("lesion id")),
        C("code"),
        C("organ"),
        C("location"),
        C("nodal"),
        C("target"),
        C("ablated"),
        C("ablated_on_study"),
        C("baseline_mm"),
    ),
)

MEASUREMENTS = Dataset(
    name="lesion_measurements",
    model=LesionMeasurement,
    patient_path="assessment__patient",
    order_by=("assessment__patient_id", "assessment_id", "lesion__code", "id"),
    description=_("Lesion measurements at each follow-up assessment."),
    columns=(
        C("subject_id", source="assessment__patient__subject_id", field=None),
        C("assessment_id", field=None, label=_("assessment id")),
        C("lesion_id", field=None, label=_("lesion id")),
        C("lesion_code", source="lesion__code", field="lesion_id", ref="lesion", label=_("lesion")),
        C("state"),
        C("diameter_mm"),
        C("fragments_mm", type="list"),
        C(
            "merged_into",
            source="merged_into__code",
            field="merged_into_id",
            ref="lesion",
            label=_("merged into lesion"),
        ),
    ),
)

RESPONSES = Dataset(
    name="responses",
    model=ResponseSummary,
    patient_path="patient",
    order_by=("patient_id",),
    description=_("Each patient's computed response outcome (best overall response)."),
    columns=(
        SUBJECT,
        C("bor"),
        C("best_change_pct", label=_("best change of the sum of diameters (%)")),
        C("evaluable", label=_("evaluable for response")),
        C(
            "outcome",
            field=None,
            description=_("Time points, sums of diameters and responses (JSON)."),
        ),
        C("computed_at", field=None, label=_("computed at")),
    ),
)

VISIT_ID = C("visit_id", field=None, label=_("visit id"))
ENTERED_BY = C("entered_by", source="entered_by_username", field=None, label=_("entered by"))

LAB_RESULTS = Dataset(
    name="lab_results",
    model=LabResult,
    patient_path="patient",
    order_by=("patient_id", "collected_on", "id"),
    description=_(
        "Laboratory results as reported (value, UCUM unit) and in the canonical unit, with "
        "the site laboratory's LLN/ULN, flag and the CTCAE v5.0 grade computed from them."
    ),
    columns=(
        SUBJECT,
        C("lab_result_id", source="id", field=None, label=_("lab result id")),
        VISIT_ID,
        C("panel"),
        C("analyte"),
        C("collected_on"),
        C("value"),
        C("value_text"),
        C("unit"),
        C("value_canonical"),
        C("lln"),
        C("uln"),
        C("flag"),
        C("baseline_value"),
        C("ctcae_grade"),
        C("ctcae_term"),
        C("ctcae_basis"),
        C("engine_version", field=None),
        C("ae_proposal"),
        C("adverse_event_id", field=None, label=_("linked adverse event id")),
        ENTERED_BY,
    ),
)

VITAL_SIGNS = Dataset(
    name="vital_signs",
    model=VitalSigns,
    patient_path="patient",
    order_by=("patient_id", "measured_on", "id"),
    description=_("Vital signs and body weight."),
    columns=(
        SUBJECT,
        C("vital_signs_id", source="id", field=None, label=_("vital signs id")),
        VISIT_ID,
        C("measured_on"),
        C("systolic_bp"),
        C("diastolic_bp"),
        C("heart_rate"),
        C("temperature_c"),
        C("weight_kg"),
        C("height_cm"),
        ENTERED_BY,
    ),
)

EXPOSURES = Dataset(
    name="exposures",
    model=Exposure,
    patient_path="patient",
    order_by=("patient_id", "intervention__name", "start_date", "id"),
    description=_(
        "Study-drug exposure: dosing periods and administrations, dispensing, "
        "interruptions, dose changes and discontinuation with reason and adverse event. "
        "In a blinded trial the treatments are numbered instead of named."
    ),
    masker=mask_exposure_treatments,
    columns=(
        SUBJECT,
        C("exposure_id", source="id", field=None, label=_("exposure id")),
        C(
            "intervention",
            source="intervention__name",
            field="intervention_id",
            ref="intervention",
            label=_("study treatment"),
        ),
        VISIT_ID,
        C("kind"),
        C("start_date"),
        C("end_date"),
        C("dose_mg"),
        C("route"),
        C("lot_number"),
        C("dose_change"),
        C("reason"),
        C("reason_detail"),
        C("adverse_event_id", field=None, label=_("adverse event id")),
        C("weight_kg"),
        C("expected_dose_mg"),
        C("dose_mismatch"),
        ENTERED_BY,
    ),
)

PROCEDURES = Dataset(
    name="procedures",
    model=Procedure,
    patient_path="patient",
    order_by=("patient_id", "procedure_date", "id"),
    description=_("Procedures (cryoablation and other local therapy)."),
    columns=(
        SUBJECT,
        C("procedure_id", source="id", field=None, label=_("procedure id")),
        VISIT_ID,
        C("kind"),
        C("procedure_date"),
        C("approach"),
        C("probes"),
        C("freeze_thaw_cycles"),
        C("ice_ball_margin_mm"),
        C("technical_success"),
        C("notes"),
        ENTERED_BY,
    ),
)

PROCEDURE_LESIONS = Dataset(
    name="procedure_lesions",
    model=ProcedureLesion,
    patient_path="procedure__patient",
    order_by=("procedure__patient_id", "procedure_id", "lesion__code"),
    description=_("RECIST lesions treated by each procedure (ablated on study)."),
    columns=(
        C("subject_id", source="procedure__patient__subject_id", field=None),
        C("procedure_id", field=None, label=_("procedure id")),
        C("lesion", source="lesion__code", field=None, label=_("lesion")),
    ),
)

PROCEDURE_COMPLICATIONS = Dataset(
    name="procedure_complications",
    model=ProcedureComplication,
    patient_path="procedure__patient",
    order_by=("procedure__patient_id", "procedure_id", "id"),
    description=_("Complications of procedures with their Clavien-Dindo grade."),
    columns=(
        C("subject_id", source="procedure__patient__subject_id", field=None),
        C("procedure_id", field=None, label=_("procedure id")),
        C("description"),
        C("clavien_dindo"),
        C("adverse_event_id", field=None, label=_("adverse event id")),
    ),
)

CONMEDS = Dataset(
    name="concomitant_medications",
    model=ConcomitantMedication,
    patient_path="patient",
    order_by=("patient_id", "start_date", "id"),
    description=_("Concomitant medications with the protocol's prohibited-medication flag."),
    columns=(
        SUBJECT,
        C("conmed_id", source="id", field=None, label=_("concomitant medication id")),
        VISIT_ID,
        C("generic_name"),
        C("indication"),
        C("dose"),
        C("route"),
        C("frequency"),
        C("start_date"),
        C("stop_date"),
        C("ongoing"),
        C("prohibited_category"),
        C("warning"),
        ENTERED_BY,
    ),
)

DATASETS: tuple[Dataset, ...] = (
    PATIENTS,
    SCREENINGS,
    CONSENTS,
    ENROLLMENTS,
    VISITS,
    ADVERSE_EVENTS,
    CAUSALITY,
    TUMOR_ASSESSMENTS,
    LESIONS,
    MEASUREMENTS,
    RESPONSES,
    LAB_RESULTS,
    VITAL_SIGNS,
    EXPOSURES,
    PROCEDURES,
    PROCEDURE_LESIONS,
    PROCEDURE_COMPLICATIONS,
    CONMEDS,
)
