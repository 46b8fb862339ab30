"""Best overall response with confirmation: every CR/PR/SD/PD/NE sequence of length <= 4.

The expected values are written from the text, not from the engine:

RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228-47), section 4.6.1: "To be
assigned a status of PR or CR, changes in tumour measurements must be confirmed by
repeat assessments that should be performed no less than 4 weeks after the criteria for
response are first met." and "In the case of SD, measurements must have met the SD
criteria at least once after study entry at a minimum interval (in general not less than
6-8 weeks)". Table 3 (best overall response when confirmation of CR and PR is required):

    first   subsequent   best overall response
    CR      CR           CR
    CR      PR           SD, PD or PR (footnote a)
    CR      SD           SD if the minimum SD duration is met, otherwise PD
    CR      PD           SD if the minimum SD duration is met, otherwise PD
    CR      NE           SD if the minimum SD duration is met, otherwise NE
    PR      CR           PR
    PR      PR           PR
    PR      SD           SD
    PR      PD           SD if the minimum SD duration is met, otherwise PD
    PR      NE           SD if the minimum SD duration is met, otherwise NE
    NE      NE           NE

Footnote (a): "If a CR is truly met at first time point, then any disease seen at a
subsequent time point, even disease meeting PR criteria relative to baseline, makes the
disease PD at that point (since disease must have reappeared after CR). Best response
would depend on whether minimum duration for SD was met. However, sometimes 'CR' may be
claimed when subsequent scans suggest small lesions were likely still present and in
fact the patient had PR, not CR at the first time point. Under these circumstances, the
original CR should be changed to PR and the best response is PR."

Rules read from that text (and the same for iRECIST, Seymour et al., Lancet Oncol
2017;18:e143-52, whose iCR/iPR confirmation follows RECIST 1.1; iUPD is not a response
and breaks a confirmation sequence; iCPD ends the evaluation as PD does):

1. Only assessments up to and including the first PD count.
2. A CR at t is confirmed by a CR at t' >= t + interval with only CR/NE between.
3. A PR at t is confirmed by a CR or PR at t' >= t + interval, everything from t to t'
   meeting the response criteria in sequence: only CR/PR/NE, and no PR after a CR
   (footnote a: that PR is disease seen again after a CR). So PR -> CR -> PR with the CR
   too early to confirm gives SD, which is what the reference derivations (admiralonco's
   ``derive_param_confirm_bor``) give; PR -> CR with the CR late enough gives PR.
4. BOR = CR if some CR is confirmed, else PR if some PR is confirmed, else SD if a CR,
   PR or SD was seen at or after the minimum SD duration, else PD if a PD was seen or a
   PR/SD followed a CR (footnote a), else NE. The third option of the CR -> PR row (PR)
   applies only once a reader has re-read the CR as a PR; that re-reading reaches the
   engine as a recorded time-point response, so from the labels alone CR -> PR is SD/PD.

The interval for confirmation and the minimum SD duration are protocol parameters; the
exhaustive check runs each sequence on several schedules (scan every 3, 4, 6 or 8 weeks)
and parameter sets, so that "late enough" and "too early" both occur.
"""

from __future__ import annotations

import itertools

import pytest

from domain.recist import (
    Criteria,
    IResponse,
    NewLesions,
    NonTargetStatus,
    Response,
    ResponseSettings,
    TargetResponse,
    TimepointResult,
    best_overall_response,
    recist_equivalent,
)

R = Response
I = IResponse  # noqa: E741
LETTERS = ("CR", "PR", "SD", "PD", "NE")

RECIST_OF = {"CR": R.CR, "PR": R.PR, "SD": R.SD, "PD": R.PD, "NE": R.NE}
IRECIST_OF = {"CR": I.ICR, "PR": I.IPR, "SD": I.ISD, "PD": I.ICPD, "NE": I.INE, "UPD": I.IUPD}


def point(day: int, letter: str, *, irecist: bool = False) -> TimepointResult:
    label = IRECIST_OF[letter] if irecist else RECIST_OF[letter]
    overall = recist_equivalent(label)
    return TimepointResult(
        day=day,
        target=TargetResponse.SD,
        non_target=NonTargetStatus.NONE,
        new_lesions=NewLesions.NONE,
        calculated=overall,
        overall=overall,
        iresponse=label if irecist else IRECIST_OF[letter if letter != "PD" else "UPD"],
        progression_onset_day=day if letter in ("PD", "UPD") else None,
    )


def expected_bor(
    seq: tuple[str, ...], days: list[int], interval: int, min_sd: int, *, irecist: bool = False
) -> str:
    """The rules of the module docstring, applied literally. Under iRECIST, disease seen
    again after a CR is unconfirmed progression (iUPD) until a later scan confirms it."""
    if "PD" in seq:
        cut = seq.index("PD") + 1
        seq, days = seq[:cut], days[:cut]

    def confirmed(i: int) -> bool:
        kind = seq[i]
        between: list[str] = []
        for j in range(i + 1, len(seq)):
            here = seq[j]
            if kind == "CR" and here not in ("CR", "NE"):
                return False
            if kind == "PR":
                if here not in ("CR", "PR", "NE"):
                    return False
                if here == "PR" and ("CR" in between):
                    return False
            if here != "NE" and days[j] - days[i] >= interval:
                return True
            between.append(here)
        return False

    if any(s == "CR" and confirmed(i) for i, s in enumerate(seq)):
        return "CR"
    if any(s == "PR" and confirmed(i) for i, s in enumerate(seq)):
        return "PR"
    if any(s in ("CR", "PR", "SD") and days[i] >= min_sd for i, s in enumerate(seq)):
        return "SD"
    if "PD" in seq:
        return "PD"
    if "CR" in seq and any(s in ("PR", "SD") for s in seq[seq.index("CR") + 1 :]):
        return "UPD" if irecist else "PD"
    if "UPD" in seq:
        return "UPD"
    return "NE"


