"""Tumour-response engine: RECIST 1.1 (with EORTC clarifications) and iRECIST.

Pure Python: no Django, no database. Models, forms, the API and batch recalculation all
call the same functions, and the rules can be unit-tested in isolation.

Rules follow DOMAIN.md section 3 (Eisenhauer et al., Eur J Cancer 2009;45:228-247 and the
EORTC RECIST FAQ; Seymour et al., Lancet Oncol 2017;18:e143-e152 for iRECIST).

Typical use::

    errors = validate_baseline(lesions)                       # selection problems for a form
    timepoints = evaluate_timepoints(lesions, assessments, settings)
    best = best_overall_response(timepoints, settings)

Decisions worth knowing (each is repeated where it is implemented):

* Days are counted from the start of treatment; the baseline scan is day <= 0, every
  follow-up assessment must be day >= 1.
* A target lesion without a measurement at a follow-up is *not* an input error: it is
  read as ``not_evaluated`` and makes the target response NE (unless the lesions that
  were evaluated already prove PD). Scans are missed in real life; the result names the
  lesions in ``TimepointResult.not_evaluated`` so a form can ask for them.
* Sums and percentages are rounded to 6 decimals and thresholds are compared with a
  tiny tolerance, so that exactly -30 % or exactly +5 mm hit the threshold despite
  binary floating point.
* Equivocal new lesions do not make a time point PD. If a later scan shows the lesion
  unequivocally, the caller sets ``Assessment.new_lesion_first_seen_day`` and the date
  of progression goes back to the earlier scan (as RECIST 1.1 prescribes).
* Every time point gets both a RECIST 1.1 label (``overall``) and an iRECIST label
  (``iresponse``); ``ResponseSettings.criteria`` decides which one the best overall
  response is based on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

__all__ = [
    "ICPD_FURTHER_INCREASE_MM",
    "LYMPH_NODE_ORGAN",
    "MAX_PLAUSIBLE_MM",
    "MAX_TARGETS",
    "MAX_TARGETS_PER_ORGAN",
    "MIN_NODAL_TARGET_MM",
    "MIN_TARGET_MM",
    "NORMAL_NODE_MM",
    "PD_INCREASE_MM",
    "PD_INCREASE_PCT",
    "PR_DECREASE_PCT",
    "TOO_SMALL_MM",
    "Assessment",
    "BestOverallResponse",
    "Criteria",
    "IResponse",
    "Lesion",
    "LesionMeasurement",
    "LesionState",
    "NewLesions",
    "NonTargetStatus",
    "RecistInputError",
    "Response",
    "ResponseSettings",
    "SelectionError",
    "TargetResponse",
    "TimepointResult",
    "best_overall_response",
    "evaluate_non_ablated",
    "evaluate_timepoints",
    "overall_response",
    "parse_response",
    "recist_equivalent",
    "validate_baseline",
    "validate_followup",
]

# --------------------------------------------------------------------------------------
# Thresholds (RECIST 1.1 unless noted)
# --------------------------------------------------------------------------------------

MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2
MIN_TARGET_MM = 10.0
"""Smallest longest diameter of a measurable non-nodal lesion (CT, slice <= 5 mm)."""
MIN_NODAL_TARGET_MM = 15.0
"""Smallest short axis of a measurable (target) lymph node."""
NORMAL_NODE_MM = 10.0
"""A node with a short axis below this is normal: not a lesion at all."""
MAX_PLAUSIBLE_MM = 500.0
"""Anything larger is a data-entry error (e.g. cm/mm mix-up or an extra digit)."""
TOO_SMALL_MM = 5.0
"""Value used for a lesion present but too small to measure."""
PR_DECREASE_PCT = 30.0
PD_INCREASE_PCT = 20.0
PD_INCREASE_MM = 5.0
ICPD_FURTHER_INCREASE_MM = 5.0
"""iRECIST: further increase of the target sum, versus the iUPD sum, that confirms iCPD."""
LYMPH_NODE_ORGAN = "lymph node"
"""All lymph nodes together count as one organ for the per-organ target limit."""

_EPS = 1e-9
_DECIMALS = 6


# --------------------------------------------------------------------------------------
# Enumerations
# --------------------------------------------------------------------------------------


class LesionState(StrEnum):
    """How a target lesion was read at a follow-up assessment."""

    MEASURED = "measured"
    """``diameter_mm`` holds the measurement (for a split lesion: the sum of its fragments)."""
    TOO_SMALL = "too_small"
    """Present but too small to measure: counts as 5 mm."""
    DISAPPEARED = "disappeared"
    """Gone: counts as 0 mm. A lymph node that disappears also counts as 0 mm."""
    MERGED = "merged"
    """Coalesced into ``merged_into``: counts 0 mm because that lesion carries its size."""
    NOT_EVALUATED = "not_evaluated"
    """Not assessed (scan missing, lesion not visible on this scan): the sum is unknown."""


class NonTargetStatus(StrEnum):
    """Qualitative assessment of all non-target lesions together at a follow-up."""

    CR = "CR"
    NON_CR_NON_PD = "NON_CR_NON_PD"
    PD = "PD"
    NE = "NE"
    NONE = "NONE"
    """The patient had no non-target lesions at baseline."""


class NewLesions(StrEnum):
    NONE = "none"
    EQUIVOCAL = "equivocal"
    UNEQUIVOCAL = "unequivocal"


class TargetResponse(StrEnum):
    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"
    NA = "NA"
    """No target lesions at baseline (non-target-only disease or no disease)."""


class Response(StrEnum):
    """RECIST 1.1 overall response at a time point, and best overall response."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    NON_CR_NON_PD = "NON_CR_NON_PD"
    """Non-target-only disease that is neither CR nor PD."""
    NED = "NED"
    """No evidence of disease: no target and no non-target lesions at baseline."""
    PD = "PD"
    NE = "NE"


