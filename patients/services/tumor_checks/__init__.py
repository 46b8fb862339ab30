"""Checks behind the tumour-assessment services (``patients.services.tumor``).

Reading the rows a form or the API sends (lesions at baseline, measurements at a
follow-up), checking dates, running the RECIST engine's ``validate_baseline`` /
``validate_followup`` and translating each ``SelectionError`` into a message that names
the row and the field: ``lesions[i].<field>`` / ``measurements[i].<field>`` (``i`` is the
0-based position in the list given), ``assessment_date``, ``method``, ... for the
assessment, and ``__all__`` for selection limits ("Lesion T6: at most 5 target lesions").
Nothing here writes.

A package in three parts: ``common`` (limits, the error dict, plain-value readers,
scan-date / visit / method checks), ``baseline`` (lesion rows and the selection rules) and
``followup`` (measurement rows and the follow-up rules); the names are re-exported here.
"""

from __future__ import annotations

from .baseline import (
    LesionRow,
    assign_codes,
    baseline_message,
    check_baseline_date,
    check_followups_still_fit,
    check_lesion_selection,
    check_non_target_present,
    engine_lesion,
    lesion_rows,
    non_target_present_in,
)
from .common import (
    BASELINE_WINDOW_DAYS,
    CODE_MAX,
    LOCATION_MAX,
    MAX_MM,
    NOTES_MAX,
    ORGAN_MAX,
    SOURCE_MAX,
    Errors,
    add_error,
    as_bool,
    assessment_day0,
    check_choice,
    check_common,
    check_scan_date,
    check_visit,
    clean_text,
    diameter_problem,
    fmt_date,
    fmt_mm,
    parse_number,
    patient_baseline,
    raise_if_any,
)
from .followup import (
    FollowupInput,
    MeasurementRow,
    check_followup,
    followup_input,
    followup_message,
    measurement_rows,
    parse_fragments,
    resolve_lesion,
)

__all__ = [
    "BASELINE_WINDOW_DAYS",
    "CODE_MAX",
    "LOCATION_MAX",
    "MAX_MM",
    "NOTES_MAX",
    "ORGAN_MAX",
    "SOURCE_MAX",
    "Errors",
    "FollowupInput",
    "LesionRow",
    "MeasurementRow",
    "add_error",
    "as_bool",
    "assessment_day0",
    "assign_codes",
    "baseline_message",
    "check_baseline_date",
    "check_choice",
    "check_common",
    "check_followup",
    "check_followups_still_fit",
    "check_lesion_selection",
    "check_non_target_present",
    "check_scan_date",
    "check_visit",
    "clean_text",
    "diameter_problem",
    "engine_lesion",
    "fmt_date",
    "fmt_mm",
    "followup_input",
    "followup_message",
    "lesion_rows",
    "measurement_rows",
    "non_target_present_in",
    "parse_fragments",
    "parse_number",
    "patient_baseline",
    "raise_if_any",
    "resolve_lesion",
]
