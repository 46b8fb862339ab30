"""Unit tests for the RECIST 1.1 / iRECIST engine (pure Python, no Django, no database)."""

from __future__ import annotations

import pytest

from domain.recist import (
    Assessment,
    BestOverallResponse,
    Criteria,
    IResponse,
    Lesion,
    LesionMeasurement,
    LesionState,
    NewLesions,
    NonTargetStatus,
    RecistInputError,
    Response,
    ResponseSettings,
    TargetResponse,
    TimepointResult,
    best_overall_response,
    evaluate_non_ablated,
    evaluate_timepoints,
    overall_response,
    parse_response,
    recist_equivalent,
    validate_baseline,
    validate_followup,
)

T = TargetResponse
NT = NonTargetStatus
NEW = NewLesions
R = Response
I = IResponse  # noqa: E741 - short alias keeps the tables readable

CONFIRM = ResponseSettings(confirmation_required=True)
NO_CONFIRM = ResponseSettings(confirmation_required=False)
IRECIST = ResponseSettings(confirmation_required=True, criteria=Criteria.IRECIST)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def lesion(
    lesion_id: str,
    diameter_mm: float,
    organ: str = "liver",
    *,
    nodal: bool = False,
    target: bool = True,
    ablated: bool = False,
    ablated_on_study: bool = False,
) -> Lesion:
    return Lesion(
        lesion_id=lesion_id,
        organ=organ,
        nodal=nodal,
        diameter_mm=diameter_mm,
        target=target,
        ablated=ablated,
        ablated_on_study=ablated_on_study,
    )


def node(lesion_id: str, short_axis_mm: float, station: str, *, target: bool = True) -> Lesion:
    return lesion(lesion_id, short_axis_mm, station, nodal=True, target=target)


def mm(lesion_id: str, diameter_mm: float) -> LesionMeasurement:
    return LesionMeasurement(lesion_id, diameter_mm)


def state(lesion_id: str, lesion_state: LesionState, **kwargs: object) -> LesionMeasurement:
    return LesionMeasurement(lesion_id, state=lesion_state, **kwargs)  # type: ignore[arg-type]


def visit(
    day: int,
    *measurements: LesionMeasurement,
    nt: NonTargetStatus = NT.NONE,
    new: NewLesions = NEW.NONE,
    **kwargs: object,
) -> Assessment:
    return Assessment(day, measurements, nt, new, **kwargs)  # type: ignore[arg-type]


def one_lesion_course(
    baseline_mm: float, follow_ups: list[tuple[int, float]], settings: ResponseSettings = CONFIRM
) -> list[TimepointResult]:
    """A patient with a single liver target: the sum is that lesion's diameter."""
    assessments = [visit(day, mm("L1", size)) for day, size in follow_ups]
    return evaluate_timepoints([lesion("L1", baseline_mm)], assessments, settings)


_I_OF = {
    R.CR: I.ICR,
    R.PR: I.IPR,
    R.SD: I.ISD,
    R.NON_CR_NON_PD: I.NON_ICR_NON_IUPD,
    R.NED: I.INED,
    R.PD: I.IUPD,
    R.NE: I.INE,
}


def tp(day: int, response: Response | IResponse, *, target_disease: bool = True) -> TimepointResult:
    """A ready-made time point, to test the best-response logic on its own."""
    overall = recist_equivalent(response)
    iresponse = response if isinstance(response, IResponse) else _I_OF[response]
    return TimepointResult(
        day=day,
        target=T.SD if target_disease else T.NA,
        non_target=NT.NONE,
        new_lesions=NEW.NONE,
        calculated=overall,
        overall=overall,
        iresponse=iresponse,
        progression_onset_day=day if overall is R.PD else None,
    )


def codes(errors: list) -> list[tuple[str, str]]:
    return [(e.lesion_id, e.code) for e in errors]


# --------------------------------------------------------------------------------------
# overall time-point response tables (Eisenhauer 2009 tables 1 and 2)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "non_target", "new", "expected"),
    [
        # CR | CR | no | CR  (no non-target lesions at baseline behaves like CR)
        (T.CR, NT.CR, NEW.NONE, R.CR),
        (T.CR, NT.NONE, NEW.NONE, R.CR),
        # CR | non-CR/non-PD | no | PR
        (T.CR, NT.NON_CR_NON_PD, NEW.NONE, R.PR),
        # CR | not evaluated | no | PR
        (T.CR, NT.NE, NEW.NONE, R.PR),
        # PR | non-PD or not all evaluated | no | PR
        (T.PR, NT.CR, NEW.NONE, R.PR),
        (T.PR, NT.NON_CR_NON_PD, NEW.NONE, R.PR),
        (T.PR, NT.NE, NEW.NONE, R.PR),
        (T.PR, NT.NONE, NEW.NONE, R.PR),
        # SD | non-PD or not all evaluated | no | SD
        (T.SD, NT.CR, NEW.NONE, R.SD),
        (T.SD, NT.NON_CR_NON_PD, NEW.NONE, R.SD),
        (T.SD, NT.NE, NEW.NONE, R.SD),
        (T.SD, NT.NONE, NEW.NONE, R.SD),
        # not all evaluated | non-PD | no | NE
        (T.NE, NT.CR, NEW.NONE, R.NE),
        (T.NE, NT.NON_CR_NON_PD, NEW.NONE, R.NE),
        (T.NE, NT.NE, NEW.NONE, R.NE),
        (T.NE, NT.NONE, NEW.NONE, R.NE),
        # PD | any | any | PD
        (T.PD, NT.CR, NEW.NONE, R.PD),
        (T.PD, NT.NON_CR_NON_PD, NEW.NONE, R.PD),
        (T.PD, NT.NE, NEW.NONE, R.PD),
        (T.PD, NT.NONE, NEW.UNEQUIVOCAL, R.PD),
        # any | PD | any | PD
        (T.CR, NT.PD, NEW.NONE, R.PD),
        (T.PR, NT.PD, NEW.NONE, R.PD),
        (T.SD, NT.PD, NEW.NONE, R.PD),
        (T.NE, NT.PD, NEW.NONE, R.PD),
        # any | any | yes | PD
        (T.CR, NT.CR, NEW.UNEQUIVOCAL, R.PD),
        (T.PR, NT.NON_CR_NON_PD, NEW.UNEQUIVOCAL, R.PD),
        (T.SD, NT.NE, NEW.UNEQUIVOCAL, R.PD),
        (T.NE, NT.NE, NEW.UNEQUIVOCAL, R.PD),
        # an equivocal new lesion is not (yet) progression
        (T.CR, NT.CR, NEW.EQUIVOCAL, R.CR),
        (T.SD, NT.NON_CR_NON_PD, NEW.EQUIVOCAL, R.SD),
    ],
)
def test_overall_response_with_target_disease(
    target: TargetResponse, non_target: NonTargetStatus, new: NewLesions, expected: Response
) -> None:
    assert overall_response(target, non_target, new) is expected


