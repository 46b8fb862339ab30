"""The clinical records monitoring covers: one registry list.

Queries, source data verification, signatures, locks and edit checks target records
generically (content type + object id + optional field name). A model is covered by
adding one :class:`Target` to :data:`TARGETS` (or calling :func:`register` from another
app's ``AppConfig.ready``): the lock guard, the change watcher, the casebook hash, the
SDV plan and the edit checks all read this list, nothing is hard-coded per model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models

from .correctors import correct_patient, correct_visit


def _no_extra(instance: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Target:
    """One clinical model.

    ``patient_path``: path from the model to its Patient (``""`` for Patient itself,
    ``"patient"``, ``"adverse_event__patient"``).
    ``system_fields``: bookkeeping fields that workflows and jobs stamp (deadlines,
    escalations): writing only those is allowed under a lock and changes no verified or
    signed content.
    ``always_full_sdv``: records of this model that a plan verifies 100% whatever the
    sampling (e.g. serious adverse events).
    ``extra_data``: extra values for edit checks (e.g. whether the patient's death is
    recorded, the window of the visit an assessment belongs to).
    ``signable``: a site investigator may sign a single record of this model.
    ``corrector``: makes a correction in answer to a query through the record's own
    service (``monitoring.correctors``); without one the site corrects on the record's
    form, citing the query.
    """

    label: str
    patient_path: str
    system_fields: frozenset[str] = frozenset()
    always_full_sdv: Callable[[Any], bool] | None = None
    extra_data: Callable[[Any], dict[str, Any]] = _no_extra
    signable: bool = False
    corrector: Callable[[Any, str, Any, Any, str], None] | None = None

    @property
    def model(self) -> type[Any]:
        # type[Any], not type[Model]: the model is looked up by its label, and django-stubs
        # types a bare model class without the managers every monitored model has
        # (``objects``, a scoped queryset's manager; ``history``).
        return apps.get_model(self.label)

    @property
    def patient_filter(self) -> str:
        return f"{self.patient_path}_id" if self.patient_path else "pk"

    def patient_id_of(self, instance: Any) -> int | None:
        if not self.patient_path:
            return instance.pk
        obj = instance
        *hops, last = self.patient_path.split("__")
        for hop in hops:
            obj = getattr(obj, hop, None)
            if obj is None:
                return None
        return getattr(obj, f"{last}_id", None)


def _ae_extra(event: Any) -> dict[str, Any]:
    patient = event.patient
    return {
        "death_recorded": bool(patient.death_date) or patient.status == "died",
        "patient_death_date": patient.death_date,
    }


def _visit_window(record: Any) -> dict[str, Any]:
    visit = getattr(record, "visit", None)
    if visit is None:
        return {}
    return {
        "visit_window_start": visit.window_start,
        "visit_window_end": visit.window_end,
        "visit_target_date": visit.target_date,
    }


def _visit_forms(visit: Any) -> dict[str, Any]:
    from .visit_forms import visit_forms_extra

    return visit_forms_extra(visit)


def _screening_data(screening: Any) -> dict[str, Any]:
    # Screening answers (labs, dates) are checked like fields of the record.
    return dict(screening.data or {})


_SAE_FIELDS = frozenset(
    {
        "initial_report_due",
        "initial_reported_at",
        "susar",
        "susar_report_due",
        "susar_reported_at",
        "escalated_at",
    }
)

TARGETS: list[Target] = [
    Target(
        "patients.patient",
        "",
        system_fields=frozenset({"last_known_alive_date"}),
        corrector=correct_patient,
    ),
    Target("patients.screening", "patient", extra_data=_screening_data),
    Target("patients.consent", "patient"),
    Target("patients.enrollment", "patient"),
    Target(
        "patients.visit",
        "patient",
        signable=True,
        corrector=correct_visit,
        extra_data=_visit_forms,
    ),
    Target(
        "patients.adverseevent",
        "patient",
        system_fields=_SAE_FIELDS,
        always_full_sdv=lambda event: bool(event.serious),
        extra_data=_ae_extra,
    ),
    Target("patients.adverseeventcausality", "adverse_event__patient", signable=True),
    Target("patients.tumorassessment", "patient", signable=True, extra_data=_visit_window),
    Target("patients.lesion", "patient"),
    Target("patients.lesionmeasurement", "assessment__patient"),
    # Clinical data of the flagship protocol (clinical app). Linking a laboratory result to
    # the adverse event it proposed is workflow bookkeeping, not a change of the result.
    Target(
        "clinical.labresult",
        "patient",
        system_fields=frozenset({"ae_proposal", "adverse_event"}),
        extra_data=_visit_window,
    ),
    Target("clinical.vitalsigns", "patient", extra_data=_visit_window),
    Target("clinical.exposure", "patient", signable=True),
    Target("clinical.procedure", "patient", signable=True),
    Target("clinical.concomitantmedication", "patient"),
]


def register(target: Target) -> None:
    """Cover another app's model (call from its ``AppConfig.ready``)."""
    if target.label not in {t.label for t in TARGETS}:
        TARGETS.append(target)
        _BY_LABEL.clear()


_BY_LABEL: dict[str, Target] = {}


def target_for(label: str) -> Target | None:
    if not _BY_LABEL:
        _BY_LABEL.update({t.label: t for t in TARGETS})
    return _BY_LABEL.get(label)


def target_of(instance_or_model: Any) -> Target | None:
    return target_for(instance_or_model._meta.label_lower)


def labels() -> list[str]:
    return [t.label for t in TARGETS]


def all_targets() -> Iterable[Target]:
    return list(TARGETS)


def data_fields(model: type[models.Model]) -> list[str]:
    """Concrete, editable data fields of a model (what a query or SDV may name)."""
    return [
        f.attname
        for f in model._meta.concrete_fields
        if not f.primary_key and f.attname not in ("id",)
    ]
