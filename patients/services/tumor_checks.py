"""Checks behind the tumour-assessment services (``patients.services.tumor``).

Reading the rows a form or the API sends (lesions at baseline, measurements at a
follow-up), checking dates, running the RECIST engine's ``validate_baseline`` /
``validate_followup`` and translating each ``SelectionError`` into a message that names
the row and the field: ``lesions[i].<field>`` / ``measurements[i].<field>`` (``i`` is the
0-based position in the list given), ``assessment_date``, ``method``, ... for the
assessment, and ``__all__`` for selection limits ("Lesion T6: at most 5 target lesions").
Nothing here writes.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _

from domain import recist

from ..models import Enrollment, Lesion, LesionMeasurement, Patient, TumorAssessment, Visit
from .consent import withdrawal_date
from .visits import patient_local_today

#: RECIST 1.1: the baseline scan is done within 4 weeks before treatment starts.
BASELINE_WINDOW_DAYS = 28
MAX_MM = recist.MAX_PLAUSIBLE_MM
CODE_MAX = 10
ORGAN_MAX = 60
LOCATION_MAX = 200
NOTES_MAX = 4000
SOURCE_MAX = 200

Errors = dict[str, list[str]]


def add_error(errors: Errors, key: str, message: str) -> None:
    bucket = errors.setdefault(key, [])
    if message not in bucket:
        bucket.append(message)


def fmt_date(value: datetime.date | None) -> str:
    return value.isoformat() if value else "—"


def fmt_mm(value: float) -> str:
    return f"{value:g}"


def assessment_day0(enrollment: Enrollment) -> datetime.date:
    """Day 0 of the response evaluation: first treatment, else enrollment (as in
    ``domain.analysis``)."""
    return enrollment.first_treatment_date or enrollment.enrolled_on


def patient_baseline(patient: Patient) -> TumorAssessment | None:
    return TumorAssessment.objects.filter(patient=patient, is_baseline=True).first()


def clean_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def parse_number(value: Any) -> tuple[float | None, str | None]:
    """(value, problem): ``None, None`` for blank; a problem for anything unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool):
        return None, _("Enter the diameter in mm as a number.")
    try:
        number = (
            float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
        )
    except (TypeError, ValueError):
        return None, _("Enter the diameter in mm as a number.")
    if not math.isfinite(number):
        return None, _("Enter the diameter in mm as a number.")
    return number, None


def diameter_problem(value: float, *, allow_zero: bool) -> str | None:
    if value < 0:
        return _("A diameter cannot be negative (%(value)s mm).") % {"value": fmt_mm(value)}
    if value == 0 and not allow_zero:
        return _("A target lesion's diameter must be greater than 0 mm.")
    if value > MAX_MM:
        return _(
            "%(value)s mm is not a plausible diameter (more than %(max)s mm): check the unit "
            "(millimetres, not centimetres) and the digits."
        ) % {"value": fmt_mm(value), "max": fmt_mm(MAX_MM)}
    return None


def check_choice(errors: Errors, key: str, value: str, choices: Any, label: str) -> None:
    if value not in choices.values:
        add_error(errors, key, _("Choose the %(what)s.") % {"what": label})


def check_scan_date(
    errors: Errors, patient: Patient, when: datetime.date | None
) -> datetime.date | None:
    """Date given, not in the future (site calendar), not after death and not on or
    after the withdrawal of consent (collection ends on that date)."""
    if when is None:
        add_error(errors, "assessment_date", _("Enter the scan date."))
        return None
    if not isinstance(when, datetime.date) or isinstance(when, datetime.datetime):
        add_error(errors, "assessment_date", _("Enter a valid scan date."))
        return None
    today = patient_local_today(patient)
    if when > today:
        add_error(
            errors,
            "assessment_date",
            _("The scan date cannot be in the future (today at this site is %(today)s).")
            % {"today": fmt_date(today)},
        )
    if patient.death_date and when > patient.death_date:
        add_error(
            errors,
            "assessment_date",
            _("The scan date is after the patient's death (%(date)s).")
            % {"date": fmt_date(patient.death_date)},
        )
    withdrawn = withdrawal_date(patient)
    if withdrawn is not None and when >= withdrawn:
        add_error(
            errors,
            "assessment_date",
            _("The patient withdrew consent on %(date)s: no data can be collected from that date.")
            % {"date": fmt_date(withdrawn)},
        )
    return when