@pytest.mark.parametrize(
    ("non_target", "new", "expected"),
    [
        (NT.CR, NEW.NONE, R.CR),
        (NT.NON_CR_NON_PD, NEW.NONE, R.NON_CR_NON_PD),
        (NT.NE, NEW.NONE, R.NE),
        (NT.PD, NEW.NONE, R.PD),
        (NT.PD, NEW.UNEQUIVOCAL, R.PD),
        (NT.CR, NEW.UNEQUIVOCAL, R.PD),
        (NT.NON_CR_NON_PD, NEW.UNEQUIVOCAL, R.PD),
        (NT.NE, NEW.UNEQUIVOCAL, R.PD),
        (NT.NON_CR_NON_PD, NEW.EQUIVOCAL, R.NON_CR_NON_PD),
        # no disease at all at baseline
        (NT.NONE, NEW.NONE, R.NED),
        (NT.NONE, NEW.EQUIVOCAL, R.NED),
        (NT.NONE, NEW.UNEQUIVOCAL, R.PD),
    ],
)
def test_overall_response_non_target_only(
    non_target: NonTargetStatus, new: NewLesions, expected: Response
) -> None:
    assert overall_response(T.NA, non_target, new) is expected


def test_table_end_to_end_target_cr_with_persisting_non_target_is_pr() -> None:
    baseline = [lesion("L1", 30), lesion("N1", 12, "portal", nodal=True, target=False)]
    [result] = evaluate_timepoints(
        baseline,
        [visit(42, state("L1", LesionState.DISAPPEARED), nt=NT.NON_CR_NON_PD)],
        CONFIRM,
    )
    assert result.target is T.CR
    assert result.overall is R.PR
    assert result.sum_mm == 0


def test_non_target_only_disease_end_to_end() -> None:
    baseline = [lesion("A1", 0, "peritoneum", target=False)]  # ascites: non-measurable
    results = evaluate_timepoints(
        baseline,
        [visit(42, nt=NT.NON_CR_NON_PD), visit(84, nt=NT.CR), visit(126, nt=NT.PD)],
        CONFIRM,
    )
    assert [r.overall for r in results] == [R.NON_CR_NON_PD, R.CR, R.PD]
    assert all(r.target is T.NA and r.sum_mm is None for r in results)
    best = best_overall_response(results, CONFIRM)
    assert best.bor is R.NON_CR_NON_PD
    assert best.progression_day == 126
    assert best.best_change_pct is None


def test_no_disease_at_baseline() -> None:
    results = evaluate_timepoints([], [visit(42), visit(84, new=NEW.UNEQUIVOCAL)], CONFIRM)
    assert [r.overall for r in results] == [R.NED, R.PD]
    assert best_overall_response(results[:1], CONFIRM).bor is R.NED


# --------------------------------------------------------------------------------------
# target response thresholds
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("follow_up_mm", "expected"),
    [
        (70.0, T.PR),  # exactly -30 %
        (70.1, T.SD),  # -29.9 %
        (60.0, T.PR),
        (100.0, T.SD),
        (119.9, T.SD),  # +19.9 %
        (120.0, T.PD),  # +20 % and +20 mm
    ],
)
def test_percent_thresholds_from_baseline(follow_up_mm: float, expected: TargetResponse) -> None:
    [result] = one_lesion_course(100, [(42, follow_up_mm)])
    assert result.target is expected


def test_exactly_minus_30_percent_despite_floating_point() -> None:
    # 7.07 + 14.14 + 28.49 over 10.1 + 20.2 + 40.7 is -29.999999999999993 % in floats.
    baseline = [lesion("L1", 10.1), lesion("L2", 20.2, "lung"), lesion("L3", 40.7, "adrenal")]
    [result] = evaluate_timepoints(
        baseline, [visit(42, mm("L1", 7.07), mm("L2", 14.14), mm("L3", 28.49))], CONFIRM
    )
    assert result.baseline_sum_mm == 71.0
    assert result.change_from_baseline_pct == pytest.approx(-30.0)
    assert result.target is T.PR


def test_plus_20_percent_below_5_mm_is_sd() -> None:
    [result] = one_lesion_course(20, [(42, 24)])
    assert result.change_from_nadir_pct == pytest.approx(20.0)
    assert result.change_from_nadir_mm == pytest.approx(4.0)
    assert result.target is T.SD


