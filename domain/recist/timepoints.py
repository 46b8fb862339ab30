"""Sequential evaluation of the follow-up assessments into time-point results (nadir
tracking, the EORTC keep-PR rule, recorded responses, the non-ablated subset).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from .irecist import _IRecistState
from .model import (
    _DECIMALS,
    Assessment,
    Lesion,
    LesionMeasurement,
    LesionState,
    NewLesions,
    Response,
    ResponseSettings,
    TargetResponse,
    TimepointResult,
    recist_equivalent,
)
from .rules import _classify_targets, _pct, _read_targets, overall_response
from .validation import _check_inputs


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
