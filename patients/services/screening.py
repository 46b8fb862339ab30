"""Eligibility screening.

A screening evaluates the criteria of the protocol version in effect on the screening
date (``domain.eligibility.screen``, a safe rule interpreter) against the
coordinator's answers plus values already on record (date of birth, residence permit,
identity document, insurance, consent languages, planned follow-up), so nothing is
asked twice. Every screening is a new row; re-screening keeps the earlier ones.

Stored per criterion (``Screening.criteria_results``): ``code``, ``kind``,
``applies_to``, ``text``, ``text_zh``, ``status``, ``satisfied``, ``rule_status``,
``reason``, ``missing_fields``. ``status`` is the criterion-level answer shown to people:
``met`` when the criterion does not stand in the way of enrolment (for an exclusion:
the excluding condition is absent), ``not_met`` when it does, ``missing`` when data is
lacking, ``not_applicable`` for expatriate criteria of a resident patient.
``rule_status`` is the raw outcome of the rule (for an exclusion, ``met`` means the
excluding condition is present).
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.users import ActingUser
from domain.eligibility import (
    FIELD_CATALOGUE,
    FieldSource,
    FieldSpec,
    FieldType,
    RuleError,
    Verdict,
    fields_needed,
    screen,
)
from sites.roles import Perm
from sites.scoping import has_perm

from ..models import Patient, Screening
from ..selectors_screening import RECORD_FIELDS, as_domain, criteria_in_effect, record_values
from .registration import patient_set_status
from .visits import patient_local_today, patient_registered_on

__all__ = [
    "ANSWER_FIELDS",
    "SCREENABLE_STATUSES",
    "screening_date_problems",
    "screening_record",
]

#: Patient statuses in which a (re-)screening may be recorded.
SCREENABLE_STATUSES = frozenset(
    {Patient.Status.SCREENING, Patient.Status.ELIGIBLE, Patient.Status.SCREEN_FAILED}
)

#: Catalogue fields the coordinator answers (the rest come from records or the trial).
ANSWER_FIELDS: tuple[str, ...] = tuple(
    name
    for name, spec in FIELD_CATALOGUE.items()
    if spec.source is FieldSource.FORM and name not in RECORD_FIELDS and name != "screening_date"
)

_RESULT_FOR_VERDICT = {
    Verdict.ELIGIBLE: Screening.Result.ELIGIBLE,
    Verdict.NOT_ELIGIBLE: Screening.Result.NOT_ELIGIBLE,
    Verdict.INCOMPLETE: Screening.Result.INCOMPLETE,
}


def screening_date_problems(patient: Patient, value: datetime.date) -> list[str]:
    """Why ``value`` cannot be the screening date of ``patient`` (empty if it can)."""
    problems = []
    today = patient_local_today(patient)
    if value > today:
        problems.append(
            _("The screening date cannot be in the future (today at this site is %(today)s).")
            % {"today": today.isoformat()}
        )
    earliest = patient_registered_on(patient) - datetime.timedelta(days=365)
    if value < earliest:
        problems.append(
            _(
                "The screening date cannot be more than a year before the patient's "
                "registration (earliest %(date)s)."
            )
            % {"date": earliest.isoformat()}
        )
    return problems


def _as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return None
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _range_message(spec: FieldSpec) -> str:
    unit = f" {spec.unit}" if spec.unit else ""
    return _("Enter a value from %(min)s to %(max)s%(unit)s.") % {
        "min": spec.min_value,
        "max": spec.max_value,
        "unit": unit,
    }


def _clean_answer(
    name: str, spec: FieldSpec, value: Any, screening_date: datetime.date | None
) -> tuple[Any, str | None]:
    """``(json_value, problem)``: the value as stored in the screening data, or why not."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    match spec.type:
        case FieldType.BOOL:
            if isinstance(value, bool):
                return value, None
            text = str(value).strip().lower()
            if text in ("yes", "true", "1"):
                return True, None
            if text in ("no", "false", "0"):
                return False, None
            return None, _("Answer yes or no.")
        case FieldType.INT | FieldType.DECIMAL:
            if isinstance(value, bool):
                return None, _("Enter a number.")
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                return None, _("Enter a number.")
            if spec.type is FieldType.INT:
                if number != number.to_integral_value():
                    return None, _("Enter a whole number.")
                stored: Any = int(number)
            else:
                stored = format(number.normalize(), "f")
            low, high = spec.min_value, spec.max_value
            if (low is not None and number < Decimal(str(low))) or (
                high is not None and number > Decimal(str(high))
            ):
                return None, _range_message(spec)
            return stored, None
        case FieldType.DATE:
            day = _as_date(value)
            if day is None:
                return None, _("Enter a valid date.")
            if isinstance(spec.min_value, datetime.date) and day < spec.min_value:
                return None, _("Enter a date from %(min)s on.") % {
                    "min": spec.min_value.isoformat()
                }
            if screening_date is not None and day > screening_date:
                return None, _("This date cannot be after the screening date.")
            return day.isoformat(), None
        case _:  # CHOICE
            allowed = dict(spec.choices)
            if not isinstance(value, str) or value not in allowed:
                return None, _("Select a valid choice.")
            return value, None


