"""RECIST data: thresholds, response labels, the input records and a time point's result.

Plain frozen dataclasses and enums; every other module of the engine builds on these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
