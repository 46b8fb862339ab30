"""The clinical records of a data cut (``analysis.datacut.DATACUT_SECTIONS``).

Pseudonymous like the rest of the cut: subject ids, no identity. Records dated after the
cut-off are left out.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from trials.models import Trial

from .models import ConcomitantMedication, Exposure, LabResult, Procedure, VitalSigns


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _rows(qs: Any, fields: list[str]) -> list[dict[str, Any]]:
    return [
        {k: _json(v) for k, v in row.items()} for row in qs.values("patient__subject_id", *fields)
    ]


def clinical_section(trial: Trial, cutoff: datetime.date) -> dict[str, Any]:
    on_trial = {"patient__trial_site__trial": trial, "patient__enrollment__isnull": False}
    return {
        "lab_results": _rows(
            LabResult.objects.filter(**on_trial, collected_on__lte=cutoff).order_by(
                "patient__subject_id", "collected_on", "pk"
            ),
            [
                "analyte",
                "collected_on",
                "value_canonical",
                "value_text",
                "lln",
                "uln",
                "flag",
                "ctcae_grade",
                "ctcae_term",
            ],
        ),
        "vital_signs": _rows(
            VitalSigns.objects.filter(**on_trial, measured_on__lte=cutoff).order_by(
                "patient__subject_id", "measured_on", "pk"
            ),
            ["measured_on", "systolic_bp", "diastolic_bp", "heart_rate", "weight_kg"],
        ),
        "exposures": _rows(
            Exposure.objects.filter(**on_trial, start_date__lte=cutoff).order_by(
                "patient__subject_id", "intervention__name", "start_date", "pk"
            ),
            [
                "intervention__name",
                "kind",
                "start_date",
                "end_date",
                "dose_mg",
                "dose_change",
                "reason",
                "adverse_event_id",
            ],
        ),
        "procedures": [
            {
                "patient__subject_id": p.patient.subject_id,
                "kind": p.kind,
                "procedure_date": p.procedure_date.isoformat(),
                "approach": p.approach,
                "technical_success": p.technical_success,
                "lesions": sorted(t.lesion.code for t in p.treated.all()),
                "complications": [
                    {"description": c.description, "clavien_dindo": c.clavien_dindo}
                    for c in p.complications.all()
                ],
            }
            for p in Procedure.objects.filter(**on_trial, procedure_date__lte=cutoff)
            .select_related("patient")
            .prefetch_related("treated__lesion", "complications")
            .order_by("patient__subject_id", "procedure_date", "pk")
        ],
        "concomitant_medications": _rows(
            ConcomitantMedication.objects.filter(**on_trial, start_date__lte=cutoff).order_by(
                "patient__subject_id", "start_date", "pk"
            ),
            [
                "generic_name",
                "indication",
                "start_date",
                "stop_date",
                "ongoing",
                "prohibited_category",
            ],
        ),
    }