def test_plus_20_percent_and_exactly_5_mm_is_pd() -> None:
    [result] = one_lesion_course(25, [(42, 30)])
    assert result.change_from_nadir_mm == pytest.approx(5.0)
    assert result.target is T.PD
    assert result.overall is R.PD


def test_pd_measured_from_nadir_not_baseline() -> None:
    results = one_lesion_course(100, [(42, 50), (84, 61)])
    assert [r.nadir_mm for r in results] == [100, 50]  # prior time points only
    assert results[1].change_from_baseline_pct == pytest.approx(-39.0)
    assert results[1].change_from_nadir_pct == pytest.approx(22.0)
    assert results[1].target is T.PD


def test_nadir_includes_baseline_and_skips_incomplete_sums() -> None:
    baseline = [lesion("L1", 40), lesion("L2", 20, "lung")]
    results = evaluate_timepoints(
        baseline,
        [
            visit(42, mm("L1", 45), mm("L2", 20)),  # 65: nadir stays baseline 60
            visit(84, mm("L1", 10), state("L2", LesionState.NOT_EVALUATED)),  # NE, skipped
            visit(126, mm("L1", 50), mm("L2", 22)),  # 72 = +20 % and +12 mm from 60
        ],
        NO_CONFIRM,
    )
    assert [r.nadir_mm for r in results] == [60, 60, 60]
    assert [r.target for r in results] == [T.SD, T.NE, T.PD]


def test_node_cr_with_non_zero_sum() -> None:
    baseline = [node("N1", 20, "hilar"), node("N2", 18, "mediastinal"), lesion("L1", 25)]
    [result] = evaluate_timepoints(
        baseline,
        [visit(42, mm("N1", 8), mm("N2", 7), state("L1", LesionState.DISAPPEARED))],
        CONFIRM,
    )
    assert result.sum_mm == 15
    assert result.target is T.CR
    assert result.overall is R.CR


def test_node_of_10_mm_prevents_cr() -> None:
    baseline = [node("N1", 20, "hilar"), node("N2", 18, "mediastinal")]
    [result] = evaluate_timepoints(baseline, [visit(42, mm("N1", 10), mm("N2", 7))], CONFIRM)
    assert result.target is T.PR


def test_normal_nodes_regrowing_from_zero_stay_cr() -> None:
    baseline = [node("N1", 20, "hilar"), node("N2", 18, "mediastinal")]
    results = evaluate_timepoints(
        baseline,
        [
            visit(42, state("N1", LesionState.DISAPPEARED), state("N2", LesionState.DISAPPEARED)),
            visit(84, mm("N1", 9), mm("N2", 8)),  # +17 mm from a 0 nadir, but both normal
        ],
        NO_CONFIRM,
    )
    assert [r.target for r in results] == [T.CR, T.CR]


# --------------------------------------------------------------------------------------
# lesion states: too small, disappeared, split, merged, not evaluated
# --------------------------------------------------------------------------------------


def test_too_small_counts_5_mm() -> None:
    baseline = [lesion("L1", 30), lesion("L2", 20, "lung")]
    [result] = evaluate_timepoints(
        baseline, [visit(42, state("L1", LesionState.TOO_SMALL), mm("L2", 30))], CONFIRM
    )
    assert result.sum_mm == 35
    assert result.target is T.PR  # 35 vs 50 is exactly -30 %


def test_too_small_lesion_is_not_cr() -> None:
    [result] = evaluate_timepoints(
        [lesion("L1", 30)], [visit(42, state("L1", LesionState.TOO_SMALL))], CONFIRM
    )
    assert result.sum_mm == 5
    assert result.target is T.PR


def test_disappeared_lesion_and_node_count_zero() -> None:
    baseline = [lesion("L1", 40), node("N1", 20, "hilar")]
    [result] = evaluate_timepoints(
        baseline,
        [visit(42, state("L1", LesionState.DISAPPEARED), state("N1", LesionState.DISAPPEARED))],
        CONFIRM,
    )
    assert result.sum_mm == 0
    assert result.change_from_baseline_pct == -100
    assert result.target is T.CR


def test_split_lesion_sums_its_fragments() -> None:
    split = LesionMeasurement.from_fragments("L1", 12, 8.5)
    assert split.diameter_mm == 20.5
    assert split.state is LesionState.MEASURED
    [result] = evaluate_timepoints(
        [lesion("L1", 40), lesion("L2", 20, "lung")], [visit(42, split, mm("L2", 20))], CONFIRM
    )
    assert result.sum_mm == 40.5


def test_merged_lesions_are_measured_as_one() -> None:
    baseline = [lesion("L1", 30), lesion("L2", 20)]
    [result] = evaluate_timepoints(
        baseline,
        [visit(42, mm("L1", 45), state("L2", LesionState.MERGED, merged_into="L1"))],
        CONFIRM,
    )
    assert result.sum_mm == 45
    assert result.target is T.SD
    assert result.not_evaluated == ()


def test_not_evaluated_target_makes_time_point_ne() -> None:
    baseline = [lesion("L1", 40), lesion("L2", 20, "lung")]
    [result] = evaluate_timepoints(
        baseline, [visit(42, mm("L1", 10), state("L2", LesionState.NOT_EVALUATED))], CONFIRM
    )
    assert result.target is T.NE
    assert result.overall is R.NE
    assert result.sum_mm is None
    assert result.not_evaluated == ("L2",)


