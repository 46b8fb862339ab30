"""Demo monitoring configuration: the issue's seed edit checks and an SDV plan.

Called from ``demo/management/commands/seed_demo.py``; idempotent."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType

from audit.context import audit_context

from .models import EditCheck, MonitoringPlan
from .services.verification import DEFAULT_FULL_SDV

#: Scan more than this many days after its visit's window.
SCAN_LATE_DAYS = 14

DEMO_CHECKS: list[dict[str, Any]] = [
    {
        "code": "EC-VISIT-WINDOW",
        "form": "patients.visit",
        "field_name": "actual_date",
        "rule": {
            "any": [
                {
                    "all": [
                        {"field": "days_between:window_start:actual_date", "op": ">=", "value": 0},
                        {"field": "days_between:actual_date:window_end", "op": ">=", "value": 0},
                    ]
                },
                {"field": "deviation_reason", "op": "present"},
            ]
        },
        "message": "Visit outside its window without a deviation reason.",
        "message_zh": "访视超出窗口期且未记录偏离原因。",
    },
    {
        "code": "EC-AE-G5-DEATH",
        "form": "patients.adverseevent",
        "field_name": "grade",
        "rule": {
            "any": [
                {"field": "grade", "op": "<", "value": 5},
                {"field": "death_recorded", "op": "is_true"},
            ]
        },
        "message": "Grade 5 adverse event but no death recorded for the patient.",
        "message_zh": "5 级不良事件，但未记录患者死亡。",
    },
    {
        "code": "EC-LAB-BILIRUBIN",
        "form": "patients.screening",
        "field_name": "data",
        "rule": {"field": "bilirubin", "op": "between", "value": [1, 500]},
        "message": "Total bilirubin outside the plausible range (1-500 µmol/L).",
        "message_zh": "总胆红素超出合理范围（1-500 µmol/L）。",
    },
    {
        "code": "EC-SCAN-LATE",
        "form": "patients.tumorassessment",
        "field_name": "assessment_date",
        "rule": {
            "field": "days_between:visit_window_end:assessment_date",
            "op": "<=",
            "value": SCAN_LATE_DAYS,
        },
        "message": f"Scan more than {SCAN_LATE_DAYS} days after its visit window.",
        "message_zh": f"影像检查晚于访视窗口期 {SCAN_LATE_DAYS} 天以上。",
    },
    {
        # The visit's window has closed with required forms (labs, vitals…) missing; the
        # query closes itself when the forms are entered (monitoring/visit_forms.py).
        "code": "EC-VISIT-FORMS",
        "form": "patients.visit",
        "field_name": "",
        "rule": {"field": "missing_forms_past_window", "op": "==", "value": 0},
        "message": "Required forms are missing after the visit window closed.",
        "message_zh": "访视窗口期已过，仍有必填表单缺失。",
    },
]


def seed_monitoring(trial: Any) -> None:
    with audit_context(reason="Demo data", origin="shell"):
        MonitoringPlan.objects.get_or_create(
            trial=trial,
            defaults={"full_sdv_forms": list(DEFAULT_FULL_SDV), "sample_percent": 20},
        )
        for spec in DEMO_CHECKS:
            app_label, model = spec["form"].split(".")
            EditCheck.objects.get_or_create(
                trial=trial,
                code=spec["code"],
                defaults={
                    "target": ContentType.objects.get_by_natural_key(app_label, model),
                    "field_name": spec["field_name"],
                    "rule": spec["rule"],
                    "message": spec["message"],
                    "message_zh": spec["message_zh"],
                },
            )
    from .services import edit_checks_run_trial

    edit_checks_run_trial(trial=trial)