# (scan interval in days, confirmation interval, minimum SD duration)
SCHEDULES = [(42, 28, 42), (21, 28, 42), (28, 28, 56), (56, 28, 42), (21, 42, 35), (14, 28, 42)]

SEQUENCES = [seq for n in range(1, 5) for seq in itertools.product(LETTERS, repeat=n)]


@pytest.mark.parametrize(("step", "interval", "min_sd"), SCHEDULES)
def test_every_recist_sequence_up_to_four(step: int, interval: int, min_sd: int) -> None:
    settings = ResponseSettings(
        confirmation_required=True, confirmation_min_days=interval, min_sd_days=min_sd
    )
    wrong = []
    for seq in SEQUENCES:
        days = [step * (k + 1) for k in range(len(seq))]
        got = best_overall_response(
            [point(d, s) for d, s in zip(days, seq, strict=True)], settings
        ).bor
        want = RECIST_OF[expected_bor(seq, days, interval, min_sd)]
        if got is not want:
            wrong.append(("-".join(seq), str(got), str(want)))
    assert len(SEQUENCES) == 5 + 25 + 125 + 625
    assert wrong == []


@pytest.mark.parametrize(("step", "interval", "min_sd"), SCHEDULES)
def test_every_irecist_sequence_up_to_four(step: int, interval: int, min_sd: int) -> None:
    """iRECIST: the same rules on iCR/iPR/iSD/iNE, with unconfirmed iUPD (which is no
    response and breaks a sequence) and iCPD (which ends it)."""
    settings = ResponseSettings(
        confirmation_required=True,
        confirmation_min_days=interval,
        min_sd_days=min_sd,
        criteria=Criteria.IRECIST,
    )
    letters = ("CR", "PR", "SD", "UPD", "NE", "PD")
    wrong = []
    for n in range(1, 5):
        for seq in itertools.product(letters, repeat=n):
            days = [step * (k + 1) for k in range(n)]
            got = best_overall_response(
                [point(d, s, irecist=True) for d, s in zip(days, seq, strict=True)], settings
            ).bor
            want = IRECIST_OF[expected_bor(seq, days, interval, min_sd, irecist=True)]
            if got is not want:
                wrong.append(("-".join(seq), str(got), str(want)))
    assert wrong == []


# Table 3 row by row, written out (scans on day 42 and 84: every pair is 6 weeks apart;
# SD duration 42 days is met at the first scan) and with the second scan too early
# (day 21 and 35: neither confirmation nor the SD duration).
TABLE_3 = [
    ("CR CR", "CR", "NE"),
    ("CR PR", "SD", "PD"),
    ("CR SD", "SD", "PD"),
    ("CR PD", "SD", "PD"),
    ("CR NE", "SD", "NE"),
    ("PR CR", "PR", "NE"),
    ("PR PR", "PR", "NE"),
    ("PR SD", "SD", "NE"),
    ("PR PD", "SD", "PD"),
    ("PR NE", "SD", "NE"),
    ("NE NE", "NE", "NE"),
    ("SD SD", "SD", "NE"),
    ("SD PD", "SD", "PD"),
]


@pytest.mark.parametrize(("pair", "late", "early"), TABLE_3)
def test_table_3_rows(pair: str, late: str, early: str) -> None:
    first, second = pair.split()
    settings = ResponseSettings(confirmation_required=True)
    slow = best_overall_response([point(42, first), point(84, second)], settings).bor
    fast = best_overall_response([point(21, first), point(35, second)], settings).bor
    assert slow is RECIST_OF[late]
    # early scans: nothing confirmed and the SD duration never met, so only PD, NE (or
    # PD for disease back after a CR) remain
    assert fast is RECIST_OF[early]


def test_pr_cr_pr_with_an_early_cr_is_sd() -> None:
    """The defect of issue 11: PR day 42, CR day 63, PR day 84 (confirmation 28 days).
    The CR is too early to confirm the PR and the PR of day 84 follows a CR: SD."""
    settings = ResponseSettings(confirmation_required=True)
    points = [point(42, "PR"), point(63, "CR"), point(84, "PR")]
    best = best_overall_response(points, settings)
    assert best.bor is R.SD
    assert not best.confirmed


def test_pr_cr_with_a_late_cr_confirms_pr() -> None:
    settings = ResponseSettings(confirmation_required=True)
    points = [point(42, "PR"), point(84, "CR"), point(126, "PR")]
    best = best_overall_response(points, settings)
    assert best.bor is R.PR
    assert (best.first_response_day, best.confirmation_day) == (42, 84)