class IResponse(StrEnum):
    """iRECIST time-point response and best overall response (iBOR)."""

    ICR = "iCR"
    IPR = "iPR"
    ISD = "iSD"
    NON_ICR_NON_IUPD = "NON_iCR_NON_iUPD"
    INED = "iNED"
    """Not an iRECIST term; the counterpart of NED for patients without disease."""
    IUPD = "iUPD"
    """Unconfirmed progression."""
    ICPD = "iCPD"
    """Confirmed progression."""
    INE = "iNE"


class Criteria(StrEnum):
    RECIST11 = "RECIST1.1"
    IRECIST = "iRECIST"


_RECIST_OF: dict[IResponse, Response] = {
    IResponse.ICR: Response.CR,
    IResponse.IPR: Response.PR,
    IResponse.ISD: Response.SD,
    IResponse.NON_ICR_NON_IUPD: Response.NON_CR_NON_PD,
    IResponse.INED: Response.NED,
    IResponse.IUPD: Response.PD,
    IResponse.ICPD: Response.PD,
    IResponse.INE: Response.NE,
}

# PD has no fixed counterpart: it becomes iUPD or iCPD depending on the iRECIST state.
_IRECIST_OF: dict[Response, IResponse] = {
    Response.CR: IResponse.ICR,
    Response.PR: IResponse.IPR,
    Response.SD: IResponse.ISD,
    Response.NON_CR_NON_PD: IResponse.NON_ICR_NON_IUPD,
    Response.NED: IResponse.INED,
    Response.NE: IResponse.INE,
}


def parse_response(value: str) -> Response | IResponse:
    """Turn a stored string ("PR", "iUPD", ...) back into the matching enum member."""
    if isinstance(value, Response | IResponse):
        return value
    try:
        return Response(value)
    except ValueError:
        pass
    try:
        return IResponse(value)
    except ValueError:
        raise ValueError(f"unknown response {value!r}") from None


def recist_equivalent(response: Response | IResponse) -> Response:
    """RECIST 1.1 reading of a response (iUPD and iCPD are both PD)."""
    if isinstance(response, IResponse):
        return _RECIST_OF[response]
    return Response(response)


# --------------------------------------------------------------------------------------
# Input data
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lesion:
    """A lesion recorded on the baseline scan.

    ``diameter_mm`` is the longest diameter, or the short axis for a lymph node.
    ``ablated`` means treated by ablation/irradiation *before* baseline: such a lesion is
    not measurable and cannot be a target. ``ablated_on_study`` means ablated by the
    trial's own procedure after baseline: it stays a target for the RECIST response and
    is only left out by :func:`evaluate_non_ablated`. For a non-measurable non-target
    lesion (ascites, effusion, ...) ``diameter_mm`` may be 0.
    """

    lesion_id: str
    organ: str
    nodal: bool
    diameter_mm: float
    target: bool
    ablated: bool = False
    ablated_on_study: bool = False

    @property
    def organ_group(self) -> str:
        """Key for the per-organ limit: all lymph nodes share one, other organs by name."""
        if self.nodal:
            return LYMPH_NODE_ORGAN
        return " ".join(self.organ.split()).casefold()

    @property
    def is_normal_node(self) -> bool:
        """A node below 10 mm short axis is normal, i.e. not a lesion."""
        return self.nodal and self.diameter_mm < NORMAL_NODE_MM


@dataclass(frozen=True, slots=True)
class LesionMeasurement:
    """One target lesion at a follow-up.

    Split lesion: pass the sum of the fragments (see :meth:`from_fragments`).
    Merged lesions: the coalesced mass is measured on one lesion; every other lesion of
    the merge gets ``state=MERGED`` and ``merged_into`` = the measured lesion's id.
    """

    lesion_id: str
    diameter_mm: float | None = None
    state: LesionState = LesionState.MEASURED
    merged_into: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", LesionState(self.state))

    @classmethod
    def from_fragments(cls, lesion_id: str, *fragments_mm: float) -> LesionMeasurement:
        """A lesion that split into fragments is recorded as the sum of their diameters."""
        if not fragments_mm:
            raise ValueError("a split lesion needs at least one fragment")
        return cls(lesion_id=lesion_id, diameter_mm=round(float(sum(fragments_mm)), _DECIMALS))

    @property
    def effective_mm(self) -> float | None:
        """The value that enters the sum of diameters; ``None`` if not evaluated."""
        match self.state:
            case LesionState.MEASURED:
                return self.diameter_mm
            case LesionState.TOO_SMALL:
                return TOO_SMALL_MM
            case LesionState.DISAPPEARED | LesionState.MERGED:
                return 0.0
            case _:
                return None


