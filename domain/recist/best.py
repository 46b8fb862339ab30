"""Best overall response (RECIST 1.1 BOR, iRECIST iBOR) and its confirmation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from .model import (
    _IRECIST_OF,
    Criteria,
    IResponse,
    Response,
    ResponseSettings,
    TimepointResult,
)

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
