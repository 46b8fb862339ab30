"""Reads the database into the documented data-cut format (README, "Data cuts").

The header (trial settings, arms, sites), the patients (``patients.datacut``, the records
the per-patient outcome is computed from after every change), the lock the cut is taken
under and the clinical section feed ``export_datacut`` (a frozen file), ``analyze_datacut``
and the dashboard, so a re-analysis of a frozen cut uses one engine on one representation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from django.utils import timezone

from clinical.datacut import clinical_section
from domain.analysis import FORMAT, FORMAT_VERSION
from monitoring.services import lock_in_force
from patients.datacut import enrolled_patients, patient_record
from trials.models import Trial
from trials.selectors import trial_settings


def trial_header(trial: Trial, *, cutoff: date) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "cutoff_date": cutoff.isoformat(),
        "trial": trial_settings(trial),
        "arms": [
            {
                "code": a.code,
                "name": a.name,
                "allocation_ratio": a.allocation_ratio,
                "is_control": a.is_control,
            }
            for a in trial.arms.order_by("code")
        ],
        "sites": [
            {
                "code": ts.site.code,
                "name": ts.site.name,
                "name_local": ts.site.name_local,
                "city": ts.site.city,
                "enrollment_target": ts.enrollment_target,
                "status": ts.status,
            }
            for ts in trial.trial_sites.select_related("site").order_by("site__code")
        ],
    }


def iter_patient_records(trial: Trial) -> Iterator[dict[str, Any]]:
    """Stream patients in chunks so memory stays flat on large trials."""
    for patient in enrolled_patients(trial).iterator(chunk_size=500):
        yield patient_record(patient)


def datacut_lock(trial: Trial) -> dict[str, Any] | None:
    """The trial-wide freeze / lock the cut is taken under (None: unlocked data)."""
    lock = lock_in_force(trial=trial)
    if lock is None:
        return None
    return {
        "id": lock.pk,
        "mode": lock.mode,
        "label": lock.label,
        "locked_at": lock.locked_at.isoformat(timespec="seconds"),
        "locked_by": lock.locked_by_username,
    }


#: The records of the apps besides ``patients`` in a cut (``name -> build(trial, cutoff)``
#: returning JSON-ready data): the clinical app's labs, exposure, ...
DATACUT_SECTIONS: dict[str, Callable[[Trial, date], Any]] = {"clinical": clinical_section}


def datacut_build(trial: Trial, *, cutoff: date | None = None) -> dict[str, Any]:
    cutoff = cutoff or timezone.localdate()
    cut = trial_header(trial, cutoff=cutoff)
    cut["lock"] = datacut_lock(trial)
    cut["patients"] = list(iter_patient_records(trial))
    for name, build in DATACUT_SECTIONS.items():
        cut[name] = build(trial, cutoff)
    return cut