def test_missing_measurement_is_ne_not_an_error() -> None:
    baseline = [lesion("L1", 40), lesion("L2", 20, "lung")]
    assessment = visit(42, mm("L1", 10))
    assert validate_followup(baseline, assessment) == []
    [result] = evaluate_timepoints(baseline, [assessment], CONFIRM)
    assert result.target is T.NE
    assert result.not_evaluated == ("L2",)


def test_evaluated_lesions_alone_can_prove_pd() -> None:
    baseline = [lesion("L1", 50), lesion("L2", 20, "lung")]
    [result] = evaluate_timepoints(
        baseline, [visit(42, mm("L1", 90), state("L2", LesionState.NOT_EVALUATED))], CONFIRM
    )
    assert result.target is T.PD  # 90 alone is already +29 % and +20 mm over 70
    assert result.overall is R.PD
    assert result.sum_mm is None


def test_all_scans_missing_is_ne() -> None:
    [result] = evaluate_timepoints(
        [lesion("L1", 40), lesion("N1", 12, "portal", nodal=True, target=False)],
        [visit(42, nt=NT.NE)],
        CONFIRM,
    )
    assert result.overall is R.NE


# --------------------------------------------------------------------------------------
# EORTC: a PR is kept until PD
# --------------------------------------------------------------------------------------


def test_eortc_sequence_stays_pr_until_pd() -> None:
    results = one_lesion_course(100, [(42, 70), (84, 70), (126, 80), (168, 80), (210, 80)], CONFIRM)
    assert [r.target for r in results] == [T.PR] * 5
    assert [r.overall for r in results] == [R.PR] * 5
    assert results[2].change_from_baseline_pct == pytest.approx(-20.0)
    assert results[2].change_from_nadir_pct == pytest.approx(14.2857, abs=1e-3)
    best = best_overall_response(results, CONFIRM)
    assert best.bor is R.PR
    assert best.confirmed
    assert (best.first_response_day, best.confirmation_day) == (42, 84)


def test_kept_pr_ends_with_pd() -> None:
    results = one_lesion_course(100, [(42, 70), (84, 70), (126, 80), (168, 84)], CONFIRM)
    assert [r.target for r in results] == [T.PR, T.PR, T.PR, T.PD]  # 84 = +20 % and +14 mm
    assert best_overall_response(results, CONFIRM).progression_day == 168


def test_unconfirmed_pr_is_not_kept() -> None:
    results = one_lesion_course(100, [(42, 70), (84, 80)], CONFIRM)
    assert [r.target for r in results] == [T.PR, T.SD]
    best = best_overall_response(results, CONFIRM)
    assert best.bor is R.SD
    assert not best.confirmed
    assert best.stable_day == 42


def test_pr_is_kept_at_once_when_confirmation_is_not_required() -> None:
    results = one_lesion_course(100, [(42, 70), (84, 80)], NO_CONFIRM)
    assert [r.target for r in results] == [T.PR, T.PR]


# --------------------------------------------------------------------------------------
# best overall response: confirmation and minimum SD duration (Eisenhauer 2009 table 3)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ([(42, R.CR), (84, R.CR)], R.CR),
        ([(42, R.CR), (84, R.PR)], R.SD),  # disease back after CR (table 3 footnote a)
        ([(42, R.CR), (56, R.PR)], R.SD),  # PR only 14 days later: not confirmed
        ([(21, R.CR), (35, R.PR)], R.PD),  # disease back after CR, SD duration not met
        ([(42, R.CR), (84, R.SD)], R.SD),
        ([(21, R.CR), (35, R.SD)], R.PD),
        ([(42, R.CR), (84, R.PD)], R.SD),
        ([(21, R.CR), (35, R.PD)], R.PD),
        ([(42, R.CR), (84, R.NE)], R.SD),
        ([(21, R.CR), (35, R.NE)], R.NE),
        ([(42, R.PR), (84, R.CR)], R.PR),
        ([(42, R.PR), (84, R.PR)], R.PR),
        ([(42, R.PR), (70, R.PR)], R.PR),  # exactly 28 days later
        ([(42, R.PR), (69, R.PR)], R.SD),  # 27 days: not confirmed
        ([(42, R.PR), (84, R.SD)], R.SD),
        ([(42, R.PR), (84, R.PD)], R.SD),
        ([(21, R.PR), (35, R.PD)], R.PD),
        ([(42, R.PR), (84, R.NE)], R.SD),
        ([(21, R.PR), (35, R.NE)], R.NE),
        ([(42, R.NE), (84, R.NE)], R.NE),
        # confirmation across an NE scan, not across an SD scan
        ([(42, R.CR), (56, R.NE), (84, R.CR)], R.CR),
        ([(42, R.PR), (84, R.SD), (126, R.PR)], R.SD),
        # a later confirmed response counts
        ([(42, R.SD), (84, R.PR), (126, R.PR)], R.PR),
        # nothing after PD counts
        ([(42, R.PD), (84, R.PR), (126, R.PR)], R.PD),
    ],
)
def test_bor_with_confirmation(sequence: list[tuple[int, Response]], expected: Response) -> None:
    best = best_overall_response([tp(day, response) for day, response in sequence], CONFIRM)
    assert best.bor is expected


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ([(35, R.SD)], R.NE),  # SD too early
        ([(35, R.SD), (70, R.PD)], R.PD),
        ([(42, R.SD)], R.SD),
        ([(35, R.SD), (77, R.SD)], R.SD),
        ([(42, R.PD)], R.PD),
        ([(35, R.NE), (77, R.PD)], R.PD),
        ([], R.NE),
    ],
)
def test_bor_minimum_sd_duration(sequence: list[tuple[int, Response]], expected: Response) -> None:
    best = best_overall_response([tp(day, response) for day, response in sequence], CONFIRM)
    assert best.bor is expected


