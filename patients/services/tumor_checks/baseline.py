"""Baseline checks: lesion rows, codes, the RECIST target-selection rules with
messages naming each row, the baseline date window, and a corrected baseline still
fitting the follow-ups already recorded."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext as _

from domain import recist

from ...models import Enrollment, Lesion, Patient, TumorAssessment
from .common import (
    BASELINE_WINDOW_DAYS,
    CODE_MAX,
    LOCATION_MAX,
    ORGAN_MAX,
    Errors,
    add_error,
    as_bool,
    check_scan_date,
    clean_text,
    diameter_problem,
    fmt_date,
    fmt_mm,
    parse_number,
)


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
                    state=recist.LesionState(m.state),
                    merged_into=code_of.get(m.merged_into_id) if m.merged_into_id else None,
                )
                for m in followup.measurements.all()
            ),
            non_target=recist.NonTargetStatus(status or TumorAssessment.NonTarget.NE),
            new_lesions=recist.NewLesions(followup.new_lesions),
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
