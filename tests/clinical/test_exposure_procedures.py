"""Vital signs, exposure (weight-based lenvatinib dose, reductions, RDI), procedures
(ablated-on-study lesions and the non-ablated response), concomitant medications and
the visit's required forms."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clinical.models import Exposure, Procedure
from clinical.selectors import patient_exposure, visit_form_states, visit_is_complete
from clinical.services import (
    conmed_record,
    exposure_record,
    procedure_record,
    visit_form_note,
    vital_signs_record,
)
from patients.models import AdverseEvent, Lesion, ResponseSummary
from patients.services import assessment_record_baseline, assessment_record_followup
from patients.services.visits import visit_submit

from ..patients.helpers_visits import DAY, submit_data, visit


def test_vital_signs_validate_all_fields_in_one_round(enrolled_a, coordinator_site_a, today):
    with pytest.raises(ValidationError) as exc:
        vital_signs_record(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            measured_on=today,
            systolic_bp=120,
            diastolic_bp=130,
            heart_rate=400,
        )
    assert {"diastolic_bp", "heart_rate"} <= set(exc.value.message_dict)
    record = vital_signs_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        measured_on=today,
        systolic_bp=162,
        diastolic_bp=101,
        weight_kg=Decimal("58.5"),
    )
    assert record.history.count() == 1


def test_lenvatinib_dose_from_weight_and_mismatch_flag(
    enrolled_a, coordinator_site_a, protocol, regimens, today
):
    lenvatinib = protocol["interventions"]["Lenvatinib"]
    start = enrolled_a.enrollment.enrolled_on
    vital_signs_record(
        patient=enrolled_a, acting_user=coordinator_site_a, measured_on=start, weight_kg=58
    )
    wrong = exposure_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        intervention=lenvatinib,
        kind="administration",
        start_date=start,
        end_date=start + 13 * DAY,
        dose_mg=Decimal(12),
    )
    # 58 kg is below 60 kg: the protocol dose is 8 mg daily
    assert (wrong.expected_dose_mg, wrong.dose_mismatch) == (Decimal(8), True)
    right = exposure_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        intervention=lenvatinib,
        kind="administration",
        start_date=start + 14 * DAY,
        end_date=start + 20 * DAY,
        dose_mg=Decimal(8),
    )
    assert right.dose_mismatch is False


def test_reduction_for_grade_3_hypertension_and_rdi(
    enrolled_a, coordinator_site_a, protocol, regimens, today
):
    lenvatinib = protocol["interventions"]["Lenvatinib"]
    start = enrolled_a.enrollment.enrolled_on
    vital_signs_record(
        patient=enrolled_a, acting_user=coordinator_site_a, measured_on=start, weight_kg=72
    )
    exposure_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        intervention=lenvatinib,
        kind="administration",
        start_date=start,
        end_date=start + 9 * DAY,
        dose_mg=Decimal(12),
    )
    with pytest.raises(ValidationError) as exc:
        exposure_record(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            intervention=lenvatinib,
            kind="administration",
            start_date=start + 10 * DAY,
            end_date=start + 19 * DAY,
            dose_mg=Decimal(8),
            dose_change="reduced",
            reason="adverse_event",
        )
    assert "adverse_event" in exc.value.message_dict
    ae = AdverseEvent.objects.create(
        patient=enrolled_a,
        term="Hypertension",
        grade=3,
        onset_date=start + 9 * DAY,
        outcome="recovering",
        action_taken="reduced",
    )
    reduced = exposure_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        intervention=lenvatinib,
        kind="administration",
        start_date=start + 10 * DAY,
        end_date=start + 19 * DAY,
        dose_mg=Decimal(8),
        dose_change="reduced",
        reason="adverse_event",
        adverse_event=ae,
    )
    assert reduced.dose_mismatch is False  # a recorded reduction is not a mismatch
    (summary,) = patient_exposure(enrolled_a, cutoff=start + 19 * DAY)
    # 10 days x 12 mg + 10 days x 8 mg = 200 mg over 20 days: 10 mg/day of 12 planned
    assert summary.summary.cumulative_dose_mg == Decimal(200)
    assert summary.summary.duration_days == 20
    assert summary.summary.relative_dose_intensity == Decimal("0.833")
    assert summary.summary.reductions == 1


def test_exposure_only_for_drugs_of_the_patients_arm(
    enrolled_a, coordinator_site_a, protocol, today
):
    with pytest.raises(ValidationError) as exc:
        exposure_record(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            intervention=protocol["interventions"]["GEMOX"],
            kind="administration",
            start_date=today,
            dose_mg=Decimal(100),
        )
    assert "intervention" in exc.value.message_dict
    assert Exposure.objects.count() == 0


@pytest.fixture
def lesions(enrolled_a, coordinator_site_a):
    base_day = enrolled_a.enrollment.enrolled_on - 3 * DAY
    assessment_record_baseline(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        assessment_date=base_day,
        method="CT",
        lesions=[
            {"code": "T1", "organ": "liver", "target": True, "diameter_mm": 40},
            {"code": "T2", "organ": "lung", "target": True, "diameter_mm": 20},
        ],
    )
    return {lesion.code: lesion for lesion in Lesion.objects.filter(patient=enrolled_a)}


def test_cryoablation_marks_lesions_and_engine_reports_non_ablated_response(
    enrolled_a, coordinator_site_a, lesions, today
):
    start = enrolled_a.enrollment.enrolled_on
    procedure = procedure_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        kind="cryoablation",
        procedure_date=start + 2 * DAY,
        approach="percutaneous_ct",
        lesions=[lesions["T1"]],
        probes=3,
        freeze_thaw_cycles=2,
        ice_ball_margin_mm=Decimal(10),
        technical_success=True,
        complications=[{"description": "Pleural effusion", "clavien_dindo": "II"}],
    )
    t1, t2 = (Lesion.objects.get(pk=lesions[c].pk) for c in ("T1", "T2"))
    assert (t1.ablated_on_study, t2.ablated_on_study) == (True, False)
    assert t1.history.first().history_change_reason.startswith("Treated by Cryoablation")
    assert procedure.complications.get().clavien_dindo == "II"
    for weeks, t2 in ((3, 12), (7, 11)):  # the second scan confirms the first
        assessment_record_followup(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            assessment_date=start + weeks * 7 * DAY,
            method="CT",
            non_target_status="NONE",
            new_lesions="none",
            measurements=[
                {"lesion": "T1", "state": "measured", "diameter_mm": 38},
                {"lesion": "T2", "state": "measured", "diameter_mm": t2},
            ],
        )
    outcome = ResponseSummary.objects.get(patient=enrolled_a).outcome
    # the whole patient: 60 -> 49 mm (-18 %): SD; the non-ablated T2 alone: 20 -> 11 mm
    # (-45 %, confirmed): PR
    assert (outcome["bor"], outcome["non_ablated_bor"]) == ("SD", "PR")


def test_cryoablation_needs_lesions_of_the_patient(
    enrolled_a, patient_b, coordinator_site_a, lesions, today
):
    other = Lesion.objects.create(patient=patient_b, code="T1", organ="liver", baseline_mm=30)
    with pytest.raises(ValidationError) as exc:
        procedure_record(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            kind="cryoablation",
            procedure_date=today,
            approach="laparoscopic",
            lesions=[other],
            complications=[{"description": "", "clavien_dindo": "VI"}],
        )
    assert {"lesions", "complications.0.description", "complications.0.clavien_dindo"} <= set(
        exc.value.message_dict
    )
    assert Procedure.objects.count() == 0


def test_prohibited_conmed_is_flagged(enrolled_a, coordinator_site_a, today):
    flagged = conmed_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        generic_name="Gemcitabine",
        indication="chemotherapy elsewhere",
        start_date=today,
        ongoing=True,
    )
    assert flagged.prohibited_category == "anticancer"
    assert "Prohibited" in flagged.warning
    fine = conmed_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        generic_name="amlodipine",
        indication="hypertension",
        start_date=today - 5 * DAY,
        stop_date=today,
    )
    assert fine.warning == ""
    with pytest.raises(ValidationError) as exc:
        conmed_record(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            generic_name="",
            indication="",
            start_date=today,
        )
    assert {"generic_name", "indication", "stop_date"} <= set(exc.value.message_dict)


def test_visit_is_complete_only_when_required_forms_are(
    enrolled_a, coordinator_site_a, protocol, regimens, ranges, today
):
    from clinical.services import lab_result_record

    w3 = visit(enrolled_a, "W3")
    w3.definition.required_forms = ["labs", "vitals", "ae_review", "conmeds"]
    w3.definition.save()
    day = w3.scheduled_date
    visit_submit(visit=w3, acting_user=coordinator_site_a, **submit_data(actual_date=day))
    w3.refresh_from_db()
    states = {s.form: s.state for s in visit_form_states(w3)}
    assert states == {
        "labs": "missing",
        "vitals": "missing",
        "ae_review": "entered",
        "conmeds": "missing",
    }
    assert not visit_is_complete(w3)
    lab_result_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        analyte="alt",
        value=30,
        collected_on=day,
        visit=w3,
    )
    vital_signs_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        measured_on=day,
        visit=w3,
        weight_kg=70,
    )
    with pytest.raises(ValidationError):
        visit_form_note(visit=w3, form="conmeds", status="not_done", acting_user=coordinator_site_a)
    visit_form_note(visit=w3, form="conmeds", status="none", acting_user=coordinator_site_a)
    assert visit_is_complete(w3)
    assert datetime.date.today()  # the selector does not depend on the clock


def test_missing_forms_past_the_window_feed_the_sweep(
    enrolled_a, coordinator_site_a, trial_site_a, today
):
    from patients.sweeps import site_section

    w3 = visit(enrolled_a, "W3")
    w3.definition.required_forms = ["labs", "ae_review"]
    w3.definition.save()
    visit_submit(
        visit=w3, acting_user=coordinator_site_a, **submit_data(actual_date=w3.scheduled_date)
    )
    w3.refresh_from_db()
    section = site_section(trial_site_a, w3.window_end + datetime.timedelta(days=1))
    (row,) = [r for r in section["incomplete"] if r["visit"] == w3.definition.name]
    assert row["missing"] == ["labs"]
