"""Diagnosis, staging, treatments and follow-up."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.users import ActingUser
from domain import liver_function
from domain.staging import ajcc_icc, ajcc_liver, bclc, cnlc, ecog

from ..codes import category_topographies, morphology_category, morphology_topographies
from ..models import FollowUp, RegistryPatient, StagingRecord, Treatment, Tumour
from .common import require_registry_perm, save_record

TUMOUR_FIELDS = (
    "category",
    "topography",
    "morphology",
    "diagnosis_date",
    "basis",
    "focality",
    "tumour_count",
    "largest_size_mm",
    "vascular_invasion",
    "extrahepatic_invasion",
    "peritoneum_perforated",
    "nodes_positive",
    "metastatic_sites",
)
TREATMENT_FIELDS = (
    "tumour",
    "kind",
    "start_date",
    "end_date",
    "intent",
    "line",
    "regimen",
    "drugs",
    "best_response",
)
FOLLOWUP_FIELDS = (
    "contact_date",
    "vital_status",
    "status_source",
    "event",
    "event_date",
    "event_site",
    "event_method",
    "death_date",
    "cause_of_death",
)


def _not_future(errors: dict[str, list[str]], field: str, value: datetime.date | None) -> None:
    if value and value > timezone.localdate():
        errors.setdefault(field, []).append(_("This date is in the future."))


def _not_before_birth(
    errors: dict[str, list[str]], field: str, value: Any, patient: RegistryPatient
) -> None:
    if value and patient.birth_date and value < patient.birth_date:
        errors.setdefault(field, []).append(_("This date is before the date of birth."))


def tumour_rules(tumour: Tumour) -> dict[str, list[str]]:
    """Histology vs topography vs cancer, focality vs count, dates."""
    errors: dict[str, list[str]] = {}
    _not_future(errors, "diagnosis_date", tumour.diagnosis_date)
    _not_before_birth(errors, "diagnosis_date", tumour.diagnosis_date, tumour.patient)
    if (
        tumour.morphology
        and tumour.topography
        and tumour.topography not in morphology_topographies(tumour.morphology)
    ):
        errors.setdefault("morphology", []).append(
            _("This histology is not expected at topography %(site)s.")
            % {"site": tumour.topography}
        )
    if (
        tumour.category
        and tumour.topography
        and tumour.topography not in category_topographies(tumour.category)
    ):
        errors.setdefault("topography", []).append(
            _("This topography does not match the cancer chosen.")
        )
    if tumour.category and tumour.morphology:
        expected = morphology_category(tumour.morphology)
        if expected and expected != tumour.category:
            errors.setdefault("category", []).append(
                _("This cancer does not match the histology code.")
            )
    if tumour.focality == Tumour.Focality.UNIFOCAL and (tumour.tumour_count or 1) > 1:
        errors.setdefault("tumour_count", []).append(
            _("A unifocal cancer has one tumour; choose multifocal.")
        )
    if tumour.focality == Tumour.Focality.MULTIFOCAL and tumour.tumour_count == 1:
        errors.setdefault("tumour_count", []).append(
            _("A multifocal cancer has more than one tumour.")
        )
    bad_sites = set(tumour.metastatic_sites or []) - set(Tumour.Metastasis.values)
    if not isinstance(tumour.metastatic_sites, list) or bad_sites:
        errors.setdefault("metastatic_sites", []).append(
            _("Choose metastatic sites from the list.")
        )
    return errors


def tumour_record(
    *,
    patient: RegistryPatient,
    acting_user: ActingUser,
    tumour: Tumour | None = None,
    reason: str = "",
    source_system: str = "",
    source_id: str = "",
    **fields: Any,
) -> Tumour:
    """Record a new tumour (``tumour`` None) or correct one (with ``reason``)."""
    instance = tumour or Tumour(patient=patient, source_system=source_system, source_id=source_id)
    return save_record(
        instance,
        fields={k: v for k, v in fields.items() if k in TUMOUR_FIELDS},
        site=patient.site,
        acting_user=acting_user,
        reason=reason,
        rules=tumour_rules,
        created_reason=_("Diagnosis recorded"),
    )


def _engine_result(system: str, inputs: dict[str, Any]) -> Any:
    """Call the pure engine of ``system``; it validates the inputs it knows."""
    engines: dict[str, Any] = {
        StagingRecord.System.AJCC8_LIVER: ajcc_liver,
        StagingRecord.System.AJCC8_ICC: ajcc_icc,
        StagingRecord.System.BCLC: bclc,
        StagingRecord.System.CNLC: cnlc,
        StagingRecord.System.ECOG: ecog,
        StagingRecord.System.CHILD_PUGH: liver_function.child_pugh,
        StagingRecord.System.ALBI: liver_function.albi,
    }
    return engines[system](**inputs)


def _value_of(system: str, result: Any) -> str:
    if system == StagingRecord.System.CHILD_PUGH:
        return result.label or ""
    if system == StagingRecord.System.ALBI:
        return f"{result.modified_grade}" if result.grade else ""
    return result.value or ""


def _inputs_of(result: Any) -> dict[str, Any]:
    inputs = dict(result.inputs)
    for key in ("points", "score", "components", "reasons"):
        value = getattr(result, key, None)
        if value:
            inputs[f"_{key}"] = list(value) if isinstance(value, tuple) else value
    return inputs


def tumour_derived_inputs(tumour: Tumour, system: str) -> dict[str, Any]:
    """What the tumour record already says, as engine inputs (the form fills the rest)."""
    vi = tumour.vascular_invasion
    known_vi = None if vi == Tumour.VascularInvasion.UNKNOWN else vi
    metastasis = bool(tumour.metastatic_sites) if tumour.metastatic_sites is not None else None
    common = {"tumour_count": tumour.tumour_count, "largest_size_mm": tumour.largest_size_mm}
    if system == StagingRecord.System.AJCC8_LIVER:
        return {
            **common,
            "vascular_invasion": None if known_vi is None else known_vi != "none",
            "major_vessel_or_organ_invasion": (
                None
                if known_vi is None or tumour.extrahepatic_invasion is None
                else (known_vi == "macro_major" or bool(tumour.extrahepatic_invasion))
            ),
            "nodes_positive": tumour.nodes_positive,
            "metastasis": metastasis,
        }
    if system == StagingRecord.System.AJCC8_ICC:
        return {
            **common,
            "vascular_invasion": None if known_vi is None else known_vi != "none",
            "peritoneum_perforated": tumour.peritoneum_perforated,
            "extrahepatic_invasion": tumour.extrahepatic_invasion,
            "nodes_positive": tumour.nodes_positive,
            "metastasis": metastasis,
        }
    if system == StagingRecord.System.BCLC:
        return {
            **common,
            "macrovascular_invasion": None if known_vi is None else known_vi.startswith("macro"),
            "extrahepatic_spread": metastasis,
        }
    if system == StagingRecord.System.CNLC:
        return {
            **common,
            "vascular_invasion": None if known_vi is None else known_vi.startswith("macro"),
            "extrahepatic_metastasis": metastasis,
        }
    return {}


def _staging_fields(
    *,
    tumour: Tumour,
    system: str,
    staged_on: datetime.date | None,
    inputs: dict[str, Any],
    override_value: str,
    override_reason: str,
) -> dict[str, Any]:
    """Validate and run the engine; the fields of the staging record (all errors at once)."""
    errors: dict[str, list[str]] = {}
    if system not in StagingRecord.System.values:
        raise ValidationError({"system": [_("Choose a staging system from the list.")]})
    if staged_on is None:
        errors["staged_on"] = [_("This field cannot be blank.")]
    _not_future(errors, "staged_on", staged_on)
    if (
        staged_on
        and tumour.diagnosis_date
        and staged_on < tumour.diagnosis_date - datetime.timedelta(days=90)
    ):
        errors.setdefault("staged_on", []).append(
            _("Staging more than 90 days before the diagnosis date.")
        )
    result = None
    try:
        result = _engine_result(system, inputs)
    except (TypeError, ValueError) as exc:
        errors.setdefault("inputs", []).append(_("Inputs refused: %(error)s") % {"error": exc})
    override_value = (override_value or "").strip()
    override_reason = (override_reason or "").strip()
    if override_value and not override_reason:
        errors.setdefault("override_reason", []).append(
            _("An override of the computed stage needs a reason.")
        )
    if override_reason and not override_value:
        errors.setdefault("override_value", []).append(
            _("Give the recorded value the reason is for.")
        )
    if errors:
        raise ValidationError(errors)
    assert result is not None  # else the inputs were refused (raised above)
    return {
        "staged_on": staged_on,
        "inputs": _inputs_of(result),
        "computed_value": _value_of(system, result),
        "engine_version": result.engine_version,
        "missing": list(result.missing),
        "override_value": override_value,
        "override_reason": override_reason,
    }


def _inputs_are_named(inputs: Any) -> None:
    if not isinstance(inputs, dict) or not all(isinstance(k, str) for k in inputs):
        raise ValidationError({"inputs": [_("Give the inputs as name: value pairs.")]})


def staging_compute(
    *,
    tumour: Tumour,
    system: str,
    staged_on: datetime.date,
    inputs: dict[str, Any],
    acting_user: ActingUser,
    override_value: str = "",
    override_reason: str = "",
) -> StagingRecord:
    """Run the engine of ``system`` on ``inputs`` (the tumour's own fields fill what the
    caller leaves out) and store inputs, value, engine version and any override."""
    require_registry_perm(acting_user, tumour.patient.site)
    _inputs_are_named(inputs)
    fields = _staging_fields(
        tumour=tumour,
        system=system,
        staged_on=staged_on,
        inputs={**tumour_derived_inputs(tumour, system), **inputs},
        override_value=override_value,
        override_reason=override_reason,
    )
    record = StagingRecord(tumour=tumour, system=system, **fields)
    with (
        transaction.atomic(),
        audit_context(user=acting_user, reason=override_reason or _("Stage computed")),
    ):
        record.save()
    return record


def staging_inputs_given(record: StagingRecord) -> dict[str, Any]:
    """The engine inputs a staging record was computed from (without derived points)."""
    return {k: v for k, v in (record.inputs or {}).items() if not k.startswith("_")}


def staging_update(
    *,
    record: StagingRecord,
    acting_user: ActingUser,
    reason: str,
    staged_on: datetime.date | None = None,
    inputs: dict[str, Any] | None = None,
    override_value: str | None = None,
    override_reason: str | None = None,
) -> StagingRecord:
    """Correct a staging record: the engine runs again on its stored inputs, updated by
    the tumour's current fields and by ``inputs``; the system never changes (a new system
    is a new record). Needs a reason; the previous value stays in the history."""
    tumour = record.tumour
    require_registry_perm(acting_user, tumour.patient.site)
    _inputs_are_named(inputs or {})
    fields = _staging_fields(
        tumour=tumour,
        system=record.system,
        staged_on=staged_on if staged_on is not None else record.staged_on,
        inputs={
            **staging_inputs_given(record),
            **{
                k: v
                for k, v in tumour_derived_inputs(tumour, record.system).items()
                if v is not None
            },
            **(inputs or {}),
        },
        override_value=record.override_value if override_value is None else override_value,
        override_reason=record.override_reason if override_reason is None else override_reason,
    )
    return save_record(
        record,
        fields=fields,
        site=tumour.patient.site,
        acting_user=acting_user,
        reason=reason,
    )


def treatment_rules(treatment: Treatment) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    _not_future(errors, "start_date", treatment.start_date)
    if treatment.end_date and treatment.start_date and treatment.end_date < treatment.start_date:
        errors["end_date"] = [_("The end date is before the start date.")]
    if treatment.kind == Treatment.Kind.SYSTEMIC:
        if not treatment.line:
            errors["line"] = [_("Give the line of systemic therapy.")]
        if not treatment.regimen and not treatment.drugs:
            errors["regimen"] = [_("Give the regimen or its drugs.")]
    elif treatment.line:
        errors["line"] = [_("Only systemic therapy has a line.")]
    tumour = treatment.tumour if treatment.tumour_id else None
    if tumour is not None and tumour.patient_id != treatment.patient_id:
        errors["tumour"] = [_("This tumour belongs to another patient.")]
    if (
        tumour is not None
        and treatment.start_date
        and treatment.start_date < tumour.diagnosis_date - datetime.timedelta(days=30)
    ):
        errors.setdefault("start_date", []).append(
            _("Treatment starts more than 30 days before the diagnosis.")
        )
    if not isinstance(treatment.drugs, list) or not all(
        isinstance(d, str) for d in treatment.drugs
    ):
        errors["drugs"] = [_("List the drugs as names.")]
    return errors


def treatment_record(
    *,
    patient: RegistryPatient,
    acting_user: ActingUser,
    treatment: Treatment | None = None,
    reason: str = "",
    source_system: str = "",
    source_id: str = "",
    **fields: Any,
) -> Treatment:
    instance = treatment or Treatment(
        patient=patient, source_system=source_system, source_id=source_id
    )
    return save_record(
        instance,
        fields={k: v for k, v in fields.items() if k in TREATMENT_FIELDS},
        site=patient.site,
        acting_user=acting_user,
        reason=reason,
        rules=treatment_rules,
        created_reason=_("Treatment recorded"),
    )


def followup_rules(fu: FollowUp) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    _not_future(errors, "contact_date", fu.contact_date)
    _not_before_birth(errors, "contact_date", fu.contact_date, fu.patient)
    if fu.vital_status == FollowUp.VitalStatus.DEAD:
        if not fu.death_date:
            errors["death_date"] = [_("Give the date of death.")]
        if not fu.cause_of_death:
            errors["cause_of_death"] = [_("Give the cause of death (or unknown).")]
    else:
        if fu.death_date:
            errors["death_date"] = [_("A living patient has no date of death.")]
        if fu.cause_of_death:
            errors["cause_of_death"] = [_("A living patient has no cause of death.")]
    if fu.death_date:
        _not_future(errors, "death_date", fu.death_date)
        if fu.contact_date and fu.death_date > fu.contact_date:
            errors.setdefault("death_date", []).append(
                _("The date of death is after the last contact.")
            )
    if fu.event != FollowUp.Event.NONE:
        if not fu.event_date:
            errors["event_date"] = [_("Give the date of recurrence / progression.")]
        if not fu.event_method:
            errors["event_method"] = [_("Say how it was detected.")]
    elif fu.event_date:
        errors["event_date"] = [_("No recurrence or progression was recorded.")]
    if fu.event_date and fu.contact_date and fu.event_date > fu.contact_date:
        errors.setdefault("event_date", []).append(_("This date is after the last contact."))
    return errors


def followup_record(
    *,
    patient: RegistryPatient,
    acting_user: ActingUser,
    follow_up: FollowUp | None = None,
    reason: str = "",
    source_system: str = "",
    source_id: str = "",
    **fields: Any,
) -> FollowUp:
    instance = follow_up or FollowUp(
        patient=patient, source_system=source_system, source_id=source_id
    )
    return save_record(
        instance,
        fields={k: v for k, v in fields.items() if k in FOLLOWUP_FIELDS},
        site=patient.site,
        acting_user=acting_user,
        reason=reason,
        rules=followup_rules,
        created_reason=_("Follow-up recorded"),
    )