def _clean_answers(
    answers: dict[str, Any], screening_date: datetime.date | None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in answers.items():
        if name not in ANSWER_FIELDS:
            if name in RECORD_FIELDS:
                message = _("This value comes from the patient record; edit the patient instead.")
            else:
                message = _("Unknown screening field.")
            errors.setdefault(name, []).append(message)
            continue
        stored, problem = _clean_answer(name, FIELD_CATALOGUE[name], value, screening_date)
        if problem:
            errors.setdefault(name, []).append(problem)
        elif stored is not None:
            data[name] = stored
    return data, errors


def _results(decision: Any, criteria: list[Any]) -> list[dict[str, Any]]:
    by_code = {c.code: c for c in criteria}
    evaluated = {r.code: r for r in decision.results}
    results: list[dict[str, Any]] = []
    for c in criteria:
        r = evaluated.get(c.code)
        if r is None:  # expatriate criterion, resident patient
            results.append(
                {
                    "code": c.code,
                    "kind": c.kind,
                    "applies_to": c.applies_to,
                    "text": c.text,
                    "text_zh": c.text_zh,
                    "status": "not_applicable",
                    "satisfied": None,
                    "rule_status": None,
                    "reason": "Applies to expatriate patients only.",
                    "missing_fields": [],
                }
            )
            continue
        item = r.to_dict()
        item["rule_status"] = item["status"]
        item["status"] = {True: "met", False: "not_met", None: "missing"}[r.satisfied]
        item["text_zh"] = by_code[c.code].text_zh
        results.append(item)
    return results


def screening_record(
    *,
    patient: Patient,
    acting_user: ActingUser,
    screening_date: datetime.date | str | None,
    answers: dict[str, Any],
) -> Screening:
    """Screen ``patient`` on ``screening_date`` with the coordinator's ``answers``.

    Moves the patient to ``eligible`` or ``screen_failed`` (an incomplete screening
    leaves them in ``screening``); a re-screen of an eligible or screen-failed patient
    first moves them back to ``screening``. Patients past consent cannot be screened.
    """
    if not has_perm(acting_user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not screen patients at this site."))

    errors: dict[str, list[str]] = {}
    day = _as_date(screening_date) if screening_date not in (None, "") else None
    if screening_date in (None, ""):
        errors["screening_date"] = [_("Enter the screening date.")]
    elif day is None:
        errors["screening_date"] = [_("Enter a valid date.")]
    else:
        problems = screening_date_problems(patient, day)
        if problems:
            errors["screening_date"] = problems
    answer_data, answer_errors = _clean_answers(dict(answers or {}), day)
    for name, messages in answer_errors.items():
        errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    assert day is not None

    trial = patient.trial_site.trial
    version, criteria = criteria_in_effect(trial=trial, on_date=day)
    if version is None:
        raise ValidationError(
            {
                "screening_date": _(
                    "No protocol version with eligibility criteria is in effect on %(date)s "
                    "for this trial; ask the data manager to configure the criteria."
                )
                % {"date": day.isoformat()}
            }
        )

    with transaction.atomic():
        current = (
            Patient.objects.select_for_update()
            .select_related("trial_site__trial", "trial_site__site")
            .get(pk=patient.pk)
        )
        if current.status not in SCREENABLE_STATUSES:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: _(
                        "The patient's status is “%(status)s”: screening is closed once a "
                        "patient has consented."
                    )
                    % {"status": current.get_status_display()}
                }
            )
        domain = as_domain(criteria)
        needed = fields_needed(domain, current.is_expatriate)
        records = record_values(patient=current, on_date=day).values
        data: dict[str, Any] = {"screening_date": day.isoformat()}
        data.update(answer_data)
        data.update({k: v for k, v in records.items() if k in needed and v is not None})
        try:
            decision = screen(domain, data, current.is_expatriate)
        except (RuleError, ValueError) as exc:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: _(
                        "The eligibility criteria of protocol version %(version)s are "
                        "misconfigured (%(problem)s); ask the data manager to correct them."
                    )
                    % {"version": version.version, "problem": exc}
                }
            ) from exc

        result = _RESULT_FOR_VERDICT[decision.verdict]
        reason = _("Screening on %(date)s: %(result)s") % {
            "date": day.isoformat(),
            "result": Screening.Result(result).label,
        }
        with audit_context(user=acting_user, reason=reason):
            if current.status != Patient.Status.SCREENING:
                patient_set_status(
                    patient=current,
                    status=Patient.Status.SCREENING,
                    acting_user=acting_user,
                    reason=_("Re-screening on %(date)s") % {"date": day.isoformat()},
                )
            screening = Screening(
                patient=current,
                protocol_version=version,
                screening_date=day,
                data=data,
                result=result,
                criteria_results=_results(decision, criteria),
                failed_codes=[r.code for r in decision.failed],
                screened_by=acting_user,
                screened_by_username=acting_user.get_username(),
            )
            screening.save()
            target = {
                Screening.Result.ELIGIBLE: Patient.Status.ELIGIBLE,
                Screening.Result.NOT_ELIGIBLE: Patient.Status.SCREEN_FAILED,
            }.get(result)
            if target is not None:
                patient_set_status(
                    patient=current, status=target, acting_user=acting_user, reason=reason
                )
    patient.status = current.status
    return screening