def test_min_sd_days_is_a_protocol_parameter() -> None:
    settings = ResponseSettings(confirmation_required=True, min_sd_days=56)
    assert best_overall_response([tp(42, R.SD)], settings).bor is R.NE
    assert best_overall_response([tp(56, R.SD)], settings).bor is R.SD


def test_confirmation_min_days_is_a_protocol_parameter() -> None:
    settings = ResponseSettings(confirmation_required=True, confirmation_min_days=42)
    points = [tp(42, R.PR), (tp(77, R.PR))]
    assert best_overall_response(points, settings).bor is R.SD
    assert best_overall_response(points, CONFIRM).bor is R.PR


def test_confirmed_cr_result_fields() -> None:
    best = best_overall_response(
        [tp(42, R.PR), tp(84, R.CR), tp(126, R.CR), tp(168, R.PD)], CONFIRM
    )
    assert best.bor is R.CR
    assert best.confirmed
    assert best.first_response_day == 42  # duration of response starts at the first PR
    assert best.confirmation_day == 126
    assert best.progression_day == 168
    assert best.timepoint_days == (42, 84, 126, 168)
    assert best.is_responder and best.is_disease_control


def test_first_response_day_belongs_to_the_confirmed_cr() -> None:
    points = [tp(42, R.PR), tp(84, R.PR), tp(126, R.SD), tp(168, R.PR), tp(210, R.CR)]
    points.append(tp(252, R.CR))
    best = best_overall_response(points, CONFIRM)
    assert best.bor is R.CR
    assert (best.first_response_day, best.confirmation_day) == (168, 252)


def test_unconfirmed_response_counts_when_confirmation_not_required() -> None:
    best = best_overall_response([tp(21, R.PR)], NO_CONFIRM)
    assert best.bor is R.PR
    assert not best.confirmed
    assert best.first_response_day == 21
    best = best_overall_response([tp(42, R.CR), tp(56, R.PR)], NO_CONFIRM)
    assert best.bor is R.CR


def test_unconfirmed_response_falls_back_to_sd() -> None:
    best = best_overall_response([tp(42, R.PR), tp(84, R.SD)], CONFIRM)
    assert best.bor is R.SD
    assert not best.confirmed
    assert best.first_response_day is None
    assert best.stable_day == 42
    assert not best.is_responder and best.is_disease_control


def test_unconfirmed_cr_without_target_disease_is_non_cr_non_pd() -> None:
    points = [tp(42, R.CR, target_disease=False), tp(56, R.NON_CR_NON_PD, target_disease=False)]
    assert best_overall_response(points, CONFIRM).bor is R.NON_CR_NON_PD


# --------------------------------------------------------------------------------------
# best % change (waterfall) and recorded responses
# --------------------------------------------------------------------------------------


def test_best_percent_change() -> None:
    baseline = [lesion("L1", 60), lesion("L2", 40, "lung")]
    results = evaluate_timepoints(
        baseline,
        [
            visit(42, mm("L1", 50), mm("L2", 30)),  # -20 %
            visit(84, mm("L1", 35), mm("L2", 25)),  # -40 %
            visit(126, mm("L1", 20), state("L2", LesionState.NOT_EVALUATED)),  # NE: no sum
            visit(168, mm("L1", 60), mm("L2", 20)),  # 80: +33 % from nadir 60 -> PD
            visit(210, mm("L1", 10), mm("L2", 10)),  # after PD: not counted
        ],
        CONFIRM,
    )
    best = best_overall_response(results, CONFIRM)
    assert best.best_change_pct == pytest.approx(-40.0)
    assert best.bor is R.SD  # the PR of day 84 is never confirmed (NE, then PD)
    assert best.timepoint_days == (42, 84, 126, 168)


def test_best_percent_change_can_be_positive() -> None:
    best = best_overall_response(one_lesion_course(50, [(42, 65)]), CONFIRM)
    assert best.bor is R.PD
    assert best.best_change_pct == pytest.approx(30.0)


def test_recorded_response_is_used_as_given() -> None:
    results = evaluate_timepoints(
        [lesion("L1", 50)],
        [
            visit(42, recorded_response=R.PR),  # central review, no local measurements
            visit(84, mm("L1", 40), recorded_response="PR"),  # calculated SD, recorded PR
            visit(126, mm("L1", 30)),
        ],
        CONFIRM,
    )
    assert [r.overall for r in results] == [R.PR, R.PR, R.PR]
    assert [r.calculated for r in results] == [R.NE, R.SD, R.PR]
    assert [r.recorded for r in results] == [True, True, False]
    best = best_overall_response(results, CONFIRM)
    assert best.bor is R.PR
    assert best.confirmed
    assert best.any_recorded


def test_no_recorded_flag_without_recorded_response() -> None:
    best = best_overall_response(one_lesion_course(50, [(42, 30), (84, 30)]), CONFIRM)
    assert not best.any_recorded


def test_parse_response() -> None:
    assert parse_response("SD") is R.SD
    assert parse_response("iUPD") is I.IUPD
    assert recist_equivalent(I.ICPD) is R.PD
    with pytest.raises(ValueError):
        parse_response("XX")


# --------------------------------------------------------------------------------------
# progression dating
# --------------------------------------------------------------------------------------


def test_equivocal_new_lesion_backdates_progression() -> None:
    baseline = [lesion("L1", 50)]
    results = evaluate_timepoints(
        baseline,
        [
            visit(42, mm("L1", 45), new=NEW.EQUIVOCAL),
            visit(84, mm("L1", 45), new=NEW.UNEQUIVOCAL, new_lesion_first_seen_day=42),
        ],
        CONFIRM,
    )
    assert [r.overall for r in results] == [R.SD, R.PD]
    assert results[1].progression_onset_day == 42
    assert best_overall_response(results, CONFIRM).progression_day == 42