@dataclass(frozen=True, slots=True)
class Assessment:
    """One follow-up time point.

    ``new_lesions`` and ``non_target`` describe the state at this scan (a new lesion seen
    before and still present is still reported as UNEQUIVOCAL). ``recorded_response`` is
    a response entered as given (e.g. by central review); the engine uses it as the
    time-point response instead of its own and marks the result as recorded.

    iRECIST confirmation needs facts the sum cannot show, given as flags:
    ``nontarget_increased`` (unequivocal further growth of non-target disease since the
    previous scan, requires ``non_target`` PD) and ``new_lesions_increased`` (new lesions
    grew or more new lesions appeared, requires UNEQUIVOCAL new lesions).
    ``new_lesion_first_seen_day`` is the day of an earlier scan where the now
    unequivocal new lesion was already seen as equivocal; progression is dated to it.
    """

    day: int
    measurements: tuple[LesionMeasurement, ...]
    non_target: NonTargetStatus
    new_lesions: NewLesions
    recorded_response: Response | IResponse | None = None
    nontarget_increased: bool = False
    new_lesions_increased: bool = False
    new_lesion_first_seen_day: int | None = None

    def __post_init__(self) -> None:
        # Accept lists and plain strings (e.g. straight from model fields).
        object.__setattr__(self, "measurements", tuple(self.measurements))
        object.__setattr__(self, "non_target", NonTargetStatus(self.non_target))
        object.__setattr__(self, "new_lesions", NewLesions(self.new_lesions))
        if self.recorded_response is not None:
            object.__setattr__(self, "recorded_response", parse_response(self.recorded_response))


