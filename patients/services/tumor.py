"""Tumour assessments: the baseline scan with its lesions, and the follow-up scans that
measure them (RECIST 1.1, iRECIST flags, recorded responses).

The selection and measurement rules are the pure engine's (``domain.recist``:
``validate_baseline`` / ``validate_followup``); ``tumor_checks`` adds what needs the
database (enrollment, dates, visits, the other assessments) and translates every
``SelectionError`` into an error that names the row and the field (``lesions[2].
diameter_mm``, ``assessment_date``, or a non-field "Lesion T6: at most 5 target
lesions"). The services here check everything first, then write, and recompute the
patient's stored response in the same transaction.

Why one module: these are the writes of one aggregate (an assessment with its lesions and
measurements). Recording and updating, baseline and follow-up share the permission check,
the patient lock, the enrollment lookup and the save / change-detection helpers at the
top, and each ends with ``response_recompute`` in its transaction; the checks are already
apart in ``tumor_checks.py``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.users import ActingUser
from sites.roles import Perm
from sites.scoping import has_perm

from ..models import Enrollment, Lesion, LesionMeasurement, Patient, TumorAssessment, Visit
from .common import require_reason
from .response import response_recompute
from .tumor_checks import (
    BASELINE_WINDOW_DAYS,
    Errors,
    FollowupInput,
    LesionRow,
    MeasurementRow,
    add_error,
    assessment_day0,
    assign_codes,
    check_baseline_date,
    check_common,
    check_followup,
    check_followups_still_fit,
    check_lesion_selection,
    check_non_target_present,
    clean_text,
    followup_input,
    lesion_rows,
    non_target_present_in,
    patient_baseline,
    raise_if_any,
)

__all__ = [
    "BASELINE_WINDOW_DAYS",
    "assessment_day0",
    "assessment_record_baseline",
    "assessment_record_followup",
    "assessment_update",
    "patient_baseline",
]


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _require(user: Any, patient: Patient) -> None:
    if not has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not enter tumour assessments at this site."))


def _lock(patient: Patient) -> Patient:
    return (
        Patient.objects.select_for_update()
        .select_related("trial_site__site", "trial_site__trial")
        .get(pk=patient.pk)
    )


def _enrollment(patient: Patient) -> Enrollment:
    enrollment = Enrollment.objects.filter(patient=patient).first()
    if enrollment is None:
        raise ValidationError(
            {"patient": _("Tumour assessments are recorded for enrolled patients only.")}
        )
    return enrollment


def _save(obj: Any, reason: str | None = None) -> None:
    if reason:
        set_change_reason(obj, reason)
    obj.save()


def _changed(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


# --------------------------------------------------------------------------------------
# Baseline
# --------------------------------------------------------------------------------------


def assessment_record_baseline(
    *,
    patient: Patient,
    acting_user: ActingUser,
    assessment_date: datetime.date | None,
    method: str,
    lesions: list[dict[str, Any]],
    non_target_present: bool | None = None,
    visit: Visit | None = None,
    notes: str = "",
    reason: str | None = None,
) -> TumorAssessment:
    """Record the baseline scan and its lesions.

    Each lesion is a dict with ``organ``, ``location``, ``nodal``, ``target``,
    ``ablated``, ``diameter_mm`` (longest diameter; short axis for a node) and an
    optional ``code`` (T1.. / NT1.. assigned when blank). Whether non-target disease is
    present follows from the lesions; ``non_target_present``, when given, must agree.
    """
    _require(acting_user, patient)
    method = clean_text(method)
    notes = clean_text(notes)
    why = reason or _("Baseline tumour assessment")
    with transaction.atomic(), audit_context(user=acting_user, reason=why):
        locked = _lock(patient)
        enrollment = _enrollment(locked)
        errors: Errors = {}
        if patient_baseline(locked) is not None:
            add_error(
                errors,
                NON_FIELD_ERRORS,
                _("This patient already has a baseline assessment; edit it instead."),
            )
        check_baseline_date(errors, locked, enrollment, assessment_date)
        check_common(errors, method=method, notes=notes, patient=locked, visit=visit)
        rows = lesion_rows(errors, lesions)
        assign_codes(errors, rows)
        check_lesion_selection(errors, rows)
        check_non_target_present(errors, rows, non_target_present)
        raise_if_any(errors)
        assert assessment_date is not None  # check_baseline_date requires it

        assessment = TumorAssessment(
            patient=locked,
            visit=visit,
            is_baseline=True,
            assessment_date=assessment_date,
            method=method,
            non_target_status="" if non_target_present_in(rows) else TumorAssessment.NonTarget.NONE,
            notes=notes,
            entered_by=acting_user,
            entered_by_username=acting_user.get_username(),
        )
        try:
            with transaction.atomic():
                assessment.save()
        except IntegrityError as exc:  # a concurrent baseline won the race
            raise ValidationError(
                {NON_FIELD_ERRORS: [_("This patient already has a baseline assessment.")]}
            ) from exc
        for row in rows:
            assert row.diameter_mm is not None  # lesion_rows requires a baseline diameter
            Lesion(
                patient=locked,
                code=row.code,
                organ=row.organ,
                location=row.location,
                nodal=row.nodal,
                target=row.target,
                ablated=row.ablated,
                baseline_mm=row.diameter_mm,
            ).save()
        response_recompute(patient=locked, acting_user=acting_user)
    return assessment


# --------------------------------------------------------------------------------------
# Follow-up
# --------------------------------------------------------------------------------------


def _measurement_values(row: MeasurementRow) -> dict[str, Any]:
    return {
        "state": row.state,
        "diameter_mm": row.diameter_mm,
        "fragments_mm": row.fragments_mm,
        "merged_into": row.merged_into,
    }


def assessment_record_followup(
    *,
    patient: Patient,
    acting_user: ActingUser,
    assessment_date: datetime.date | None,
    method: str,
    measurements: list[dict[str, Any]],
    non_target_status: str,
    new_lesions: str,
    new_lesions_increased: bool = False,
    nontarget_increased: bool = False,
    recorded_response: str = "",
    recorded_response_source: str = "",
    visit: Visit | None = None,
    notes: str = "",
    reason: str | None = None,
) -> TumorAssessment:
    """Record a follow-up scan.

    ``measurements``: one dict per target lesion of the baseline with ``lesion`` (the
    Lesion, its pk or its code), ``state`` (measured, too_small = 5 mm, disappeared,
    merged, not_evaluated), ``diameter_mm``, ``fragments_mm`` (a split lesion: the sum is
    stored as the diameter) and ``merged_into`` (for state merged). Every target lesion
    needs a measurement or a state, unless a ``recorded_response`` (with its source) is
    given: that response is then used as the time-point response, marked as recorded.
    """
    _require(acting_user, patient)
    data = followup_input(
        assessment_date=assessment_date,
        method=method,
        non_target_status=non_target_status,
        new_lesions=new_lesions,
        new_lesions_increased=new_lesions_increased,
        nontarget_increased=nontarget_increased,
        recorded_response=recorded_response,
        recorded_response_source=recorded_response_source,
        visit=visit,
        notes=notes,
        measurements=measurements,
    )
    why = reason or _("Follow-up tumour assessment")
    with transaction.atomic(), audit_context(user=acting_user, reason=why):
        locked = _lock(patient)
        enrollment = _enrollment(locked)
        errors: Errors = {}
        rows, stored_status = check_followup(errors, locked, enrollment, data)
        raise_if_any(errors)
        assert data.assessment_date is not None  # check_followup requires it
        assessment = TumorAssessment(
            patient=locked,
            visit=data.visit,
            is_baseline=False,
            assessment_date=data.assessment_date,
            method=data.method,
            non_target_status=stored_status,
            new_lesions=data.new_lesions,
            new_lesions_increased=data.new_lesions_increased,
            nontarget_increased=data.nontarget_increased,
            recorded_response=data.recorded_response,
            recorded_response_source=data.recorded_response_source,
            notes=data.notes,
            entered_by=acting_user,
            entered_by_username=acting_user.get_username(),
        )
        assessment.save()
        for row in rows:
            LesionMeasurement(
                assessment=assessment, lesion=row.lesion, **_measurement_values(row)
            ).save()
        response_recompute(patient=locked, acting_user=acting_user)
    return assessment


def assessment_followup_errors(
    *, patient: Patient, exclude: TumorAssessment | None = None, **values: Any
) -> dict[str, list[str]]:
    """The follow-up checks on the values that could be read, as a dict; nothing is
    written or locked. Forms call it when some fields already failed, so every problem
    comes back in one round."""
    defaults: dict[str, Any] = {
        "assessment_date": None,
        "method": "",
        "non_target_status": "",
        "new_lesions": "",
        "new_lesions_increased": False,
        "nontarget_increased": False,
        "recorded_response": "",
        "recorded_response_source": "",
        "visit": None,
        "notes": "",
        "measurements": [],
    }
    data = followup_input(**{**defaults, **values})
    errors: Errors = {}
    try:
        enrollment = _enrollment(patient)
        check_followup(errors, patient, enrollment, data, exclude=exclude)
    except ValidationError as exc:
        for key, messages_ in exc.message_dict.items():
            for message in messages_:
                add_error(errors, key, message)
    return errors


# --------------------------------------------------------------------------------------
# Corrections
# --------------------------------------------------------------------------------------


def _keep(value: Any, old: Any) -> Any:
    return old if value is None else value


def _write_lesions(
    patient: Patient,
    rows: list[LesionRow],
    matched: dict[int, int],
    existing: dict[int, Lesion],
    reason: str,
) -> None:
    for row in rows:
        values = {
            "code": row.code,
            "organ": row.organ,
            "location": row.location,
            "nodal": row.nodal,
            "target": row.target,
            "ablated": row.ablated,
            "baseline_mm": row.diameter_mm,
        }
        pk = matched.get(row.index)
        if pk is None:
            _save(Lesion(patient=patient, **values), reason)
        else:
            lesion = existing[pk]
            if _changed(lesion, values):
                _save(lesion, reason)


def _update_baseline(
    errors: Errors,
    assessment: TumorAssessment,
    patient: Patient,
    enrollment: Enrollment,
    *,
    assessment_date: datetime.date,
    method: str,
    notes: str,
    visit: Visit | None,
    lesions: list[dict[str, Any]] | None,
    reason: str,
) -> None:
    followups = TumorAssessment.objects.filter(patient=patient, is_baseline=False)
    first_followup = (
        followups.order_by("assessment_date").values_list("assessment_date", flat=True).first()
    )
    check_baseline_date(errors, patient, enrollment, assessment_date, first_followup=first_followup)
    check_common(errors, method=method, notes=notes, patient=patient, visit=visit)
    existing = {lesion.pk: lesion for lesion in Lesion.objects.filter(patient=patient)}
    if lesions is None:
        lesions = [
            {
                "id": lesion.pk,
                "code": lesion.code,
                "organ": lesion.organ,
                "location": lesion.location,
                "nodal": lesion.nodal,
                "target": lesion.target,
                "ablated": lesion.ablated,
                "diameter_mm": lesion.baseline_mm,
            }
            for lesion in existing.values()
        ]
    rows = lesion_rows(errors, lesions)
    by_code = {lesion.code.upper(): lesion for lesion in existing.values()}
    matched: dict[int, int] = {}  # row index -> lesion pk
    claimed: set[int] = set()
    for row in rows:
        pk = None
        if row.lesion_id is not None:
            try:
                pk = int(row.lesion_id)
            except (TypeError, ValueError):
                pk = None
            if pk not in existing or pk in claimed:
                add_error(
                    errors,
                    f"lesions[{row.index}].code",
                    _("This lesion is not one of the patient's."),
                )
                continue
        elif row.code and row.code in by_code and by_code[row.code].pk not in claimed:
            pk = by_code[row.code].pk
        if pk is not None:
            matched[row.index] = pk
            claimed.add(pk)
            if not row.code:
                row.code = existing[pk].code.upper()
    assign_codes(errors, rows)
    removed = [lesion for pk, lesion in existing.items() if pk not in claimed]
    measured = set(
        LesionMeasurement.objects.filter(lesion__patient=patient).values_list(
            "lesion_id", flat=True
        )
    ) | set(
        LesionMeasurement.objects.filter(merged_into__patient=patient).values_list(
            "merged_into_id", flat=True
        )
    )
    for lesion in removed:
        if lesion.pk in measured:
            add_error(
                errors,
                NON_FIELD_ERRORS,
                _(
                    "Lesion %(code)s is measured at a follow-up and cannot be removed; correct "
                    "the follow-up first."
                )
                % {"code": lesion.code},
            )
    engine = check_lesion_selection(errors, rows)
    for row in rows:
        pk = matched.get(row.index)
        if pk in measured and not row.target:
            add_error(
                errors,
                f"lesions[{row.index}].target",
                _("%(code)s is measured at follow-ups, so it stays a target lesion.")
                % {"code": row.code},
            )
    adjustments = check_followups_still_fit(errors, patient, engine, rows, matched, existing)
    raise_if_any(errors)

    # Write: removed lesions first (their codes may be reused), then updates, then new.
    for lesion in removed:
        set_change_reason(lesion, reason)
        lesion.delete()
    try:
        with transaction.atomic():
            _write_lesions(patient, rows, matched, existing, reason)
    except IntegrityError as exc:  # e.g. T1 and T2 swapped in one step
        raise ValidationError(
            {
                NON_FIELD_ERRORS: [
                    _(
                        "Two lesions cannot exchange their codes in one correction: give one "
                        "of them a free code first."
                    )
                ]
            }
        ) from exc
    values = {
        "assessment_date": assessment_date,
        "method": method,
        "notes": notes,
        "visit": visit,
        "non_target_status": "" if non_target_present_in(rows) else TumorAssessment.NonTarget.NONE,
    }
    if _changed(assessment, values):
        _save(assessment, reason)
    for followup, changes in adjustments:
        if _changed(followup, changes):
            _save(followup, reason)


def _update_followup(
    errors: Errors,
    assessment: TumorAssessment,
    patient: Patient,
    enrollment: Enrollment,
    data: FollowupInput,
    reason: str,
) -> None:
    rows, stored_status = check_followup(errors, patient, enrollment, data, exclude=assessment)
    raise_if_any(errors)
    existing = {m.lesion_id: m for m in assessment.measurements.all()}
    kept = {row.lesion.pk for row in rows}
    for lesion_pk, stale in existing.items():
        if lesion_pk not in kept:
            set_change_reason(stale, reason)
            stale.delete()
    for row in rows:
        measurement = existing.get(row.lesion.pk)
        if measurement is None:
            _save(
                LesionMeasurement(
                    assessment=assessment, lesion=row.lesion, **_measurement_values(row)
                ),
                reason,
            )
        elif _changed(measurement, _measurement_values(row)):
            _save(measurement, reason)
    values = {
        "assessment_date": data.assessment_date,
        "method": data.method,
        "non_target_status": stored_status,
        "new_lesions": data.new_lesions,
        "new_lesions_increased": data.new_lesions_increased,
        "nontarget_increased": data.nontarget_increased,
        "recorded_response": data.recorded_response,
        "recorded_response_source": data.recorded_response_source,
        "visit": data.visit,
        "notes": data.notes,
    }
    if _changed(assessment, values):
        _save(assessment, reason)


def assessment_update(
    *,
    assessment: TumorAssessment,
    acting_user: ActingUser,
    reason: str | None,
    assessment_date: datetime.date | None = None,
    method: str | None = None,
    visit: Visit | None = None,
    notes: str | None = None,
    lesions: list[dict[str, Any]] | None = None,
    measurements: list[dict[str, Any]] | None = None,
    non_target_status: str | None = None,
    new_lesions: str | None = None,
    new_lesions_increased: bool | None = None,
    nontarget_increased: bool | None = None,
    recorded_response: str | None = None,
    recorded_response_source: str | None = None,
    clear_visit: bool = False,
) -> TumorAssessment:
    """Correct a saved assessment, with a reason (kept in every history row).

    Arguments left at ``None`` keep their value (``clear_visit=True`` unlinks the visit).
    Lists replace the whole list: baseline ``lesions`` rows are matched to the existing
    lesions by ``id`` (else by ``code``); a lesion left out is removed, unless a
    follow-up measures it. Follow-up ``measurements`` replace the assessment's
    measurements. The same rules as at entry apply, and a corrected baseline must still
    fit the follow-ups already recorded.
    """
    patient = assessment.patient
    _require(acting_user, patient)
    reason = require_reason(reason)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        locked = _lock(patient)
        enrollment = _enrollment(locked)
        current = TumorAssessment.objects.select_for_update().get(pk=assessment.pk)
        current.patient = locked
        new_visit = None if clear_visit else _keep(visit, current.visit)
        errors: Errors = {}
        if current.is_baseline:
            if measurements is not None or any(
                value is not None
                for value in (
                    non_target_status,
                    new_lesions,
                    new_lesions_increased,
                    nontarget_increased,
                    recorded_response,
                    recorded_response_source,
                )
            ):
                raise ValidationError(
                    {NON_FIELD_ERRORS: [_("A baseline assessment has lesions, not measurements.")]}
                )
            _update_baseline(
                errors,
                current,
                locked,
                enrollment,
                assessment_date=_keep(assessment_date, current.assessment_date),
                method=clean_text(_keep(method, current.method)),
                notes=clean_text(_keep(notes, current.notes)),
                visit=new_visit,
                lesions=lesions,
                reason=reason,
            )
        else:
            if lesions is not None:
                raise ValidationError(
                    {NON_FIELD_ERRORS: [_("Lesions are recorded on the baseline assessment.")]}
                )
            if measurements is None:
                measurements = [
                    {
                        "lesion": m.lesion,
                        "state": m.state,
                        "diameter_mm": None if m.fragments_mm else m.diameter_mm,
                        "fragments_mm": m.fragments_mm,
                        "merged_into": m.merged_into,
                    }
                    for m in current.measurements.select_related("lesion", "merged_into")
                ]
            data = followup_input(
                assessment_date=_keep(assessment_date, current.assessment_date),
                method=_keep(method, current.method),
                non_target_status=_keep(non_target_status, current.non_target_status),
                new_lesions=_keep(new_lesions, current.new_lesions),
                new_lesions_increased=_keep(new_lesions_increased, current.new_lesions_increased),
                nontarget_increased=_keep(nontarget_increased, current.nontarget_increased),
                recorded_response=_keep(recorded_response, current.recorded_response),
                recorded_response_source=_keep(
                    recorded_response_source, current.recorded_response_source
                ),
                visit=new_visit,
                notes=_keep(notes, current.notes),
                measurements=measurements,
            )
            _update_followup(errors, current, locked, enrollment, data, reason)
        response_recompute(patient=locked, acting_user=acting_user)
    return current
