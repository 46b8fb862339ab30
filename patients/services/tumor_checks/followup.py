"""Follow-up checks: measurement rows (states, split and merged lesions), the
follow-up's dates, findings and recorded response, and the RECIST follow-up rules with
messages naming each row."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _

from domain import recist

from ...models import Enrollment, Lesion, LesionMeasurement, Patient, TumorAssessment, Visit
from .common import (
    MAX_MM,
    SOURCE_MAX,
    Errors,
    add_error,
    as_bool,
    assessment_day0,
    check_choice,
    check_common,
    check_scan_date,
    clean_text,
    diameter_problem,
    fmt_date,
    fmt_mm,
    parse_number,
    patient_baseline,
)


@dataclass
class MeasurementRow:
    index: int
    lesion: Lesion
    state: str
    diameter_mm: float | None
    fragments_mm: list[float]
    merged_into: Lesion | None
    problems: set[str] = field(default_factory=set)


def resolve_lesion(
    value: Any, lesions: dict[str, Lesion], by_pk: dict[int, Lesion]
) -> Lesion | None:
    if value is None or value == "":
        return None
    if isinstance(value, Lesion):
        return by_pk.get(value.pk)
    if isinstance(value, int):
        return by_pk.get(value)
    return lesions.get(str(value).strip().upper())


def parse_fragments(errors: Errors, key: str, raw: Any) -> tuple[list[float], bool]:
    """Fragments of a split lesion: a list of numbers or a text like ``"12, 8"``."""
    if raw in (None, "", []):
        return [], False
    items: list[Any]
    if isinstance(raw, str):
        items = [part for part in raw.replace(";", " ").replace(",", " ").split() if part]
    else:
        items = list(raw)
    values: list[float] = []
    for item in items:
        number, problem = parse_number(item)
        if problem or number is None:
            add_error(
                errors,
                f"{key}.fragments_mm",
                _("Enter each fragment's diameter in mm, separated by commas."),
            )
            return [], True
        if number <= 0 or number > MAX_MM:
            add_error(
                errors,
                f"{key}.fragments_mm",
                _("Each fragment must measure more than 0 and at most %(max)s mm; got %(value)s.")
                % {"max": fmt_mm(MAX_MM), "value": fmt_mm(number)},
            )
            return [], True
        values.append(number)
    if len(values) < 2:
        add_error(
            errors,
            f"{key}.fragments_mm",
            _("A split lesion has at least two fragments; for one, enter the diameter."),
        )
        return [], True
    return values, False


def measurement_rows(
    errors: Errors, measurements: Sequence[dict[str, Any]], lesions: Sequence[Lesion]
) -> list[MeasurementRow]:
    by_code = {lesion.code.upper(): lesion for lesion in lesions}
    by_pk = {lesion.pk: lesion for lesion in lesions}
    states = LesionMeasurement.State
    rows: list[MeasurementRow] = []
    seen: dict[int, int] = {}
    for i, raw in enumerate(measurements):
        key = f"measurements[{i}]"
        lesion = resolve_lesion(raw.get("lesion"), by_code, by_pk)
        state = clean_text(raw.get("state"))
        diameter, problem = parse_number(raw.get("diameter_mm"))
        fragments, fragment_problem = parse_fragments(errors, key, raw.get("fragments_mm"))
        merged_raw = raw.get("merged_into")
        merged_into = resolve_lesion(merged_raw, by_code, by_pk)
        if lesion is None:
            add_error(errors, f"{key}.lesion", _("Choose a lesion recorded at baseline."))
            continue
        if not lesion.target:
            add_error(
                errors,
                f"{key}.lesion",
                _(
                    "%(code)s is a non-target lesion: non-target lesions are assessed together "
                    "through the non-target status."
                )
                % {"code": lesion.code},
            )
            continue
        if lesion.pk in seen:
            add_error(
                errors,
                f"{key}.lesion",
                _("Lesion %(code)s is measured twice.") % {"code": lesion.code},
            )
            continue
        seen[lesion.pk] = i
        if not state and (diameter is not None or fragments or problem or fragment_problem):
            state = states.MEASURED
        row = MeasurementRow(i, lesion, state, diameter, fragments, merged_into)
        rows.append(row)
        if not state:
            continue  # nothing entered for this lesion: checked with the recorded response
        if state not in states.values:
            add_error(errors, f"{key}.state", _("Choose the state of the lesion."))
            row.problems.add("state")
            continue
        if problem:
            add_error(errors, f"{key}.diameter_mm", problem)
            row.problems.add("diameter_mm")
        if fragment_problem:
            row.problems.add("fragments_mm")
        if fragments and state != states.MEASURED:
            add_error(
                errors,
                f"{key}.fragments_mm",
                _("Fragments are only entered for a measured (split) lesion."),
            )
            row.problems.add("fragments_mm")
        if state == states.MEASURED:
            if fragments:
                total = round(sum(fragments), 6)
                if diameter is not None and abs(diameter - total) > 0.05:
                    add_error(
                        errors,
                        f"{key}.diameter_mm",
                        _(
                            "The diameter of a split lesion is the sum of its fragments "
                            "(%(sum)s mm); leave it empty or enter that sum."
                        )
                        % {"sum": fmt_mm(total)},
                    )
                    row.problems.add("diameter_mm")
                row.diameter_mm = total
            if row.diameter_mm is None and not row.problems:
                add_error(
                    errors,
                    f"{key}.diameter_mm",
                    _("Enter the diameter of %(code)s in mm, or choose another state.")
                    % {"code": lesion.code},
                )
                row.problems.add("diameter_mm")
            elif row.diameter_mm is not None and "diameter_mm" not in row.problems:
                problem = diameter_problem(row.diameter_mm, allow_zero=True)
                if problem:
                    add_error(errors, f"{key}.diameter_mm", problem)
                    row.problems.add("diameter_mm")
        elif state in (states.DISAPPEARED, states.MERGED) and diameter == 0:
            row.diameter_mm = None  # counts 0 mm anyway
        elif state == states.TOO_SMALL and diameter == recist.TOO_SMALL_MM:
            row.diameter_mm = None  # the 5 mm default, stored as the state
        elif diameter is not None and "diameter_mm" not in row.problems:
            add_error(
                errors,
                f"{key}.diameter_mm",
                _("Leave the diameter empty for a lesion that is “%(state)s”.")
                % {"state": states(state).label},
            )
            row.problems.add("diameter_mm")
        if state == states.MERGED:
            if merged_into is None:
                message = (
                    _("Choose the lesion it merged into.")
                    if merged_raw in (None, "")
                    else _("Choose a target lesion recorded at baseline.")
                )
                add_error(errors, f"{key}.merged_into", message)
                row.problems.add("merged_into")
        elif merged_raw not in (None, ""):
            add_error(
                errors,
                f"{key}.merged_into",
                _("“Merged into” is only given for a lesion in the state “merged”."),
            )
            row.problems.add("merged_into")
    return rows


def followup_message(
    error: recist.SelectionError, rows_by_code: dict[str, MeasurementRow]
) -> tuple[str, str] | None:
    row = rows_by_code.get(error.lesion_id)
    if row is not None:
        key = f"measurements[{row.index}]"
        target_field = {"lesion_id": "lesion"}.get(error.field, error.field)
        if target_field in row.problems:
            return None
        match error.code:
            case "invalid_merge_target":
                into = row.merged_into.code if row.merged_into else "?"
                if "cannot be merged" in error.message:
                    message = _("A lymph node and a non-nodal lesion cannot be merged.")
                elif "itself merged" in error.message:
                    message = _(
                        "%(into)s is itself merged; name the lesion that carries the measurement."
                    ) % {"into": into}
                else:
                    message = _("%(into)s must be another target lesion.") % {"into": into}
                return f"{key}.merged_into", message
            case "diameter_with_state":
                return f"{key}.diameter_mm", _("Leave the diameter empty for this state.")
        return f"{key}.{target_field}", error.message
    match error.code:
        case "not_after_baseline":
            return "assessment_date", _("A follow-up scan must be after the baseline scan.")
        case "nontarget_status_missing":
            return "non_target_status", _(
                "The baseline has non-target lesions: give their status at this scan."
            )
        case "nontarget_status_without_lesions":
            return "non_target_status", _(
                "The baseline has no non-target lesions: choose “No non-target lesions at "
                "baseline”."
            )
        case "inconsistent_flag" if error.field == "nontarget_increased":
            return "nontarget_increased", _(
                "A further non-target increase is only possible with non-target progression."
            )
        case "inconsistent_flag" if error.field == "new_lesions_increased":
            return "new_lesions_increased", _("New-lesion growth requires unequivocal new lesions.")
    return (error.field if error.field else NON_FIELD_ERRORS), error.message


@dataclass
class FollowupInput:
    assessment_date: datetime.date | None
    method: str
    non_target_status: str
    new_lesions: str
    new_lesions_increased: bool
    nontarget_increased: bool
    recorded_response: str
    recorded_response_source: str
    visit: Visit | None
    notes: str
    measurements: list[dict[str, Any]]


def check_followup(
    errors: Errors,
    patient: Patient,
    enrollment: Enrollment,
    data: FollowupInput,
    *,
    exclude: TumorAssessment | None = None,
) -> tuple[list[MeasurementRow], str]:
    """Check a follow-up; returns the measurement rows to store and the non-target
    status to store (blank is kept only for a recorded response)."""
    baseline = patient_baseline(patient)
    if baseline is None:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("Record the baseline assessment before any follow-up.")]}
        )
    when = check_scan_date(errors, patient, data.assessment_date)
    if when is not None:
        if when <= baseline.assessment_date:
            add_error(
                errors,
                "assessment_date",
                _("A follow-up scan must be after the baseline scan (%(date)s).")
                % {"date": fmt_date(baseline.assessment_date)},
            )
        else:
            day0 = assessment_day0(enrollment)
            if when <= day0:
                add_error(
                    errors,
                    "assessment_date",
                    _("A follow-up scan must be after the start of treatment (%(date)s).")
                    % {"date": fmt_date(day0)},
                )
        others = TumorAssessment.objects.filter(patient=patient, assessment_date=when)
        if exclude is not None:
            others = others.exclude(pk=exclude.pk)
        if others.exists():
            add_error(
                errors,
                "assessment_date",
                _("There is already an assessment of this patient on %(date)s.")
                % {"date": fmt_date(when)},
            )
    check_common(errors, method=data.method, notes=data.notes, patient=patient, visit=data.visit)
    check_choice(
        errors,
        "new_lesions",
        data.new_lesions,
        TumorAssessment.NewLesions,
        _("new-lesion finding"),
    )
    recorded = data.recorded_response
    if recorded and recorded not in TumorAssessment.RecordedResponse.values:
        add_error(errors, "recorded_response", _("Choose a response from the list."))
    if recorded and not data.recorded_response_source:
        add_error(
            errors,
            "recorded_response_source",
            _("Say where the recorded response comes from (e.g. central review)."),
        )
    if data.recorded_response_source and not recorded:
        add_error(
            errors,
            "recorded_response",
            _("A source is given: choose the recorded response too, or clear the source."),
        )
    if len(data.recorded_response_source) > SOURCE_MAX:
        add_error(
            errors,
            "recorded_response_source",
            _("Keep the source to %(n)s characters.") % {"n": SOURCE_MAX},
        )

    lesions = list(Lesion.objects.filter(patient=patient).order_by("code"))
    engine_lesions = [
        recist.Lesion(
            lesion_id=lesion.code,
            organ=lesion.organ,
            nodal=lesion.nodal,
            diameter_mm=lesion.baseline_mm,
            target=lesion.target,
            ablated=lesion.ablated,
            ablated_on_study=lesion.ablated_on_study,
        )
        for lesion in lesions
    ]
    has_nontarget = any(not les.target and not les.is_normal_node for les in engine_lesions)
    status = data.non_target_status
    if status and status not in TumorAssessment.NonTarget.values:
        add_error(errors, "non_target_status", _("Choose the status of the non-target lesions."))
        status = ""
    stored_status = status
    if not status:
        if not has_nontarget:
            stored_status = status = TumorAssessment.NonTarget.NONE
        elif recorded:
            status = TumorAssessment.NonTarget.NE  # for the checks only; stored blank
        else:
            add_error(
                errors,
                "non_target_status",
                _("The baseline has non-target lesions: give their status at this scan."),
            )
            status = TumorAssessment.NonTarget.NE

    rows = measurement_rows(errors, data.measurements, lesions)
    entered = [row for row in rows if row.state]
    if not recorded:
        covered = {row.lesion.pk for row in entered}
        blank_rows = {row.lesion.pk: row for row in rows if not row.state}
        for lesion in lesions:
            if not lesion.target or lesion.pk in covered:
                continue
            message = _(
                "Give the diameter of %(code)s or its state (too small, disappeared, merged, "
                "not evaluated), or enter a recorded response instead of measurements."
            ) % {"code": lesion.code}
            row = blank_rows.get(lesion.pk)
            add_error(
                errors, f"measurements[{row.index}].state" if row else "measurements", message
            )

    day = (when - baseline.assessment_date).days if when else 1
    engine_assessment = recist.Assessment(
        day=max(day, 1),
        measurements=tuple(
            recist.LesionMeasurement(
                lesion_id=row.lesion.code,
                diameter_mm=row.diameter_mm,
                state=recist.LesionState(row.state),
                merged_into=row.merged_into.code if row.merged_into else None,
            )
            for row in entered
            if row.state in LesionMeasurement.State.values
        ),
        non_target=recist.NonTargetStatus(status),
        new_lesions=recist.NewLesions(
            data.new_lesions if data.new_lesions in TumorAssessment.NewLesions.values else "none"
        ),
        recorded_response=recist.parse_response(recorded)
        if recorded in TumorAssessment.RecordedResponse.values
        else None,
        nontarget_increased=data.nontarget_increased,
        new_lesions_increased=data.new_lesions_increased,
    )
    rows_by_code = {row.lesion.code: row for row in entered}
    for error in recist.validate_followup(engine_lesions, engine_assessment):
        mapped = followup_message(error, rows_by_code)
        if mapped is not None:
            add_error(errors, *mapped)
    return entered, stored_status


def followup_input(**kwargs: Any) -> FollowupInput:
    return FollowupInput(
        assessment_date=kwargs["assessment_date"],
        method=clean_text(kwargs["method"]),
        non_target_status=clean_text(kwargs["non_target_status"]),
        new_lesions=clean_text(kwargs["new_lesions"]) or TumorAssessment.NewLesions.NONE,
        new_lesions_increased=as_bool(kwargs["new_lesions_increased"]),
        nontarget_increased=as_bool(kwargs["nontarget_increased"]),
        recorded_response=clean_text(kwargs["recorded_response"]),
        recorded_response_source=clean_text(kwargs["recorded_response_source"]),
        visit=kwargs["visit"],
        notes=clean_text(kwargs["notes"]),
        measurements=list(kwargs["measurements"] or []),
    )
