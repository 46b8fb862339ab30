"""Input validation: baseline target selection and follow-up assessments.

Returns :class:`SelectionError` lists for forms; the evaluation functions raise
:class:`RecistInputError` with the same errors (``_check_inputs``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import (
    MAX_PLAUSIBLE_MM,
    MAX_TARGETS,
    MAX_TARGETS_PER_ORGAN,
    MIN_NODAL_TARGET_MM,
    MIN_TARGET_MM,
    NORMAL_NODE_MM,
    Assessment,
    Lesion,
    LesionMeasurement,
    LesionState,
    NewLesions,
    NonTargetStatus,
)

# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SelectionError:
    """A problem with the entered data.

    ``lesion_id`` is empty for assessment-level problems; ``field`` names the offending
    attribute (``diameter_mm``, ``target``, ``organ``, ``day``, ...) so a form can
    attach the message; ``code`` is a stable machine-readable key.
    """

    lesion_id: str
    field: str
    message: str
    code: str = ""


class RecistInputError(ValueError):
    """Raised by the evaluation functions when the input does not validate."""

    def __init__(self, errors: Sequence[SelectionError]) -> None:
        self.errors: tuple[SelectionError, ...] = tuple(errors)
        super().__init__(
            "; ".join(f"{e.lesion_id or '-'} {e.field}: {e.message}" for e in self.errors)
        )


def _diameter_problem(value: float | None, *, allow_zero: bool) -> str | None:
    if value is None:
        return "a diameter is required"
    if not math.isfinite(value):
        return "diameter must be a finite number"
    if value < 0:
        return f"diameter {value:g} mm is negative"
    if value == 0 and not allow_zero:
        return "diameter must be greater than 0 mm"
    if value > MAX_PLAUSIBLE_MM:
        return f"diameter {value:g} mm is implausible (> {MAX_PLAUSIBLE_MM:g} mm)"
    return None


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def validate_baseline(lesions: Iterable[Lesion]) -> list[SelectionError]:
    """Check the baseline lesion list against the RECIST 1.1 target-selection rules.

    Returns an empty list when the selection is valid. Count limits are reported on the
    lesions beyond the limit, in the order given (the first five targets are "kept").
    An empty list of lesions is valid here (whether a patient needs measurable disease
    is an eligibility question, not a RECIST one).
    """
    lesions = list(lesions)
    errors: list[SelectionError] = []
    seen: set[str] = set()
    for lesion in lesions:
        lid = lesion.lesion_id
        if not lid.strip():
            errors.append(SelectionError(lid, "lesion_id", "lesion id is required", "missing_id"))
        elif lid in seen:
            errors.append(
                SelectionError(lid, "lesion_id", f"duplicate lesion id {lid!r}", "duplicate_id")
            )
        seen.add(lid)
        if not lesion.nodal and not lesion.organ.strip():
            errors.append(SelectionError(lid, "organ", "organ is required", "missing_organ"))

        # Non-measurable non-target disease (ascites, effusion) may be recorded as 0 mm.
        problem = _diameter_problem(lesion.diameter_mm, allow_zero=not lesion.target)
        if problem:
            errors.append(SelectionError(lid, "diameter_mm", problem, "invalid_diameter"))
        if not lesion.target:
            continue
        if lesion.ablated:
            errors.append(
                SelectionError(
                    lid,
                    "target",
                    "a previously ablated or irradiated lesion is not measurable and "
                    "cannot be a target lesion",
                    "ablated_target",
                )
            )
        if problem:
            continue
        size = lesion.diameter_mm
        if lesion.nodal and size < NORMAL_NODE_MM:
            errors.append(
                SelectionError(
                    lid,
                    "target",
                    f"a lymph node with short axis {size:g} mm (< {NORMAL_NODE_MM:g} mm) "
                    "is normal, not a lesion",
                    "normal_node_target",
                )
            )
        elif lesion.nodal and size < MIN_NODAL_TARGET_MM:
            errors.append(
                SelectionError(
                    lid,
                    "diameter_mm",
                    f"a target lymph node needs a short axis >= {MIN_NODAL_TARGET_MM:g} mm; "
                    f"{size:g} mm is pathological but non-target",
                    "nodal_target_too_small",
                )
            )
        elif not lesion.nodal and size < MIN_TARGET_MM:
            errors.append(
                SelectionError(
                    lid,
                    "diameter_mm",
                    f"a non-nodal target needs a longest diameter >= {MIN_TARGET_MM:g} mm; "
                    f"{size:g} mm is not measurable",
                    "target_too_small",
                )
            )

    targets = [lesion for lesion in lesions if lesion.target]
    for number, lesion in enumerate(targets, start=1):
        if number > MAX_TARGETS:
            errors.append(
                SelectionError(
                    lesion.lesion_id,
                    "target",
                    f"at most {MAX_TARGETS} target lesions are allowed; "
                    f"this is the {_ordinal(number)}",
                    "too_many_targets",
                )
            )
    per_organ: dict[str, int] = {}
    for lesion in targets:
        group = lesion.organ_group
        per_organ[group] = per_organ.get(group, 0) + 1
        if per_organ[group] > MAX_TARGETS_PER_ORGAN:
            note = " (all lymph nodes count as one organ)" if lesion.nodal else ""
            errors.append(
                SelectionError(
                    lesion.lesion_id,
                    "organ",
                    f"at most {MAX_TARGETS_PER_ORGAN} target lesions per organ{note}; "
                    f"this is the {_ordinal(per_organ[group])} in {group!r}",
                    "too_many_targets_in_organ",
                )
            )
    return errors


def _has_nontarget_disease(baseline: Iterable[Lesion]) -> bool:
    return any(not lesion.target and not lesion.is_normal_node for lesion in baseline)


def validate_followup(baseline: Sequence[Lesion], assessment: Assessment) -> list[SelectionError]:
    """Check one follow-up assessment against the baseline lesions.

    A target lesion *missing* from ``measurements`` is deliberately not an error: the
    evaluation treats it as not evaluated, which makes the time point NE (see module
    docstring). Measurements are only accepted for target lesions; non-target lesions
    are assessed together through ``Assessment.non_target``.
    """
    errors: list[SelectionError] = []
    by_id = {lesion.lesion_id: lesion for lesion in baseline}
    readings = {m.lesion_id: m for m in assessment.measurements}

    if assessment.day <= 0:
        errors.append(
            SelectionError(
                "",
                "day",
                f"a follow-up must be after baseline (day >= 1), got day {assessment.day}",
                "not_after_baseline",
            )
        )

    seen: set[str] = set()
    for m in assessment.measurements:
        lid = m.lesion_id
        if lid in seen:
            errors.append(
                SelectionError(lid, "lesion_id", f"lesion {lid!r} measured twice", "duplicate_id")
            )
        seen.add(lid)
        lesion = by_id.get(lid)
        if lesion is None:
            errors.append(
                SelectionError(
                    lid, "lesion_id", f"unknown lesion {lid!r} (not in baseline)", "unknown_lesion"
                )
            )
        elif not lesion.target:
            errors.append(
                SelectionError(
                    lid,
                    "lesion_id",
                    f"lesion {lid!r} is a non-target lesion; record it through the "
                    "non-target status",
                    "not_a_target",
                )
            )

        if m.state is LesionState.MEASURED:
            problem = _diameter_problem(m.diameter_mm, allow_zero=True)
            if problem:
                errors.append(SelectionError(lid, "diameter_mm", problem, "invalid_diameter"))
        elif m.state in (LesionState.DISAPPEARED, LesionState.MERGED):
            if m.diameter_mm not in (None, 0):
                errors.append(
                    SelectionError(
                        lid,
                        "diameter_mm",
                        f"a {m.state} lesion counts 0 mm; leave the diameter empty",
                        "diameter_with_state",
                    )
                )
        elif m.diameter_mm is not None:
            errors.append(
                SelectionError(
                    lid,
                    "diameter_mm",
                    f"state {m.state!s} takes no diameter; use state 'measured' for a value",
                    "diameter_with_state",
                )
            )

        if m.state is LesionState.MERGED:
            errors.extend(_merge_problems(m, lesion, by_id, readings))
        elif m.merged_into is not None:
            errors.append(
                SelectionError(
                    lid,
                    "merged_into",
                    "merged_into is only used with state 'merged'",
                    "merged_into_without_merge",
                )
            )

    has_nontarget = _has_nontarget_disease(baseline)
    if has_nontarget and assessment.non_target is NonTargetStatus.NONE:
        errors.append(
            SelectionError(
                "",
                "non_target",
                "baseline has non-target lesions; their status is required",
                "nontarget_status_missing",
            )
        )
    elif not has_nontarget and assessment.non_target is not NonTargetStatus.NONE:
        errors.append(
            SelectionError(
                "",
                "non_target",
                "baseline has no non-target lesions; the status must be NONE",
                "nontarget_status_without_lesions",
            )
        )
    if assessment.nontarget_increased and assessment.non_target is not NonTargetStatus.PD:
        errors.append(
            SelectionError(
                "",
                "nontarget_increased",
                "a non-target increase is only possible with non-target PD",
                "inconsistent_flag",
            )
        )
    if assessment.new_lesions_increased and assessment.new_lesions is not NewLesions.UNEQUIVOCAL:
        errors.append(
            SelectionError(
                "",
                "new_lesions_increased",
                "new-lesion growth requires unequivocal new lesions",
                "inconsistent_flag",
            )
        )
    first_seen = assessment.new_lesion_first_seen_day
    if first_seen is not None:
        if assessment.new_lesions is not NewLesions.UNEQUIVOCAL:
            errors.append(
                SelectionError(
                    "",
                    "new_lesion_first_seen_day",
                    "only meaningful with unequivocal new lesions",
                    "inconsistent_flag",
                )
            )
        elif not 1 <= first_seen <= assessment.day:
            errors.append(
                SelectionError(
                    "",
                    "new_lesion_first_seen_day",
                    f"must be a follow-up day between 1 and {assessment.day}",
                    "invalid_day",
                )
            )
    return errors


def _merge_problems(
    m: LesionMeasurement,
    lesion: Lesion | None,
    by_id: dict[str, Lesion],
    readings: dict[str, LesionMeasurement],
) -> list[SelectionError]:
    lid, into = m.lesion_id, m.merged_into
    if into is None:
        message = "a merged lesion must name the lesion it merged into"
        return [SelectionError(lid, "merged_into", message, "merge_target_missing")]
    host = by_id.get(into)
    if into == lid or host is None or not host.target:
        message = f"merged_into {into!r} must be another target lesion"
        return [SelectionError(lid, "merged_into", message, "invalid_merge_target")]
    if lesion is not None and host.nodal != lesion.nodal:
        message = "a lymph node and a non-nodal lesion cannot be merged"
        return [SelectionError(lid, "merged_into", message, "invalid_merge_target")]
    host_reading = readings.get(into)
    if host_reading is not None and host_reading.state is LesionState.MERGED:
        message = f"{into!r} is itself merged; name the lesion that carries the measurement"
        return [SelectionError(lid, "merged_into", message, "invalid_merge_target")]
    return []


def _check_inputs(baseline: Sequence[Lesion], assessments: Sequence[Assessment]) -> None:
    errors = validate_baseline(baseline)
    days: set[int] = set()
    for assessment in assessments:
        errors.extend(validate_followup(baseline, assessment))
        if assessment.day in days:
            errors.append(
                SelectionError(
                    "",
                    "day",
                    f"two assessments on day {assessment.day}",
                    "duplicate_day",
                )
            )
        days.add(assessment.day)
    if errors:
        raise RecistInputError(errors)