# --------------------------------------------------------------------------------------
# iRECIST
# --------------------------------------------------------------------------------------


def test_irecist_iupd_confirmed_as_icpd() -> None:
    results = one_lesion_course(100, [(42, 130), (84, 136)], IRECIST)
    assert [r.iresponse for r in results] == [I.IUPD, I.ICPD]
    assert [r.overall for r in results] == [R.PD, R.PD]
    best = best_overall_response(results, IRECIST)
    assert best.bor is I.ICPD
    assert best.progression_day == 42  # progression is dated to the iUPD
    # the same time points read by RECIST 1.1
    assert best_overall_response(results, CONFIRM).progression_day == 42


def test_irecist_iupd_without_further_increase_stays_unconfirmed() -> None:
    results = one_lesion_course(100, [(42, 130), (84, 134)], IRECIST)  # only +4 mm
    assert [r.iresponse for r in results] == [I.IUPD, I.IUPD]
    best = best_overall_response(results, IRECIST)
    assert best.bor is I.IUPD
    assert best.progression_day is None
    assert best.unconfirmed_progression_day == 42


def test_irecist_reset_by_isd() -> None:
    results = one_lesion_course(100, [(42, 130), (84, 110), (126, 136), (168, 142)], IRECIST)
    assert [r.iresponse for r in results] == [I.IUPD, I.ISD, I.IUPD, I.ICPD]
    best = best_overall_response(results, IRECIST)
    assert best.bor is I.ISD
    assert best.stable_day == 84
    assert best.progression_day == 126  # the iUPD after the reset, not the first one


def test_irecist_response_after_iupd_counts() -> None:
    results = one_lesion_course(100, [(42, 130), (84, 60), (126, 55)], IRECIST)
    assert [r.iresponse for r in results] == [I.IUPD, I.IPR, I.IPR]
    best = best_overall_response(results, IRECIST)
    assert best.bor is I.IPR
    assert best.confirmed
    # RECIST 1.1 stops at the first PD
    assert best_overall_response(results, CONFIRM).bor is R.PD


def test_irecist_confirmation_scan_too_early() -> None:
    results = one_lesion_course(100, [(42, 130), (56, 140), (84, 140)], IRECIST)
    assert [r.iresponse for r in results] == [I.IUPD, I.IUPD, I.ICPD]
    assert any("not confirmable" in note for note in results[1].notes)


def test_irecist_late_confirmation_still_confirms_with_note() -> None:
    results = one_lesion_course(100, [(42, 130), (112, 140)], IRECIST)
    assert [r.iresponse for r in results] == [I.IUPD, I.ICPD]
    assert any("window" in note for note in results[1].notes)


def test_irecist_window_is_a_parameter() -> None:
    settings = ResponseSettings(
        confirmation_required=True,
        criteria="iRECIST",
        iupd_confirmation_min_days=42,
        iupd_confirmation_max_days=84,
    )
    assert settings.criteria is Criteria.IRECIST
    results = one_lesion_course(100, [(42, 130), (70, 140)], settings)
    assert [r.iresponse for r in results] == [I.IUPD, I.IUPD]


def test_irecist_new_lesion_growth_confirms() -> None:
    baseline = [lesion("L1", 50)]
    results = evaluate_timepoints(
        baseline,
        [
            visit(42, mm("L1", 48), new=NEW.UNEQUIVOCAL),
            visit(84, mm("L1", 48), new=NEW.UNEQUIVOCAL),
            visit(126, mm("L1", 48), new=NEW.UNEQUIVOCAL, new_lesions_increased=True),
        ],
        IRECIST,
    )
    assert [r.iresponse for r in results] == [I.IUPD, I.IUPD, I.ICPD]


def test_irecist_non_target_increase_confirms() -> None:
    baseline = [lesion("L1", 50), lesion("P1", 15, "peritoneum", target=False)]
    results = evaluate_timepoints(
        baseline,
        [
            visit(42, mm("L1", 48), nt=NT.PD),
            visit(84, mm("L1", 48), nt=NT.PD, nontarget_increased=True),
        ],
        IRECIST,
    )
    assert [r.iresponse for r in results] == [I.IUPD, I.ICPD]


def test_irecist_progression_in_a_new_category_confirms() -> None:
    results = evaluate_timepoints(
        [lesion("L1", 100)],
        [visit(42, mm("L1", 130)), visit(84, mm("L1", 128), new=NEW.UNEQUIVOCAL)],
        IRECIST,
    )
    assert [r.iresponse for r in results] == [I.IUPD, I.ICPD]


def test_irecist_recorded_labels_are_used() -> None:
    results = evaluate_timepoints(
        [lesion("L1", 100)],
        [visit(42, recorded_response="iUPD"), visit(84, recorded_response=I.ICPD)],
        IRECIST,
    )
    assert [r.iresponse for r in results] == [I.IUPD, I.ICPD]
    assert [r.overall for r in results] == [R.PD, R.PD]
    assert best_overall_response(results, IRECIST).progression_day == 42


# --------------------------------------------------------------------------------------
# baseline selection
# --------------------------------------------------------------------------------------

ORGANS = ["liver", "lung", "adrenal", "spleen", "peritoneum", "bone"]


