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

Layout of the package (``from domain.recist import X`` is the public interface):

* ``model``: thresholds, enums, ``Lesion`` / ``LesionMeasurement`` / ``Assessment`` /
  ``ResponseSettings`` and ``TimepointResult``;
* ``validation``: ``validate_baseline``, ``validate_followup``, ``RecistInputError``;
* ``rules``: target response and the overall time-point response table;
* ``irecist``: the iUPD -> iCPD confirmation state machine;
* ``timepoints``: ``evaluate_timepoints``, ``evaluate_non_ablated``;
* ``best``: ``best_overall_response`` and confirmation.
"""

from __future__ import annotations

from .best import BestOverallResponse, best_overall_response
from .model import (
    ICPD_FURTHER_INCREASE_MM,
    LYMPH_NODE_ORGAN,
    MAX_PLAUSIBLE_MM,
    MAX_TARGETS,
    MAX_TARGETS_PER_ORGAN,
    MIN_NODAL_TARGET_MM,
    MIN_TARGET_MM,
    NORMAL_NODE_MM,
    PD_INCREASE_MM,
    PD_INCREASE_PCT,
    PR_DECREASE_PCT,
    TOO_SMALL_MM,
    Assessment,
    Criteria,
    IResponse,
    Lesion,
    LesionMeasurement,
    LesionState,
    NewLesions,
    NonTargetStatus,
    Response,
    ResponseSettings,
    TargetResponse,
    TimepointResult,
    parse_response,
    recist_equivalent,
)
from .rules import overall_response
from .timepoints import evaluate_non_ablated, evaluate_timepoints
from .validation import (
    RecistInputError,
    SelectionError,
    validate_baseline,
    validate_followup,
)

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