def check_visit(errors: Errors, patient: Patient, visit: Visit | None) -> None:
    if visit is None:
        return
    if visit.patient_id != patient.pk:
        add_error(errors, "visit", _("This visit belongs to another patient."))
    elif visit.status == Visit.Status.CANCELLED:
        add_error(errors, "visit", _("This visit was cancelled; choose another visit or none."))


def check_common(
    errors: Errors, *, method: str, notes: str, patient: Patient, visit: Visit | None
) -> None:
    check_choice(errors, "method", method, TumorAssessment.Method, _("imaging method (CT or MRI)"))
    if len(notes) > NOTES_MAX:
        add_error(errors, "notes", _("Keep the notes under %(n)s characters.") % {"n": NOTES_MAX})
    check_visit(errors, patient, visit)


def raise_if_any(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


@dataclass
class LesionRow:
    index: int
    code: str
    organ: str
    location: str
    nodal: bool
    target: bool
    ablated: bool
    diameter_mm: float | None
    lesion_id: int | None = None  # an existing lesion (editing)
    problems: set[str] = field(default_factory=set)  # fields that already have an error


def lesion_rows(errors: Errors, lesions: Sequence[dict[str, Any]]) -> list[LesionRow]:
    rows: list[LesionRow] = []
    for i, raw in enumerate(lesions):
        key = f"lesions[{i}]"
        nodal = as_bool(raw.get("nodal", False))
        organ = clean_text(raw.get("organ"))
        if nodal and not organ:
            organ = recist.LYMPH_NODE_ORGAN
        diameter, problem = parse_number(raw.get("diameter_mm"))
        row = LesionRow(
            index=i,
            code=clean_text(raw.get("code")).upper(),
            organ=organ,
            location=clean_text(raw.get("location")),
            nodal=nodal,
            target=as_bool(raw.get("target", False)),
            ablated=as_bool(raw.get("ablated", False)),
            diameter_mm=diameter,
            lesion_id=raw.get("id") or None,
        )
        if len(row.code) > CODE_MAX:
            add_error(
                errors,
                f"{key}.code",
                _("Keep the lesion code to %(n)s characters.") % {"n": CODE_MAX},
            )
            row.problems.add("code")
        if not organ:
            add_error(errors, f"{key}.organ", _("Enter the organ."))
            row.problems.add("organ")
        elif len(organ) > ORGAN_MAX:
            add_error(
                errors, f"{key}.organ", _("Keep the organ to %(n)s characters.") % {"n": ORGAN_MAX}
            )
            row.problems.add("organ")
        if len(row.location) > LOCATION_MAX:
            add_error(
                errors,
                f"{key}.location",
                _("Keep the location to %(n)s characters.") % {"n": LOCATION_MAX},
            )
        if problem:
            add_error(errors, f"{key}.diameter_mm", problem)
            row.problems.add("diameter_mm")
        elif diameter is None:
            add_error(
                errors,
                f"{key}.diameter_mm",
                _("Enter the longest diameter (short axis for a lymph node) in mm."),
            )
            row.problems.add("diameter_mm")
        else:
            problem = diameter_problem(diameter, allow_zero=not row.target)
            if problem:
                add_error(errors, f"{key}.diameter_mm", problem)
                row.problems.add("diameter_mm")
        rows.append(row)
    return rows


def assign_codes(errors: Errors, rows: list[LesionRow], taken: Iterable[str] = ()) -> None:
    """T1..Tn for targets and NT1..NTn for non-targets where the code was left blank;
    duplicate codes are refused on the later row."""
    used = {code.upper() for code in taken} | {row.code for row in rows if row.code}
    counters = {"T": 0, "NT": 0}
    for row in rows:
        if row.code:
            continue
        prefix = "T" if row.target else "NT"
        while True:
            counters[prefix] += 1
            candidate = f"{prefix}{counters[prefix]}"
            if candidate not in used:
                break
        row.code = candidate
        used.add(candidate)
    seen: set[str] = set()
    for row in rows:
        if row.code in seen:
            add_error(
                errors,
                f"lesions[{row.index}].code",
                _("Lesion code %(code)s is used twice; each lesion needs its own code.")
                % {"code": row.code},
            )
        seen.add(row.code)


def engine_lesion(row: LesionRow, lesion_id: str | None = None) -> recist.Lesion:
    return recist.Lesion(
        lesion_id=lesion_id or row.code,
        organ=row.organ,
        nodal=row.nodal,
        diameter_mm=row.diameter_mm if row.diameter_mm is not None else math.nan,
        target=row.target,
        ablated=row.ablated,
    )


def baseline_message(
    error: recist.SelectionError, row: LesionRow, target_number: int
) -> tuple[str, str] | None:
    """(error key, translated message) for one engine error on a baseline row, or None
    when the row already carries our own message for that field. ``target_number`` is
    the row's position among the target lesions (1-based)."""
    key = f"lesions[{row.index}]"
    size = fmt_mm(row.diameter_mm) if row.diameter_mm is not None else "?"
    match error.code:
        case "invalid_diameter":
            if "diameter_mm" in row.problems:
                return None
            return f"{key}.diameter_mm", error.message
        case "missing_organ":
            return None if "organ" in row.problems else (f"{key}.organ", _("Enter the organ."))
        case "ablated_target":
            return (
                f"{key}.target",
                _(
                    "A previously ablated or irradiated lesion is not measurable and cannot be "
                    "a target lesion; record it as a non-target lesion."
                ),
            )
        case "normal_node_target":
            return (
                f"{key}.target",
                _(
                    "A lymph node with a short axis of %(size)s mm (under %(min)s mm) is normal, "
                    "not a lesion."
                )
                % {"size": size, "min": fmt_mm(recist.NORMAL_NODE_MM)},
            )
        case "nodal_target_too_small":
            return (
                f"{key}.diameter_mm",
                _(
                    "A target lymph node needs a short axis of at least %(min)s mm; %(size)s mm "
                    "is pathological but non-target."
                )
                % {"size": size, "min": fmt_mm(recist.MIN_NODAL_TARGET_MM)},
            )
        case "target_too_small":
            return (
                f"{key}.diameter_mm",
                _(
                    "A non-nodal target lesion needs a longest diameter of at least %(min)s mm; "
                    "%(size)s mm is not measurable."
                )
                % {"size": size, "min": fmt_mm(recist.MIN_TARGET_MM)},
            )
        case "too_many_targets":
            return (
                NON_FIELD_ERRORS,
                _(
                    "Lesion %(code)s: at most %(max)s target lesions are allowed (this would be "
                    "target number %(n)s); record it as a non-target lesion."
                )
                % {"code": row.code, "max": recist.MAX_TARGETS, "n": target_number},
            )
        case "too_many_targets_in_organ":
            return (
                NON_FIELD_ERRORS,
                _(
                    "Lesion %(code)s: at most %(max)s target lesions per organ (all lymph nodes "
                    "count as one organ); %(organ)s already has %(max)s."
                )
                % {
                    "code": row.code,
                    "max": recist.MAX_TARGETS_PER_ORGAN,
                    "organ": recist.LYMPH_NODE_ORGAN if row.nodal else row.organ,
                },
            )
        case "missing_id" | "duplicate_id":
            return None  # codes are assigned and checked before the engine runs
    return f"{key}.{error.field}", error.message


def check_lesion_selection(errors: Errors, rows: list[LesionRow]) -> list[recist.Lesion]:
    """Run the RECIST selection rules; engine ids are row positions so that duplicate or
    blank codes cannot confuse the mapping back to rows."""
    engine = [engine_lesion(row, f"#{row.index}") for row in rows]
    by_id = {f"#{row.index}": row for row in rows}
    numbers = {row.index: n for n, row in enumerate((r for r in rows if r.target), start=1)}
    for error in recist.validate_baseline(engine):
        row = by_id.get(error.lesion_id)
        if row is None:
            add_error(errors, NON_FIELD_ERRORS, error.message)
            continue
        mapped = baseline_message(error, row, numbers.get(row.index, 0))
        if mapped is not None:
            add_error(errors, *mapped)
    return [engine_lesion(row) for row in rows]


def check_baseline_date(
    errors: Errors,
    patient: Patient,
    enrollment: Enrollment,
    when: datetime.date | None,
    *,
    first_followup: datetime.date | None = None,
) -> None:
    """Within 4 weeks before the start of treatment and not after it. While the first
    treatment date is not known the reference is the enrollment date for the earliest
    date, and any date up to today is accepted (the scan may follow enrollment)."""
    when = check_scan_date(errors, patient, when)
    if when is None:
        return
    reference = enrollment.first_treatment_date or enrollment.enrolled_on
    earliest = reference - datetime.timedelta(days=BASELINE_WINDOW_DAYS)
    if when < earliest:
        if enrollment.first_treatment_date:
            message = _(
                "The baseline scan must be within %(days)s days before the start of treatment "
                "(%(ref)s): not before %(earliest)s."
            )
        else:
            message = _(
                "The baseline scan must be within %(days)s days before the start of treatment; "
                "with no treatment date yet, that is within %(days)s days before enrollment "
                "(%(ref)s): not before %(earliest)s."
            )
        add_error(
            errors,
            "assessment_date",
            message
            % {
                "days": BASELINE_WINDOW_DAYS,
                "ref": fmt_date(reference),
                "earliest": fmt_date(earliest),
            },
        )
    if enrollment.first_treatment_date and when > enrollment.first_treatment_date:
        add_error(
            errors,
            "assessment_date",
            _("The baseline scan cannot be after the start of treatment (%(date)s).")
            % {"date": fmt_date(enrollment.first_treatment_date)},
        )
    if first_followup is not None and when >= first_followup:
        add_error(
            errors,
            "assessment_date",
            _("The baseline scan must be before the first follow-up scan (%(date)s).")
            % {"date": fmt_date(first_followup)},
        )


def non_target_present_in(rows: Sequence[LesionRow]) -> bool:
    return any(
        not row.target and not (row.nodal and (row.diameter_mm or 0) < recist.NORMAL_NODE_MM)
        for row in rows
    )


def check_non_target_present(
    errors: Errors, rows: Sequence[LesionRow], non_target_present: bool | None
) -> None:
    if non_target_present is None:
        return
    present = any(not row.target for row in rows)
    if non_target_present and not present:
        add_error(
            errors,
            "non_target_present",
            _("Non-target disease is marked present: record each non-target lesion as a row."),
        )
    elif not non_target_present and present:
        add_error(
            errors,
            "non_target_present",
            _("Non-target lesions are listed, so non-target disease is present."),
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
                state=row.state,
                merged_into=row.merged_into.code if row.merged_into else None,
            )
            for row in entered
            if row.state in LesionMeasurement.State.values
        ),
        non_target=status,
        new_lesions=data.new_lesions
        if data.new_lesions in TumorAssessment.NewLesions.values
        else "none",
        recorded_response=recorded if recorded in TumorAssessment.RecordedResponse.values else None,
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