@pytest.mark.parametrize(
    ("lesions", "expected"),
    [
        pytest.param(
            [lesion(f"L{i}", 20, organ) for i, organ in enumerate(ORGANS, start=1)],
            [("L6", "too_many_targets")],
            id="six-targets",
        ),
        pytest.param(
            [lesion("L1", 20), lesion("L2", 25), lesion("L3", 30)],
            [("L3", "too_many_targets_in_organ")],
            id="three-in-one-organ",
        ),
        pytest.param(
            [lesion("L1", 20, "Liver"), lesion("L2", 25, " liver "), lesion("L3", 30, "LIVER")],
            [("L3", "too_many_targets_in_organ")],
            id="organ-names-normalised",
        ),
        pytest.param(
            [node("N1", 20, "hilar"), node("N2", 18, "mediastinal"), node("N3", 16, "para-aortic")],
            [("N3", "too_many_targets_in_organ")],
            id="three-nodes-in-different-stations",
        ),
        pytest.param([lesion("L1", 9)], [("L1", "target_too_small")], id="9mm-non-nodal"),
        pytest.param([node("N1", 14, "hilar")], [("N1", "nodal_target_too_small")], id="14mm-node"),
        pytest.param([node("N1", 9, "hilar")], [("N1", "normal_node_target")], id="normal-node"),
        pytest.param([lesion("L1", 30, ablated=True)], [("L1", "ablated_target")], id="ablated"),
        pytest.param([lesion("L1", -12)], [("L1", "invalid_diameter")], id="negative"),
        pytest.param([lesion("L1", 0)], [("L1", "invalid_diameter")], id="zero"),
        pytest.param([lesion("L1", 501)], [("L1", "invalid_diameter")], id="absurd"),
        pytest.param([lesion("L1", float("nan"))], [("L1", "invalid_diameter")], id="nan"),
        pytest.param(
            [lesion("L1", 20), lesion("L1", 30, "lung")], [("L1", "duplicate_id")], id="duplicate"
        ),
        pytest.param([lesion("", 20)], [("", "missing_id")], id="missing-id"),
        pytest.param([lesion("L1", 20, " ")], [("L1", "missing_organ")], id="missing-organ"),
    ],
)
def test_baseline_selection_errors(lesions: list[Lesion], expected: list[tuple[str, str]]) -> None:
    assert codes(validate_baseline(lesions)) == expected


def test_baseline_error_carries_field_and_message() -> None:
    [error] = validate_baseline([node("N1", 14, "hilar")])
    assert error.field == "diameter_mm"
    assert "15" in error.message and "non-target" in error.message
    [error] = validate_baseline([lesion("L1", 30, ablated=True)])
    assert error.field == "target"
    [error] = validate_baseline([node("N1", 20, "a"), node("N2", 20, "b"), node("N3", 20, "c")])
    assert error.field == "organ"
    assert "lymph node" in error.message


def test_valid_baseline_at_the_thresholds() -> None:
    lesions = [
        lesion("L1", 10),  # exactly 10 mm non-nodal
        node("N1", 15, "hilar"),  # exactly 15 mm node
        lesion("L2", 500, "lung"),
        node("N2", 12, "portal", target=False),  # pathological, non-target
        node("N3", 8, "portal", target=False),  # normal node: allowed as non-target
        lesion("L3", 40, "liver", target=False, ablated=True),  # ablated non-target
        lesion("A1", 0, "peritoneum", target=False),  # ascites
    ]
    assert validate_baseline(lesions) == []
    assert validate_baseline([]) == []


def test_invalid_baseline_is_refused_by_evaluation() -> None:
    with pytest.raises(RecistInputError) as excinfo:
        evaluate_timepoints([lesion("L1", 9)], [visit(42, mm("L1", 9))], CONFIRM)
    assert codes(list(excinfo.value.errors)) == [("L1", "target_too_small")]


# --------------------------------------------------------------------------------------
# follow-up validation
# --------------------------------------------------------------------------------------

FOLLOWUP_BASELINE = [
    lesion("L1", 30),
    lesion("L2", 20, "lung"),
    node("N1", 20, "hilar"),
    lesion("P1", 15, "peritoneum", target=False),
]


@pytest.mark.parametrize(
    ("assessment", "expected"),
    [
        pytest.param(
            visit(42, mm("X9", 10), nt=NT.NON_CR_NON_PD), [("X9", "unknown_lesion")], id="unknown"
        ),
        pytest.param(
            visit(42, mm("L1", -3), nt=NT.NON_CR_NON_PD), [("L1", "invalid_diameter")], id="neg"
        ),
        pytest.param(
            visit(42, mm("L1", 900), nt=NT.NON_CR_NON_PD), [("L1", "invalid_diameter")], id="absurd"
        ),
        pytest.param(
            visit(42, LesionMeasurement("L1"), nt=NT.NON_CR_NON_PD),
            [("L1", "invalid_diameter")],
            id="measured-without-value",
        ),
        pytest.param(
            visit(0, mm("L1", 30), nt=NT.NON_CR_NON_PD), [("", "not_after_baseline")], id="day-0"
        ),
        pytest.param(
            visit(-7, nt=NT.NON_CR_NON_PD), [("", "not_after_baseline")], id="before-baseline"
        ),
        pytest.param(
            visit(42, mm("P1", 15), nt=NT.NON_CR_NON_PD), [("P1", "not_a_target")], id="non-target"
        ),
        pytest.param(
            visit(42, mm("L1", 30), mm("L1", 31), nt=NT.NON_CR_NON_PD),
            [("L1", "duplicate_id")],
            id="measured-twice",
        ),
        pytest.param(
            visit(42, state("L2", LesionState.MERGED), nt=NT.NON_CR_NON_PD),
            [("L2", "merge_target_missing")],
            id="merged-without-target",
        ),
        pytest.param(
            visit(42, state("L2", LesionState.MERGED, merged_into="L2"), nt=NT.NON_CR_NON_PD),
            [("L2", "invalid_merge_target")],
            id="merged-into-itself",
        ),
        pytest.param(
            visit(42, state("N1", LesionState.MERGED, merged_into="L1"), nt=NT.NON_CR_NON_PD),
            [("N1", "invalid_merge_target")],
            id="node-merged-into-organ-lesion",
        ),
        pytest.param(
            visit(42, state("L1", LesionState.DISAPPEARED, diameter_mm=4.0), nt=NT.NON_CR_NON_PD),
            [("L1", "diameter_with_state")],
            id="disappeared-with-diameter",
        ),
        pytest.param(visit(42, mm("L1", 30)), [("", "nontarget_status_missing")], id="nt-none"),
        pytest.param(
            visit(42, nt=NT.NON_CR_NON_PD, new_lesions_increased=True),
            [("", "inconsistent_flag")],
            id="growth-without-new-lesion",
        ),
    ],
)
def test_followup_errors(assessment: Assessment, expected: list[tuple[str, str]]) -> None:
    assert codes(validate_followup(FOLLOWUP_BASELINE, assessment)) == expected