@dataclass(frozen=True, slots=True)
class ResponseSettings:
    """Protocol parameters for response evaluation.

    ``confirmation_required``: CR/PR must be confirmed by a later assessment at least
    ``confirmation_min_days`` later (non-randomised trials with response as primary
    endpoint). ``min_sd_days``: SD counts as best response only if it (or better) was
    seen at least once at day >= this. ``iupd_confirmation_min_days`` /
    ``..._max_days``: the iRECIST window for the scan that confirms iUPD as iCPD, counted
    from the iUPD scan. A scan earlier than the minimum cannot confirm; a scan later
    than the maximum still confirms (the patient has been progressing all along) but
    the result carries a note.
    """

    confirmation_required: bool
    confirmation_min_days: int = 28
    min_sd_days: int = 42
    criteria: Criteria = Criteria.RECIST11
    iupd_confirmation_min_days: int = 28
    iupd_confirmation_max_days: int = 56

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", Criteria(self.criteria))
        for name in (
            "confirmation_min_days",
            "min_sd_days",
            "iupd_confirmation_min_days",
            "iupd_confirmation_max_days",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.iupd_confirmation_max_days < self.iupd_confirmation_min_days:
            raise ValueError("iupd_confirmation_max_days is below iupd_confirmation_min_days")


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


# --------------------------------------------------------------------------------------
# Time-point evaluation
# --------------------------------------------------------------------------------------


def overall_response(
    target: TargetResponse, non_target: NonTargetStatus, new_lesions: NewLesions
) -> Response:
    """RECIST 1.1 overall time-point response (Eisenhauer 2009, tables 1 and 2).

    ``target`` NA means no target disease: then the non-target-only table applies, and
    with no non-target lesions either the result is NED unless a new lesion appears.
    Equivocal new lesions count as "no new lesion" at this time point.
    """
    if (
        new_lesions is NewLesions.UNEQUIVOCAL
        or target is TargetResponse.PD
        or non_target is NonTargetStatus.PD
    ):
        return Response.PD
    if target is TargetResponse.NA:
        return {
            NonTargetStatus.NONE: Response.NED,
            NonTargetStatus.CR: Response.CR,
            NonTargetStatus.NON_CR_NON_PD: Response.NON_CR_NON_PD,
            NonTargetStatus.NE: Response.NE,
        }[non_target]
    if target is TargetResponse.CR:
        if non_target in (NonTargetStatus.CR, NonTargetStatus.NONE):
            return Response.CR
        return Response.PR  # non-target non-CR/non-PD or not evaluated
    return {
        TargetResponse.PR: Response.PR,
        TargetResponse.SD: Response.SD,
        TargetResponse.NE: Response.NE,
    }[target]


@dataclass(frozen=True, slots=True)
class TimepointResult:
    """Evaluation of one follow-up assessment.

    ``calculated`` is the engine's RECIST 1.1 response; ``overall`` is the response in
    force (the recorded one when ``recorded`` is true, else ``calculated``);
    ``iresponse`` is the iRECIST label. ``nadir_mm`` is the reference for PD at this
    time point: the smallest complete sum at baseline or any *earlier* time point.
    Sums and changes are ``None`` when not every target lesion was evaluated.
    ``progression_onset_day`` is set on PD time points: the day, or the earlier day an
    equivocal new lesion was first seen.
    """

    day: int
    target: TargetResponse
    non_target: NonTargetStatus
    new_lesions: NewLesions
    calculated: Response
    overall: Response
    iresponse: IResponse
    recorded: bool = False
    sum_mm: float | None = None
    baseline_sum_mm: float | None = None
    nadir_mm: float | None = None
    change_from_baseline_pct: float | None = None
    change_from_nadir_pct: float | None = None
    change_from_nadir_mm: float | None = None
    not_evaluated: tuple[str, ...] = ()
    progression_onset_day: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def has_target_disease(self) -> bool:
        return self.target is not TargetResponse.NA


@dataclass(frozen=True, slots=True)
class _TargetReading:
    evaluated_sum_mm: float
    """Sum over the evaluated targets: the full sum, or a lower bound if some are NE."""
    not_evaluated: tuple[str, ...]
    cr_criteria_met: bool

    @property
    def complete(self) -> bool:
        return not self.not_evaluated


def _read_targets(targets: Sequence[Lesion], assessment: Assessment) -> _TargetReading:
    readings = {m.lesion_id: m for m in assessment.measurements}
    total = 0.0
    missing: list[str] = []
    cr = True
    for lesion in targets:
        reading = readings.get(lesion.lesion_id)
        size = None if reading is None else reading.effective_mm
        if size is None:
            missing.append(lesion.lesion_id)
            continue
        total += size
        # CR: non-nodal targets gone, target nodes back to normal (< 10 mm short axis).
        if (lesion.nodal and size >= NORMAL_NODE_MM) or (not lesion.nodal and size > 0):
            cr = False
    return _TargetReading(round(total, _DECIMALS), tuple(missing), cr)


def _pct(value: float, reference: float) -> float | None:
    if reference <= 0:
        return None
    return round((value - reference) / reference * 100.0, _DECIMALS)


def _meets_pd(sum_mm: float, nadir_mm: float) -> bool:
    """>= 20 % above the nadir *and* >= 5 mm absolute."""
    increase = sum_mm - nadir_mm
    if increase < PD_INCREASE_MM - _EPS:
        return False
    if nadir_mm <= 0:
        return True  # from a zero nadir any rise of >= 5 mm is an unbounded relative rise
    return increase / nadir_mm * 100.0 >= PD_INCREASE_PCT - _EPS


def _classify_targets(
    reading: _TargetReading, baseline_sum: float, nadir: float, response_established: bool
) -> tuple[TargetResponse, list[str]]:
    notes: list[str] = []
    pd = _meets_pd(reading.evaluated_sum_mm, nadir)
    if not reading.complete:
        # The missing lesions can only add to the sum, so PD shown by the evaluated
        # lesions alone is PD whatever the missing ones measure.
        if pd:
            notes.append(
                "PD shown by the evaluated targets alone; not evaluated: "
                + ", ".join(reading.not_evaluated)
            )
            return TargetResponse.PD, notes
        notes.append("target lesions not evaluated: " + ", ".join(reading.not_evaluated))
        return TargetResponse.NE, notes
    # CR before PD: target nodes that stay below 10 mm are normal, so their regrowth
    # from a 0 mm nadir (e.g. 0 -> 8 mm) is not progression.
    if reading.cr_criteria_met:
        return TargetResponse.CR, notes
    if pd:
        return TargetResponse.PD, notes
    change = _pct(reading.evaluated_sum_mm, baseline_sum)
    if change is not None and change <= -PR_DECREASE_PCT + _EPS:
        return TargetResponse.PR, notes
    if response_established:
        # EORTC FAQ: once PR is assigned (and confirmed, when confirmation is required)
        # it is kept until PD criteria are met, even if the sum climbs back above -30 %.
        notes.append("PR maintained: response established earlier and PD criteria not met")
        return TargetResponse.PR, notes
    return TargetResponse.SD, notes


class _ResponseEstablished:
    """Tracks whether a response is established, for the EORTC keep-PR rule.

    Established means a CR/PR time point, confirmed by a later CR/PR at least
    ``confirmation_min_days`` later (with only CR/PR/NE in between) when confirmation is
    required; otherwise the first CR/PR. Progression clears it (relevant for iRECIST,
    where evaluation goes on after PD).
    """

    def __init__(self, settings: ResponseSettings) -> None:
        self._settings = settings
        self._chain: list[int] = []
        self.established = False

    def update(self, day: int, response: Response) -> None:
        if response is Response.PD:
            self._chain.clear()
            self.established = False
        elif response in (Response.CR, Response.PR):
            self._chain.append(day)
            if (
                not self._settings.confirmation_required
                or self._chain[-1] - self._chain[0] >= self._settings.confirmation_min_days
            ):
                self.established = True
        elif response is not Response.NE and not self.established:
            self._chain.clear()


@dataclass(frozen=True, slots=True)
class _IupdEpisode:
    day: int
    sum_mm: float | None
    categories: frozenset[str]


class _IRecistState:
    """iRECIST state machine: iUPD -> iCPD confirmation, reset by iSD/iPR/iCR."""

    def __init__(self, settings: ResponseSettings) -> None:
        self._settings = settings
        self._pending: _IupdEpisode | None = None
        self._confirmed = False

    def step(
        self,
        assessment: Assessment,
        raw: Response,
        target: TargetResponse,
        sum_mm: float | None,
        sum_lower_bound_mm: float | None,
    ) -> tuple[IResponse, list[str]]:
        recorded = assessment.recorded_response
        if isinstance(recorded, IResponse):
            return self._take_recorded(assessment.day, recorded, sum_mm), []

        notes: list[str] = []
        if self._confirmed:
            label = IResponse.ICPD if raw is Response.PD else _IRECIST_OF[raw]
            return label, notes
        pending = self._pending
        if pending is None:
            if raw is Response.PD:
                self._pending = _IupdEpisode(
                    assessment.day, sum_mm, self._categories(assessment, target)
                )
                return IResponse.IUPD, notes
            return _IRECIST_OF[raw], notes

        gap = assessment.day - pending.day
        settings = self._settings
        if gap >= settings.iupd_confirmation_min_days and self._further_progression(
            pending, assessment, target, sum_lower_bound_mm
        ):
            self._confirmed = True
            if gap > settings.iupd_confirmation_max_days:
                notes.append(
                    f"iCPD confirmed {gap} days after iUPD, later than the "
                    f"{settings.iupd_confirmation_max_days}-day window"
                )
            return IResponse.ICPD, notes
        if raw is Response.PD:
            if gap < settings.iupd_confirmation_min_days:
                notes.append(
                    f"iUPD not confirmable: only {gap} days after iUPD on day {pending.day}"
                )
            else:
                notes.append("iUPD persists without further increase; not yet confirmed")
            return IResponse.IUPD, notes
        if raw is Response.NE:
            return IResponse.INE, notes
        # iSD/iPR/iCR (or non-iCR/non-iUPD) after iUPD: reset. The next progression is a
        # new iUPD measured from the nadir again.
        self._pending = None
        notes.append(f"iUPD of day {pending.day} reset")
        return _IRECIST_OF[raw], notes

    def _take_recorded(self, day: int, recorded: IResponse, sum_mm: float | None) -> IResponse:
        if recorded is IResponse.ICPD:
            self._confirmed = True
        elif recorded is IResponse.IUPD:
            if self._pending is None:
                self._pending = _IupdEpisode(day, sum_mm, frozenset())
        elif recorded is not IResponse.INE:
            self._pending = None
        return recorded

    @staticmethod
    def _categories(assessment: Assessment, target: TargetResponse) -> frozenset[str]:
        categories: set[str] = set()
        if target is TargetResponse.PD:
            categories.add("target")
        if assessment.non_target is NonTargetStatus.PD:
            categories.add("non_target")
        if assessment.new_lesions is NewLesions.UNEQUIVOCAL:
            categories.add("new")
        return frozenset(categories)

    @staticmethod
    def _further_progression(
        pending: _IupdEpisode,
        assessment: Assessment,
        target: TargetResponse,
        sum_lower_bound_mm: float | None,
    ) -> bool:
        """iCPD: further increase in a category that progressed at iUPD, or progression
        in a category that had not (Seymour 2017)."""
        categories = pending.categories
        if "target" in categories:
            if (
                pending.sum_mm is not None
                and sum_lower_bound_mm is not None
                and sum_lower_bound_mm - pending.sum_mm >= ICPD_FURTHER_INCREASE_MM - _EPS
            ):
                return True
        elif target is TargetResponse.PD:
            return True
        if "non_target" in categories:
            if assessment.nontarget_increased:
                return True
        elif assessment.non_target is NonTargetStatus.PD:
            return True
        if "new" in categories:
            return assessment.new_lesions_increased
        return assessment.new_lesions is NewLesions.UNEQUIVOCAL


def evaluate_timepoints(
    baseline: Iterable[Lesion],
    assessments: Iterable[Assessment],
    settings: ResponseSettings,
) -> list[TimepointResult]:
    """Evaluate every follow-up assessment, in day order.

    Evaluation is sequential because PD is measured from the nadir of the earlier time
    points and because of the EORTC keep-PR rule. Raises :class:`RecistInputError` if
    the baseline or any assessment does not validate (missing target measurements are
    not errors; they make the time point NE).
    """
    baseline = tuple(baseline)
    ordered = sorted(assessments, key=lambda a: a.day)
    _check_inputs(baseline, ordered)
    return _evaluate(baseline, ordered, settings)


def _evaluate(
    baseline: Sequence[Lesion], assessments: Sequence[Assessment], settings: ResponseSettings
) -> list[TimepointResult]:
    targets = tuple(lesion for lesion in baseline if lesion.target)
    baseline_sum: float | None = (
        round(float(sum(lesion.diameter_mm for lesion in targets)), _DECIMALS) if targets else None
    )
    nadir = baseline_sum
    established = _ResponseEstablished(settings)
    irecist = _IRecistState(settings)
    results: list[TimepointResult] = []

    for assessment in assessments:
        notes: list[str] = []
        target = TargetResponse.NA
        sum_mm = lower_bound = change_baseline = change_nadir = change_nadir_mm = None
        not_evaluated: tuple[str, ...] = ()
        nadir_used = nadir
        if baseline_sum is not None and nadir is not None:
            reading = _read_targets(targets, assessment)
            target, target_notes = _classify_targets(
                reading, baseline_sum, nadir, established.established
            )
            notes.extend(target_notes)
            not_evaluated = reading.not_evaluated
            lower_bound = reading.evaluated_sum_mm
            if reading.complete:
                sum_mm = reading.evaluated_sum_mm
                change_baseline = _pct(sum_mm, baseline_sum)
                change_nadir = _pct(sum_mm, nadir)
                change_nadir_mm = round(sum_mm - nadir, _DECIMALS)

        if assessment.new_lesions is NewLesions.EQUIVOCAL:
            notes.append("equivocal new lesion: not progression unless confirmed later")
        calculated = overall_response(target, assessment.non_target, assessment.new_lesions)
        recorded = assessment.recorded_response
        overall = calculated if recorded is None else recist_equivalent(recorded)
        if recorded is not None and overall is not calculated:
            notes.append(f"recorded response {recorded} used; calculated {calculated}")

        onset = None
        if overall is Response.PD:
            onset = assessment.day
            if assessment.new_lesion_first_seen_day is not None:
                onset = min(onset, assessment.new_lesion_first_seen_day)

        ilabel, inotes = irecist.step(assessment, overall, target, sum_mm, lower_bound)
        notes.extend(inotes)
        established.update(assessment.day, overall)

        results.append(
            TimepointResult(
                day=assessment.day,
                target=target,
                non_target=assessment.non_target,
                new_lesions=assessment.new_lesions,
                calculated=calculated,
                overall=overall,
                iresponse=ilabel,
                recorded=recorded is not None,
                sum_mm=sum_mm,
                baseline_sum_mm=baseline_sum,
                nadir_mm=nadir_used,
                change_from_baseline_pct=change_baseline,
                change_from_nadir_pct=change_nadir,
                change_from_nadir_mm=change_nadir_mm,
                not_evaluated=not_evaluated,
                progression_onset_day=onset,
                notes=tuple(notes),
            )
        )
        if sum_mm is not None and nadir is not None:
            nadir = min(nadir, sum_mm)
    return results


def evaluate_non_ablated(
    baseline: Iterable[Lesion],
    assessments: Iterable[Assessment],
    settings: ResponseSettings,
) -> list[TimepointResult]:
    """Response of the target lesions the trial did *not* ablate (``ablated_on_study``).

    The cryoablation trial wants to know whether lesions outside the ablation zone
    respond (the abscopal question), reported apart from the RECIST response. This runs
    the same evaluation with the target lesions ablated on study left out: the baseline
    sum, nadir, target response and % changes cover only the remaining targets.
    Non-target status and new lesions are patient-level and are used unchanged, so the
    overall response still turns PD on a new lesion. Recorded responses are ignored
    (they were given for the whole patient). A remaining lesion recorded as merged into
    an ablated one is treated as not evaluated, because its size is carried by a lesion
    outside the subset. Returns an empty list when every target was ablated on study.
    """
    baseline = tuple(baseline)
    ordered = sorted(assessments, key=lambda a: a.day)
    _check_inputs(baseline, ordered)
    excluded = {
        lesion.lesion_id for lesion in baseline if lesion.target and lesion.ablated_on_study
    }
    subset = tuple(lesion for lesion in baseline if lesion.lesion_id not in excluded)
    if not any(lesion.target for lesion in subset):
        return []
    restricted: list[Assessment] = []
    for assessment in ordered:
        measurements = []
        for m in assessment.measurements:
            if m.lesion_id in excluded:
                continue
            if m.state is LesionState.MERGED and m.merged_into in excluded:
                m = LesionMeasurement(m.lesion_id, state=LesionState.NOT_EVALUATED)
            measurements.append(m)
        restricted.append(
            replace(assessment, measurements=tuple(measurements), recorded_response=None)
        )
    return _evaluate(subset, restricted, settings)


# --------------------------------------------------------------------------------------
# Best overall response
# --------------------------------------------------------------------------------------


class _Level(StrEnum):
    CR = "CR"
    PR = "PR"
    STABLE = "STABLE"
    NED = "NED"
    UPD = "UPD"
    PD = "PD"
    NE = "NE"


_LEVEL: dict[Response | IResponse, _Level] = {
    Response.CR: _Level.CR,
    Response.PR: _Level.PR,
    Response.SD: _Level.STABLE,
    Response.NON_CR_NON_PD: _Level.STABLE,
    Response.NED: _Level.NED,
    Response.PD: _Level.PD,
    Response.NE: _Level.NE,
    IResponse.ICR: _Level.CR,
    IResponse.IPR: _Level.PR,
    IResponse.ISD: _Level.STABLE,
    IResponse.NON_ICR_NON_IUPD: _Level.STABLE,
    IResponse.INED: _Level.NED,
    IResponse.IUPD: _Level.UPD,
    IResponse.ICPD: _Level.PD,
    IResponse.INE: _Level.NE,
}


@dataclass(frozen=True, slots=True)
class BestOverallResponse:
    """Best overall response over the time points up to and including progression.

    ``confirmed`` is true when a CR/PR best response has a confirming assessment (it is
    reported even if confirmation is not required). ``first_response_day`` is the first
    CR/PR time point of the (confirmed, if required) response and ``progression_day``
    the date of progression (iRECIST: the iUPD that was confirmed as iCPD), both for
    duration of response. ``unconfirmed_progression_day`` is an iUPD still awaiting
    confirmation at the last assessment. ``best_change_pct`` is the smallest % change
    of the target sum from baseline over the time points considered (waterfall plot).
    ``any_recorded`` tells that a recorded response is among them.
    """

    criteria: Criteria
    bor: Response | IResponse
    confirmed: bool = False
    first_response_day: int | None = None
    confirmation_day: int | None = None
    stable_day: int | None = None
    progression_day: int | None = None
    unconfirmed_progression_day: int | None = None
    best_change_pct: float | None = None
    any_recorded: bool = False
    timepoint_days: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def is_responder(self) -> bool:
        """Counts towards ORR (CR or PR)."""
        return _LEVEL[self.bor] in (_Level.CR, _Level.PR)

    @property
    def is_disease_control(self) -> bool:
        """Counts towards DCR (CR, PR, SD or non-CR/non-PD)."""
        return _LEVEL[self.bor] in (_Level.CR, _Level.PR, _Level.STABLE)


def _episode_start(labels: Sequence[Response | IResponse], index: int) -> int:
    """First iUPD of the unbroken iUPD/iNE run that ends at ``index``."""
    start = index
    i = index - 1
    while i >= 0 and labels[i] in (IResponse.IUPD, IResponse.INE):
        if labels[i] is IResponse.IUPD:
            start = i
        i -= 1
    return start


def best_overall_response(
    timepoints: Sequence[TimepointResult], settings: ResponseSettings
) -> BestOverallResponse:
    """Best overall response (RECIST 1.1 BOR or iRECIST iBOR, by ``settings.criteria``).

    Only time points up to and including the first PD (iRECIST: iCPD) count. With
    confirmation required, a CR/PR counts only if a later assessment at least
    ``confirmation_min_days`` later shows the same or better response (CR for CR,
    CR/PR for PR) with only CR/PR/NE in between and no PR after a CR (the response
    criteria met in sequence, RECIST 1.1 section 4.6). A CR followed by a PR is not a
    confirmed response: table 3 gives SD or PD, and "PR" only when a reader re-reads the
    first CR as a PR, which enters here as a recorded response. Otherwise an unconfirmed CR/PR, like SD, gives SD
    (non-CR/non-PD without target disease) provided SD or better was seen at day >=
    ``min_sd_days``; failing that the BOR is PD if progression followed, else NE.
    """
    irecist = settings.criteria is Criteria.IRECIST
    points = sorted(timepoints, key=lambda tp: tp.day)
    labels: list[Response | IResponse] = [tp.iresponse if irecist else tp.overall for tp in points]
    levels = [_LEVEL[label] for label in labels]
    end = next((i for i, level in enumerate(levels) if level is _Level.PD), None)
    if end is not None:
        points, labels, levels = points[: end + 1], labels[: end + 1], levels[: end + 1]
    days = [tp.day for tp in points]
    notes: list[str] = []

    def confirmed_by(i: int, accepted: tuple[_Level, ...]) -> int | None:
        """The assessment that confirms the response at ``i``: the first CR/PR (CR for
        a CR) at least ``confirmation_min_days`` later, every assessment from ``i`` to
        it meeting the response criteria *in sequence*. A PR after a CR breaks the
        sequence (table 3 footnote: disease seen again after a CR is progression at that
        point), so PR -> CR -> PR does not confirm the first PR unless the CR alone is
        late enough to confirm it."""
        seen_cr = levels[i] is _Level.CR
        for j in range(i + 1, len(points)):
            if levels[j] is _Level.NE:
                continue
            if levels[j] not in accepted or (levels[j] is _Level.PR and seen_cr):
                return None
            if days[j] - days[i] >= settings.confirmation_min_days:
                return j
            seen_cr = seen_cr or levels[j] is _Level.CR
        return None

    def first_confirmed(accepted: tuple[_Level, ...]) -> tuple[int, int] | None:
        for i, level in enumerate(levels):
            if level in accepted:
                j = confirmed_by(i, accepted)
                if j is not None:
                    return i, j
        return None

    def run_start(index: int) -> int:
        """First CR/PR of the unbroken CR/PR/NE run that contains ``index``: duration
        of response counts from when CR/PR criteria were first met."""
        start = index
        for i in range(index - 1, -1, -1):
            if levels[i] in (_Level.CR, _Level.PR):
                start = i
            elif levels[i] is not _Level.NE:
                break
        return start

    cr_pair = first_confirmed((_Level.CR,))
    pr_pair = first_confirmed((_Level.CR, _Level.PR))
    responses = [i for i, level in enumerate(levels) if level in (_Level.CR, _Level.PR)]
    crs = [i for i in responses if levels[i] is _Level.CR]

    def label(level: _Level) -> Response | IResponse:
        recist = {
            _Level.CR: Response.CR,
            _Level.PR: Response.PR,
            _Level.PD: Response.PD,
            _Level.NE: Response.NE,
        }[level]
        if not irecist:
            return recist
        return IResponse.ICPD if level is _Level.PD else _IRECIST_OF[recist]

    bor: Response | IResponse | None = None
    confirmed = False
    first_response_day = confirmation_day = stable_day = None
    if settings.confirmation_required:
        if cr_pair is not None and pr_pair is not None:
            bor, confirmed = label(_Level.CR), True
            first_response_day, confirmation_day = days[run_start(cr_pair[0])], days[cr_pair[1]]
        elif pr_pair is not None:
            bor, confirmed = label(_Level.PR), True
            first_response_day, confirmation_day = days[pr_pair[0]], days[pr_pair[1]]
        elif responses:
            notes.append(f"response on day {days[responses[0]]} not confirmed")
    elif responses:
        pair = cr_pair if crs else pr_pair
        bor = label(_Level.CR if crs else _Level.PR)
        confirmed = pair is not None
        confirmation_day = days[pair[1]] if pair is not None else None
        first_response_day = days[responses[0]]

    if bor is None:
        stable_levels = (_Level.CR, _Level.PR, _Level.STABLE, _Level.NED)
        stable = next(
            (
                i
                for i, level in enumerate(levels)
                if level in stable_levels and days[i] >= settings.min_sd_days
            ),
            None,
        )
        reappeared = any(
            levels[j] in (_Level.PR, _Level.STABLE) for i in crs for j in range(i + 1, len(levels))
        )
        if stable is not None:
            bor = _stable_label(points[stable], labels[stable], irecist)
            stable_day = days[stable]
        else:
            if any(level in stable_levels for level in levels):
                notes.append(f"SD or better not seen at day >= {settings.min_sd_days}")
            if end is not None:
                bor = label(_Level.PD)
            elif reappeared:
                # Eisenhauer 2009 table 3: CR then SD/PR without the SD duration is PD,
                # because disease reappeared after a complete response. No scan
                # confirmed it, so under iRECIST it stays unconfirmed (iUPD).
                bor = IResponse.IUPD if irecist else Response.PD
                notes.append("disease reappeared after an unconfirmed CR: progression")
            elif _Level.UPD in levels:
                bor = IResponse.IUPD
            else:
                bor = label(_Level.NE)

    progression_day = unconfirmed_progression_day = None
    if end is not None:
        start = _episode_start(labels, end) if irecist else end
        progression_day = points[start].progression_onset_day or days[start]
    elif irecist:
        last = next((i for i in reversed(range(len(levels))) if levels[i] is not _Level.NE), None)
        if last is not None and levels[last] is _Level.UPD:
            start = _episode_start(labels, last)
            unconfirmed_progression_day = points[start].progression_onset_day or days[start]

    changes = [
        tp.change_from_baseline_pct for tp in points if tp.change_from_baseline_pct is not None
    ]
    if not points:
        notes.append("no follow-up assessment")
    return BestOverallResponse(
        criteria=settings.criteria,
        bor=bor,
        confirmed=confirmed,
        first_response_day=first_response_day,
        confirmation_day=confirmation_day,
        stable_day=stable_day,
        progression_day=progression_day,
        unconfirmed_progression_day=unconfirmed_progression_day,
        best_change_pct=min(changes) if changes else None,
        any_recorded=any(tp.recorded for tp in points),
        timepoint_days=tuple(days),
        notes=tuple(notes),
    )


def _stable_label(
    point: TimepointResult, label: Response | IResponse, irecist: bool
) -> Response | IResponse:
    """Label for a stable best response: the point's own SD / non-CR/non-PD / NED, or,
    for an unconfirmed CR/PR, SD with target disease and non-CR/non-PD without."""
    if _LEVEL[label] in (_Level.STABLE, _Level.NED):
        return label
    recist = Response.SD if point.has_target_disease else Response.NON_CR_NON_PD
    return _IRECIST_OF[recist] if irecist else recist
