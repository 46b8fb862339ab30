"""Edit checks: data-quality rules run by the eligibility rule engine.

A check's ``rule`` is a rule of ``domain.eligibility`` (the engine is called, not
copied) evaluated over the record's fields plus the target's ``extra_data``. "Dates in
order" is ``{"field": "days_between:<earlier>:<later>", "op": ">=", "value": 0}``;
"required when" is ``{"any": [{"not": <condition>}, {"field": <f>, "op": "present"}]}``.
NOT_MET raises a query on the check's field (once); MET closes the check's own open
query; MISSING (data not entered yet) does nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.context import audit_context
from audit.users import ActingUser
from domain.eligibility import (
    FieldSpec,
    FieldType,
    RuleError,
    Status,
    evaluate,
    validate_rule,
)

from ..guard import active_lock_for
from ..models import DataQuery, EditCheck, QueryMessage
from ..targets import Target, data_fields, target_for, target_of
from .common import context_for

_TYPES = {
    "DateField": FieldType.DATE,
    "DateTimeField": FieldType.DATE,
    "IntegerField": FieldType.INT,
    "PositiveIntegerField": FieldType.INT,
    "PositiveSmallIntegerField": FieldType.INT,
    "SmallIntegerField": FieldType.INT,
    "BigIntegerField": FieldType.INT,
    "FloatField": FieldType.DECIMAL,
    "DecimalField": FieldType.DECIMAL,
    "BooleanField": FieldType.BOOL,
}


def catalogue_for(model: Any) -> dict[str, FieldSpec]:
    """Labels of the model's fields for the engine's reason texts."""
    catalogue: dict[str, FieldSpec] = {}
    for f in model._meta.concrete_fields:
        kind = _TYPES.get(f.get_internal_type(), FieldType.CHOICE)
        choices = tuple((str(v), str(lbl)) for v, lbl in (f.choices or ()))
        catalogue[f.attname] = FieldSpec(kind, str(f.verbose_name), choices=choices)
    return catalogue


def check_data(record: Any, target: Target) -> dict[str, Any]:
    data = {f.attname: f.value_from_object(record) for f in record._meta.concrete_fields}
    data.update(target.extra_data(record))
    return data


def rule_problems(*, rule: Any, label: str) -> list[str]:
    """Problems of a check's rule against the form's fields (for the admin)."""
    target = target_for(label)
    if target is None:
        return [_("This form is not monitored.")]
    names = set(data_fields(target.model)) | {f.attname for f in target.model._meta.concrete_fields}
    names |= _extra_names(target)
    return validate_rule(rule, sorted(names))


#: Labels of extra values for the engine's reason texts.
_EXTRA_SPECS = {
    "missing_forms_past_window": FieldSpec(
        FieldType.INT,
        gettext_lazy("Required forms missing after the visit window"),  # type: ignore[arg-type]  # lazy: translated when the reason is phrased
    ),
}


def _extra_names(target: Target) -> set[str]:
    return {
        "patients.adverseevent": {"death_recorded", "patient_death_date"},
        "patients.tumorassessment": {"visit_window_start", "visit_window_end", "visit_target_date"},
        "patients.visit": {"missing_forms_past_window", "missing_forms"},
    }.get(target.label, set()) | set(getattr(target, "extra_names", ()))


def _apply(check: EditCheck, record: Any, target: Target, ctx: Any) -> str:
    data = check_data(record, target)
    catalogue = catalogue_for(type(record))
    catalogue.update(_EXTRA_SPECS)
    try:
        outcome = evaluate(check.rule, data, catalogue=catalogue)
    except RuleError:
        return "invalid"
    queries = DataQuery.objects.filter(edit_check=check, object_id=record.pk)
    if outcome.status is Status.MET:
        closed = 0
        for query in queries.filter(status__in=DataQuery.UNRESOLVED):
            query.status = DataQuery.Status.CLOSED
            from django.utils import timezone

            query.closed_at = timezone.now()
            query.save()
            QueryMessage.objects.create(
                query=query,
                action=QueryMessage.Action.AUTO_CLOSE,
                text=outcome.reason,
                author_username=_("edit check"),
            )
            closed += 1
        return "closed" if closed else "met"
    if outcome.status is Status.NOT_MET:
        # Once per record: not again while one is unresolved, nor after a person closed it.
        if queries.exists():
            return "known"
        reason = outcome.reason
        if data.get("missing_forms"):  # a visit's missing forms: name them
            reason = f"{reason}: {data['missing_forms']}"
        query = DataQuery.objects.create(
            **ctx.targeted(),
            field_name=check.field_name,
            origin=DataQuery.Origin.EDIT_CHECK,
            edit_check=check,
            text=f"{check.code}: {check.text()} ({reason})"[:4000],
            raised_by_username=_("edit check"),
        )
        QueryMessage.objects.create(
            query=query,
            action=QueryMessage.Action.RAISE,
            text=query.text,
            author_username=_("edit check"),
        )
        return "raised"
    return "missing"


def edit_checks_run_record(
    *, record: Any, target: Target | None = None, patient_id: int | None = None
) -> dict[str, int]:
    target = target or target_of(record)
    if target is None:
        return {}
    content_type = ContentType.objects.get_for_model(type(record))
    patient_id = patient_id or target.patient_id_of(record)
    checks = list(
        EditCheck.objects.filter(
            active=True, target=content_type, trial__trial_sites__patients=patient_id
        )
    )
    if not checks:
        return {}
    if active_lock_for(patient_id=patient_id, freeze_counts=False) is not None:
        return {}
    ctx = context_for(record)
    tally: dict[str, int] = {}
    with audit_context(reason=_("Edit check")):
        for check in checks:
            result = _apply(check, record, target, ctx)
            tally[result] = tally.get(result, 0) + 1
    return tally


def edit_checks_run_trial(*, trial: Any, acting_user: ActingUser | None = None) -> dict[str, int]:
    """Run every active check of ``trial`` over all its records (button, command, task)."""
    tally: dict[str, int] = {}
    checks = list(EditCheck.objects.filter(trial=trial, active=True).select_related("target"))
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Edit checks run")):
        for check in checks:
            target = target_for(f"{check.target.app_label}.{check.target.model}")
            if target is None:
                continue
            trial_path = (
                f"{target.patient_path}__trial_site__trial"
                if target.patient_path
                else "trial_site__trial"
            )
            for record in target.model._base_manager.filter(**{trial_path: trial}).order_by("pk"):
                patient_id = target.patient_id_of(record)
                if active_lock_for(patient_id=patient_id, freeze_counts=False) is not None:
                    tally["locked"] = tally.get("locked", 0) + 1
                    continue
                result = _apply(check, record, target, context_for(record))
                tally[result] = tally.get(result, 0) + 1
    return tally