def test_followup_valid_with_all_states() -> None:
    assessment = visit(
        42,
        state("L1", LesionState.TOO_SMALL),
        state("L2", LesionState.DISAPPEARED),
        state("N1", LesionState.NOT_EVALUATED),
        nt=NT.NON_CR_NON_PD,
    )
    assert validate_followup(FOLLOWUP_BASELINE, assessment) == []


def test_nontarget_status_without_nontarget_lesions_is_an_error() -> None:
    errors = validate_followup([lesion("L1", 30)], visit(42, mm("L1", 30), nt=NT.CR))
    assert codes(errors) == [("", "nontarget_status_without_lesions")]


def test_duplicate_assessment_days_are_refused() -> None:
    with pytest.raises(RecistInputError, match="two assessments on day 42"):
        one_lesion_course(50, [(42, 40), (42, 41)])


def test_assessments_are_evaluated_in_day_order() -> None:
    results = evaluate_timepoints(
        [lesion("L1", 100)], [visit(84, mm("L1", 61)), visit(42, mm("L1", 50))], CONFIRM
    )
    assert [(r.day, r.target) for r in results] == [(42, T.PR), (84, T.PD)]


# --------------------------------------------------------------------------------------
# response of the lesions not ablated on study
# --------------------------------------------------------------------------------------


def test_non_ablated_response_is_reported_apart() -> None:
    baseline = [
        lesion("L1", 50, ablated_on_study=True),
        lesion("L2", 30, "lung"),
        node("N1", 20, "hilar"),
    ]
    assessments = [visit(42, mm("L1", 10), mm("L2", 33), mm("N1", 22))]
    [everything] = evaluate_timepoints(baseline, assessments, CONFIRM)
    [non_ablated] = evaluate_non_ablated(baseline, assessments, CONFIRM)
    assert (everything.sum_mm, everything.target) == (65, T.PR)
    assert non_ablated.baseline_sum_mm == 50
    assert non_ablated.sum_mm == 55
    assert non_ablated.change_from_baseline_pct == pytest.approx(10.0)
    assert non_ablated.target is T.SD


def test_non_ablated_response_ignores_recorded_responses_and_keeps_new_lesions() -> None:
    baseline = [lesion("L1", 50, ablated_on_study=True), lesion("L2", 30, "lung")]
    assessments = [
        visit(42, mm("L1", 10), mm("L2", 20), recorded_response=R.SD),
        visit(84, mm("L1", 10), mm("L2", 20), new=NEW.UNEQUIVOCAL),
    ]
    results = evaluate_non_ablated(baseline, assessments, CONFIRM)
    assert [r.recorded for r in results] == [False, False]
    assert [r.overall for r in results] == [R.PR, R.PD]


def test_non_ablated_merged_into_ablated_lesion_is_not_evaluated() -> None:
    baseline = [lesion("L1", 50, ablated_on_study=True), lesion("L2", 30)]
    assessments = [visit(42, mm("L1", 60), state("L2", LesionState.MERGED, merged_into="L1"))]
    [result] = evaluate_non_ablated(baseline, assessments, CONFIRM)
    assert result.target is T.NE


def test_non_ablated_response_empty_when_all_targets_ablated() -> None:
    baseline = [lesion("L1", 50, ablated_on_study=True)]
    assert evaluate_non_ablated(baseline, [visit(42, mm("L1", 10))], CONFIRM) == []


# --------------------------------------------------------------------------------------
# data types
# --------------------------------------------------------------------------------------


def test_data_types_accept_stored_strings() -> None:
    assessment = Assessment(42, [LesionMeasurement("L1", None, "too_small")], "NONE", "none")  # type: ignore[arg-type]
    assert assessment.measurements[0].state is LesionState.TOO_SMALL
    assert assessment.measurements[0].effective_mm == 5
    assert assessment.non_target is NT.NONE
    assert isinstance(assessment.measurements, tuple)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        ResponseSettings(confirmation_required=True, min_sd_days=-1)
    with pytest.raises(ValueError):
        ResponseSettings(
            confirmation_required=True, iupd_confirmation_min_days=56, iupd_confirmation_max_days=28
        )


def test_best_overall_response_is_frozen() -> None:
    best = best_overall_response([], CONFIRM)
    assert isinstance(best, BestOverallResponse)
    assert best.bor is R.NE
    with pytest.raises(AttributeError):
        best.bor = R.CR  # type: ignore[misc]