def check_followups_still_fit(
    errors: Errors,
    patient: Patient,
    engine: list[recist.Lesion],
    rows: list[LesionRow],
    matched: dict[int, int],
    existing: dict[int, Lesion],
) -> list[tuple[TumorAssessment, dict[str, Any]]]:
    """A corrected baseline must still fit every follow-up already recorded.

    Adding the first non-target lesion (or removing the last) changes what the
    follow-ups' non-target status can be; rather than refusing (the follow-ups could
    not be corrected first either), their status is adjusted: "no non-target lesions"
    becomes blank (not evaluated, to be reviewed), and without non-target lesions the
    status becomes "no non-target lesions". Returns those adjustments.
    """
    adjustments: list[tuple[TumorAssessment, dict[str, Any]]] = []
    if any(key != NON_FIELD_ERRORS and key.startswith("lesions[") for key in errors):
        return adjustments
    has_nontarget = any(not les.target and not les.is_normal_node for les in engine)
    none = TumorAssessment.NonTarget.NONE
    code_of = {matched[row.index]: row.code for row in rows if row.index in matched}
    followups = TumorAssessment.objects.filter(patient=patient, is_baseline=False).prefetch_related(
        "measurements"
    )
    for followup in followups:
        status = followup.non_target_status
        if has_nontarget and status == none:
            adjustments.append((followup, {"non_target_status": ""}))
            status = ""
        elif not has_nontarget and status != none:
            adjustments.append(
                (followup, {"non_target_status": none, "nontarget_increased": False})
            )
            status = none
        assessment = recist.Assessment(
            day=1,
            measurements=tuple(
                recist.LesionMeasurement(
                    lesion_id=code_of.get(m.lesion_id, existing[m.lesion_id].code),
                    diameter_mm=m.diameter_mm,
                    state=m.state,
                    merged_into=code_of.get(m.merged_into_id) if m.merged_into_id else None,
                )
                for m in followup.measurements.all()
            ),
            non_target=status or TumorAssessment.NonTarget.NE,
            new_lesions=followup.new_lesions,
            nontarget_increased=followup.nontarget_increased and status != none,
            new_lesions_increased=followup.new_lesions_increased,
        )
        for error in recist.validate_followup(engine, assessment):
            add_error(
                errors,
                NON_FIELD_ERRORS,
                _("The follow-up of %(date)s would no longer fit this baseline: %(problem)s")
                % {"date": fmt_date(followup.assessment_date), "problem": error.message},
            )
    return adjustments
