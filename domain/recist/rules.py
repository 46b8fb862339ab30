"""Time-point rules: the target-lesion response (sum of diameters against baseline and
nadir) and the overall response from target, non-target and new-lesion findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import (
    _DECIMALS,
    _EPS,
    NORMAL_NODE_MM,
    PD_INCREASE_MM,
    PD_INCREASE_PCT,
    PR_DECREASE_PCT,
    Assessment,
    Lesion,
    NewLesions,
    NonTargetStatus,
    Response,
    TargetResponse,
)

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
