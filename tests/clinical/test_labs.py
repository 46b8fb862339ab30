"""Laboratory results: conversion, site ranges with effective dates, CTCAE grade, the
adverse-event proposal of a grade >= 3 result."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from clinical.models import LabReferenceRange, LabResult
from clinical.selectors import visit_liver_function
from clinical.services import (
    ae_prefill,
    lab_result_dismiss_proposal,
    lab_result_record,
    lab_result_record_adverse_event,
    lab_result_update,
    lab_results_record,
)
from patients.models import AdverseEvent

from ..patients.helpers_visits import DAY, visit


def test_grade_3_platelets_is_graded_flagged_and_proposes_an_ae(
    enrolled_a, coordinator_site_a, ranges, today
):
    result = lab_result_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        analyte="platelets",
        value=42000,
        unit="/mm3",
        collected_on=today - DAY,
    )
    assert result.value_canonical == 42.0
    assert (result.lln, result.uln, result.flag) == (125.0, 350.0, "L")
    assert result.ctcae_grade == 3
    assert result.ctcae_term == "Platelet count decreased"
    assert result.ctcae_criterion.startswith("<50,000 - 25,000/mm3")
    assert result.ae_proposal == LabResult.AeProposal.PROPOSED
    assert result.history.count() == 1


def test_bilirubin_in_mg_dl_is_converted_before_grading(
    enrolled_a, coordinator_site_a, ranges, today
):
    result = lab_result_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        analyte="bilirubin",
        value=2.0,
        unit="mg/dL",
        collected_on=today,
    )
    # 2.0 mg/dL = 34.2 µmol/L = 1.67 x ULN (20.5): ">1.5 - 3.0 x ULN" is grade 2
    assert result.value_canonical == pytest.approx(34.2)
    assert result.ctcae_grade == 2
    assert result.ae_proposal == ""


def test_range_in_effect_on_the_collection_date_is_used(
    enrolled_a, coordinator_site_a, ranges, today
):
    old = ranges["alt"]
    old.effective_to = today - 3 * DAY
    old.save()
    LabReferenceRange.objects.create(
        site=old.site, analyte="alt", lower=9, upper=50, effective_from=today - 2 * DAY
    )
    before = lab_result_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        analyte="alt",
        value=45,
        collected_on=today - 4 * DAY,
    )
    after = lab_result_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        analyte="alt",
        value=45,
        collected_on=today,
    )
    assert (before.uln, before.flag, before.ctcae_grade) == (40.0, "H", 1)
    assert (after.uln, after.flag, after.ctcae_grade) == (50.0, "N", 0)


def test_abnormal_baseline_alt_grades_against_baseline(
    enrolled_a, coordinator_site_a, ranges, today
):
    start = enrolled_a.enrollment.enrolled_on
    lab_result_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        analyte="alt",
        value=80,
        collected_on=start - 2 * DAY,
    )
    later = lab_result_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        analyte="alt",
        value=250,
        collected_on=today,
    )
    # 250 = 6.25 x ULN (grade 3 on a normal baseline) but 3.1 x the abnormal baseline 80:
    # ">3.0 - 5.0 x baseline if baseline was abnormal" is grade 2
    assert later.baseline_value == 80
    assert (later.ctcae_grade, later.ctcae_basis) == (2, "baseline")


def test_panel_is_all_or_nothing_with_errors_per_row(enrolled_a, coordinator_site_a, today):
    with pytest.raises(ValidationError) as exc:
        lab_results_record(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            collected_on=today + 3 * DAY,
            values=[
                {"analyte": "platelets", "value": 100},
                {"analyte": "bilirubin", "value": 1.0, "unit": "g/L"},
                {"analyte": "alt"},
            ],
        )
    errors = exc.value.message_dict
    assert set(errors) == {"collected_on", "values.1.unit", "values.2.value"}
    assert LabResult.objects.count() == 0


def test_other_site_and_monitor_cannot_enter(enrolled_a, coordinator_site_b, monitor, today):
    for user in (coordinator_site_b, monitor):
        with pytest.raises(PermissionDenied):
            lab_result_record(
                patient=enrolled_a, acting_user=user, analyte="alt", value=30, collected_on=today
            )
    assert LabResult.objects.count() == 0


def test_correction_needs_a_reason_and_regrades(enrolled_a, coordinator_site_a, ranges, today):
    result = lab_result_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        analyte="platelets",
        value=42,
        collected_on=today,
    )
    with pytest.raises(ValidationError):
        lab_result_update(lab_result=result, acting_user=coordinator_site_a, reason="", value=142)
    fixed = lab_result_update(
        lab_result=result, acting_user=coordinator_site_a, reason="transcription error", value=142
    )
    assert (fixed.ctcae_grade, fixed.ae_proposal) == (0, "")
    assert fixed.history.first().history_change_reason == "transcription error"


def test_proposed_ae_is_prefilled_recorded_and_linked(
    enrolled_a, coordinator_site_a, ranges, protocol, today
):
    result = lab_result_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        analyte="platelets",
        value=42,
        collected_on=today - DAY,
    )
    prefill = ae_prefill(result)
    assert prefill["ctcae_term"].meddra_code == "10035528"
    assert (prefill["grade"], prefill["onset_date"]) == (3, today - DAY)
    causality = {i.pk: "possible" for i in protocol["arm"].interventions.all()}
    event = lab_result_record_adverse_event(
        lab_result=result,
        acting_user=coordinator_site_a,
        ctcae_term=prefill["ctcae_term"],
        grade=3,
        serious=False,
        serious_criteria=[],
        onset_date=prefill["onset_date"],
        resolution_date=None,
        outcome="not_recovered",
        action_taken="interrupted",
        description=prefill["description"],
        causality=causality,
    )
    result.refresh_from_db()
    assert event.term == "Platelet count decreased" and event.ctcae_term.soc == "Investigations"
    assert (result.adverse_event, result.ae_proposal) == (event, "recorded")


def test_dismissing_a_proposal_needs_a_reason(enrolled_a, coordinator_site_a, ranges, today):
    result = lab_result_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        analyte="platelets",
        value=42,
        collected_on=today,
    )
    with pytest.raises(ValidationError):
        lab_result_dismiss_proposal(lab_result=result, acting_user=coordinator_site_a, reason="")
    lab_result_dismiss_proposal(
        lab_result=result, acting_user=coordinator_site_a, reason="already recorded as AE 12"
    )
    result.refresh_from_db()
    assert result.ae_proposal == "dismissed"
    assert AdverseEvent.objects.count() == 0


def test_child_pugh_and_albi_at_a_visit_show_their_inputs(
    enrolled_a, coordinator_site_a, ranges, today
):
    v = visit(enrolled_a, "D0")
    day = v.scheduled_date
    lab_results_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        collected_on=day,
        visit=v,
        values=[
            {"analyte": "bilirubin", "value": 17.1},
            {"analyte": "albumin", "value": 42},
            {"analyte": "inr", "value": 1.1},
        ],
    )
    liver = visit_liver_function(v, ascites="none", encephalopathy="none")
    assert liver.child_pugh.label == "A5"
    assert liver.child_pugh.inputs["bilirubin_umol_l"] == 17.1
    assert (liver.albi.score, liver.albi.grade) == (-2.76, 1)  # 0.81 - 3.57
    assert liver.sources["albumin"] == day.isoformat()
    without_clinical = visit_liver_function(v)
    assert without_clinical.child_pugh.grade is None
    assert set(without_clinical.child_pugh.missing) == {"ascites", "encephalopathy"}


def test_dipstick_reading(enrolled_a, coordinator_site_a, today):
    result = lab_result_record(
        patient=enrolled_a,
        acting_user=coordinator_site_a,
        analyte="urine_protein_dipstick",
        value_text="2+",
        collected_on=today,
    )
    assert (result.ctcae_grade, result.panel) == (2, "urine")
    with pytest.raises(ValidationError) as exc:
        lab_result_record(
            patient=enrolled_a,
            acting_user=coordinator_site_a,
            analyte="urine_protein_dipstick",
            value_text="5+",
            collected_on=datetime.date(2020, 1, 1),
        )
    assert "value_text" in exc.value.message_dict
