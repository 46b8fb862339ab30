"""iRECIST (Seymour et al., Lancet Oncol 2017): the iUPD -> iCPD confirmation state
machine that labels each time point after its RECIST 1.1 response.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import (
    _EPS,
    _IRECIST_OF,
    ICPD_FURTHER_INCREASE_MM,
    Assessment,
    IResponse,
    NewLesions,
    NonTargetStatus,
    Response,
    ResponseSettings,
    TargetResponse,
)


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
