"""The patient workflows through the API: the same services as the web forms, the same
refusals, blinding respected, corrections with a reason that lands in the history."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from patients.models import Enrollment, Patient, Screening, UnblindingEvent, Visit
from patients.services import arm_visible_to, enrollment_unblind
from trials.models import Trial

from .helpers_api import FULL_ANSWERS, REGISTER, TODAY, consent_payload, counts, ready_trial


def blind(trial: Trial) -> None:
    trial.blinding = Trial.Blinding.BLINDED
    trial.save()


@pytest.fixture
def setup(trial: Any) -> dict[str, Any]:
    return ready_trial(trial)


def register(api: Any, trial_site: Any, **overrides: Any) -> dict[str, Any]:
    response = api.post("/api/v1/patients/", {**REGISTER, **overrides, "trial_site": trial_site.pk})
    assert response.status_code == 201, response.json()
    return response.json()


def consented_patient(api: Any, trial_site: Any, setup: dict[str, Any], **overrides: Any) -> int:
    pid = register(api, trial_site, **overrides)["id"]
    response = api.post(
        f"/api/v1/patients/{pid}/screen/",
        {"screening_date": TODAY.isoformat(), "answers": FULL_ANSWERS},
    )
    assert response.status_code == 201 and response.json()["result"] == "eligible", response.json()
    response = api.post(
        f"/api/v1/patients/{pid}/consents/", consent_payload(setup["consent_versions"]["zh"])
    )
    assert response.status_code == 201, response.json()
    return pid


def test_screen_returns_the_decision_on_every_criterion(
    api_for, coordinator_site_a, trial_site_a, setup
):
    api = api_for(coordinator_site_a)
    pid = register(api, trial_site_a)["id"]
    answers = {**FULL_ANSWERS, "ecog": 3}
    response = api.post(
        f"/api/v1/patients/{pid}/screen/",
        {"screening_date": TODAY.isoformat(), "answers": answers},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["result"] == "not_eligible" and body["failed_codes"]
    by_code = {r["code"]: r for r in body["criteria_results"]}
    assert len(by_code) == 25
    failed = by_code[body["failed_codes"][0]]
    assert failed["status"] == "not_met" and failed["reason"]
    assert {r["status"] for r in body["criteria_results"]} <= {
        "met",
        "not_met",
        "missing",
        "not_applicable",
    }
    assert Patient.objects.get(pk=pid).status == "screen_failed"
    listed = api.get(f"/api/v1/screenings/?patient={pid}").json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]


def test_screen_bad_answers_are_400_by_field_and_save_nothing(
    api_for, coordinator_site_a, trial_site_a, setup
):
    api = api_for(coordinator_site_a)
    pid = register(api, trial_site_a)["id"]
    response = api.post(
        f"/api/v1/patients/{pid}/screen/",
        {
            "screening_date": (TODAY + datetime.timedelta(days=3)).isoformat(),
            "answers": {"ecog": 9, "histology": "banana", "birth_date": "1960-01-01"},
        },
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"screening_date", "ecog", "histology", "birth_date"}
    assert "future" in errors["screening_date"][0]
    assert Screening.objects.count() == 0
    assert Patient.objects.get(pk=pid).status == "screening"


def test_consent_rules_come_back_as_field_errors(api_for, coordinator_site_a, trial_site_a, setup):
    api = api_for(coordinator_site_a)
    pid = register(api, trial_site_a)["id"]
    before = counts()
    response = api.post(
        f"/api/v1/patients/{pid}/consents/",
        {**consent_payload(setup["consent_versions"]["zh"]), "personal_information_consent": False},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"patient", "personal_information_consent"}
    assert counts() == before


def test_open_label_enrollment_returns_the_allocation(
    api_for, coordinator_site_a, trial_site_a, setup
):
    api = api_for(coordinator_site_a)
    pid = consented_patient(api, trial_site_a, setup)
    response = api.post(f"/api/v1/patients/{pid}/enroll/", {"enrolled_on": TODAY.isoformat()})
    assert response.status_code == 201, response.json()
    body = response.json()
    enrollment = Enrollment.objects.get()
    assert body["randomization_number"] == enrollment.randomization_number == "R-SA-0001"
    assert body["stratum"] == enrollment.stratum
    assert body["arm_visible"] is True and body["arm_code"] == enrollment.arm.code
    assert Visit.objects.filter(patient_id=pid).exists()
    # the same call again: the service refuses, by field
    again = api.post(f"/api/v1/patients/{pid}/enroll/", {"enrolled_on": TODAY.isoformat()})
    assert again.status_code == 400 and "patient" in again.json()


def test_blinded_enrollment_hides_the_arm_until_unblinded(
    api_for, coordinator_site_a, investigator_site_a, lead_investigator, trial_site_a, setup
):
    blind(trial_site_a.trial)
    api = api_for(coordinator_site_a)
    pid = consented_patient(api, trial_site_a, setup)
    body = api.post(f"/api/v1/patients/{pid}/enroll/", {"enrolled_on": TODAY.isoformat()}).json()
    assert body["arm_visible"] is False
    assert body["arm"] is body["arm_code"] is body["arm_name"] is body["block_size"] is None
    assert body["randomization_number"] == "R-SA-0001"
    enrollment = Enrollment.objects.get()
    listed = api.get("/api/v1/enrollments/").json()["results"][0]
    assert listed["arm"] is None and enrollment.arm.name not in str(listed)
    # filtering by arm reveals nothing to a blinded user
    for arm in (setup["arm"], setup["other_arm"]):
        assert api.get(f"/api/v1/enrollments/?arm={arm.pk}").json()["results"] == []
    lead = api_for(lead_investigator).get(f"/api/v1/enrollments/{enrollment.pk}/").json()
    assert lead["arm_visible"] is True and lead["arm"] == enrollment.arm_id
    listed = api_for(lead_investigator).get(f"/api/v1/enrollments/?arm={enrollment.arm_id}")
    assert [row["id"] for row in listed.json()["results"]] == [enrollment.pk]
    # the investigator who emergency-unblinds this patient sees the arm, nobody else
    investigator = api_for(investigator_site_a)
    assert investigator.get(f"/api/v1/enrollments/{enrollment.pk}/").json()["arm"] is None
    enrollment_unblind(
        enrollment=enrollment,
        acting_user=investigator_site_a,
        password="pw-for-tests-123",
        reason="Anaphylaxis",
    )
    assert UnblindingEvent.objects.count() == 1
    assert investigator.get(f"/api/v1/enrollments/{enrollment.pk}/").json()["arm"] == (
        enrollment.arm_id
    )
    assert api.get(f"/api/v1/enrollments/{enrollment.pk}/").json()["arm"] is None


def test_page_visibility_agrees_with_arm_visible_to(
    coordinator_site_a, lead_investigator, investigator_site_a, trial_site_a, setup, register
):
    from patients.api.records import arm_visibility

    from ..patients.helpers_visits import enroll

    blind(trial_site_a.trial)
    enrollments = []
    for i in range(3):
        patient = register(
            trial_site_a,
            coordinator_site_a,
            id_document_type="passport",
            id_document_number=f"P{i:07d}",
        )
        enrollments.append(enroll(patient, coordinator_site_a, setup["arm"], number=f"R{i:03d}"))
    enrollment_unblind(
        enrollment=enrollments[1],
        acting_user=investigator_site_a,
        password="pw-for-tests-123",
        reason="Emergency",
    )
    enrollments = list(Enrollment.objects.select_related("trial"))
    for user in (coordinator_site_a, lead_investigator, investigator_site_a):
        expected = {e.pk: arm_visible_to(user, e) for e in enrollments}
        assert arm_visibility(user, enrollments) == expected


def test_idempotent_enrollment_retry_returns_the_first_allocation(
    api_for, coordinator_site_a, trial_site_a, setup
):
    api = api_for(coordinator_site_a)
    pid = consented_patient(api, trial_site_a, setup)
    data = {"enrolled_on": TODAY.isoformat()}
    first = api.post(f"/api/v1/patients/{pid}/enroll/", data, HTTP_IDEMPOTENCY_KEY="enr-1")
    before = counts()
    second = api.post(f"/api/v1/patients/{pid}/enroll/", data, HTTP_IDEMPOTENCY_KEY="enr-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert counts() == before and Enrollment.objects.count() == 1


def enrolled(api: Any, trial_site: Any, setup: dict[str, Any]) -> int:
    pid = consented_patient(api, trial_site, setup)
    response = api.post(f"/api/v1/patients/{pid}/enroll/", {"enrolled_on": TODAY.isoformat()})
    assert response.status_code == 201, response.json()
    return pid


def test_visit_submit_then_correction_needs_a_reason_kept_in_history(
    api_for, coordinator_site_a, trial_site_a, setup
):
    api = api_for(coordinator_site_a)
    pid = enrolled(api, trial_site_a, setup)
    visit = Visit.objects.get(patient_id=pid, definition__code="D0")
    url = f"/api/v1/visits/{visit.pk}/submit/"
    data = {"actual_date": TODAY.isoformat(), "vital_status": "alive", "ecog": 1}
    response = api.post(url, data)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "completed" and response.json()["is_submitted"]
    refused = api.post(url, {**data, "ecog": 0})
    assert refused.status_code == 400 and "reason" in refused.json()
    visit.refresh_from_db()
    assert visit.ecog == 1
    ok = api.post(url, {**data, "ecog": 0, "reason": "ECOG misread from the notes"})
    assert ok.status_code == 200 and ok.json()["ecog"] == 0
    history = api.get(f"/api/v1/history/patients.visit/{visit.pk}/").json()
    assert history[0]["reason"] == "ECOG misread from the notes"
    assert history[0]["origin"] == "api"


def test_visit_reschedule_and_unscheduled(api_for, coordinator_site_a, trial_site_a, setup):
    api = api_for(coordinator_site_a)
    pid = enrolled(api, trial_site_a, setup)
    visit = Visit.objects.get(patient_id=pid, definition__code="W3")
    new_date = visit.window_end
    refused = api.post(f"/api/v1/visits/{visit.pk}/reschedule/", {"new_date": str(new_date)})
    assert refused.status_code == 400 and "reason" in refused.json()
    ok = api.post(
        f"/api/v1/visits/{visit.pk}/reschedule/",
        {"new_date": str(new_date), "reason": "Patient travelling"},
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["visit"]["scheduled_date"] == str(new_date) and "warning" in ok.json()
    added = api.post(
        f"/api/v1/patients/{pid}/visits/",
        {"scheduled_date": TODAY.isoformat(), "reason": "Fever"},
    )
    assert added.status_code == 201 and added.json()["definition"] is None


def test_adverse_event_record_and_correct(api_for, coordinator_site_a, trial_site_a, setup):
    api = api_for(coordinator_site_a)
    pid = enrolled(api, trial_site_a, setup)
    enrollment = Enrollment.objects.get()
    interventions = list(enrollment.arm.interventions.order_by("pk"))
    data = {
        "term": "Fatigue",
        "grade": 2,
        "onset_date": TODAY.isoformat(),
        "outcome": "recovering",
        "action_taken": "none",
        "causality": [{"intervention": i.pk, "relatedness": "possible"} for i in interventions],
    }
    missing = api.post(f"/api/v1/patients/{pid}/adverse-events/", {**data, "causality": []})
    assert missing.status_code == 400
    assert set(missing.json()) == {f"causality_{i.pk}" for i in interventions}
    response = api.post(f"/api/v1/patients/{pid}/adverse-events/", data)
    assert response.status_code == 201, response.json()
    event = response.json()
    assert {c["intervention_name"] for c in event["causality"]} == {i.name for i in interventions}
    url = f"/api/v1/adverse-events/{event['id']}/"
    assert api.patch(url, {"grade": 3}).json().keys() == {"reason"}
    ok = api.patch(url, {"grade": 3, "reason": "Grade corrected after lab review"})
    assert ok.status_code == 200 and ok.json()["grade"] == 3
    history = api.get(f"/api/v1/history/patients.adverseevent/{event['id']}/").json()
    assert history[0]["reason"] == "Grade corrected after lab review"


def test_blinded_causality_names_are_masked(api_for, coordinator_site_a, trial_site_a, setup):
    blind(trial_site_a.trial)
    api = api_for(coordinator_site_a)
    pid = enrolled(api, trial_site_a, setup)
    interventions = list(Enrollment.objects.get().arm.interventions.all())
    response = api.post(
        f"/api/v1/patients/{pid}/adverse-events/",
        {
            "term": "Rash",
            "grade": 1,
            "onset_date": TODAY.isoformat(),
            "outcome": "recovering",
            "action_taken": "none",
            "causality": [{"intervention": i.pk, "relatedness": "unlikely"} for i in interventions],
        },
    )
    assert response.status_code == 201, response.json()
    names = [
        c["intervention_name"]
        for c in api.get("/api/v1/adverse-events/").json()["results"][0]["causality"]
    ]
    assert names == [f"Study treatment {n}" for n in range(1, len(interventions) + 1)]


def test_tumor_assessments_baseline_followup_and_correction(
    api_for, coordinator_site_a, trial_site_a, setup
):
    api = api_for(coordinator_site_a)
    pid = consented_patient(api, trial_site_a, setup)
    enrolled_on = TODAY - datetime.timedelta(days=60)
    Patient.objects.filter(pk=pid).update(
        registered_at=datetime.datetime.combine(
            enrolled_on - datetime.timedelta(days=7), datetime.time(9), tzinfo=datetime.UTC
        )
    )
    Screening.objects.filter(patient_id=pid).update(screening_date=enrolled_on)
    from patients.models import Consent

    Consent.objects.filter(patient_id=pid).update(
        consented_at=datetime.datetime.combine(enrolled_on, datetime.time(8), tzinfo=datetime.UTC)
    )
    response = api.post(
        f"/api/v1/patients/{pid}/enroll/",
        {"enrolled_on": str(enrolled_on), "first_treatment_date": str(enrolled_on)},
    )
    assert response.status_code == 201, response.json()
    bad = api.post(
        f"/api/v1/patients/{pid}/assessments/baseline/",
        {
            "assessment_date": str(enrolled_on - datetime.timedelta(days=3)),
            "method": "CT",
            "lesions": [{"organ": "liver", "target": True}],
        },
    )
    assert bad.status_code == 400 and "lesions[0].diameter_mm" in bad.json()
    baseline = api.post(
        f"/api/v1/patients/{pid}/assessments/baseline/",
        {
            "assessment_date": str(enrolled_on - datetime.timedelta(days=3)),
            "method": "CT",
            "lesions": [
                {"organ": "liver", "diameter_mm": 42, "target": True},
                {"organ": "lung", "diameter_mm": 20, "target": True},
            ],
        },
    )
    assert baseline.status_code == 201, baseline.json()
    lesions = api.get(f"/api/v1/lesions/?patient={pid}").json()["results"]
    assert [lesion["code"] for lesion in lesions] == ["T1", "T2"]
    followup = api.post(
        f"/api/v1/patients/{pid}/assessments/",
        {
            "assessment_date": str(enrolled_on + datetime.timedelta(days=42)),
            "method": "CT",
            "measurements": [
                {"lesion": "T1", "state": "measured", "diameter_mm": 30},
                {"lesion": lesions[1]["id"], "state": "measured", "diameter_mm": 12},
            ],
            "non_target_status": "NONE",
            "new_lesions": "none",
        },
    )
    assert followup.status_code == 201, followup.json()
    assert [m["diameter_mm"] for m in followup.json()["measurements"]] == [30, 12]
    url = f"/api/v1/tumor-assessments/{followup.json()['id']}/"
    assert "reason" in api.patch(url, {"notes": "Re-read"}).json()
    ok = api.patch(url, {"notes": "Re-read by radiology", "reason": "Central read"})
    assert ok.status_code == 200 and ok.json()["notes"] == "Re-read by radiology"


def test_withdrawals(api_for, coordinator_site_a, trial_site_a, setup):
    api = api_for(coordinator_site_a)
    pid = enrolled(api, trial_site_a, setup)
    refused = api.post(f"/api/v1/patients/{pid}/withdraw/", {"on_date": TODAY.isoformat()})
    assert refused.status_code == 400 and "reason" in refused.json()
    ok = api.post(
        f"/api/v1/patients/{pid}/withdraw/",
        {"on_date": TODAY.isoformat(), "reason": "Investigator decision"},
    )
    assert ok.status_code == 200 and ok.json()["status"] == "withdrawn"
    other = consented_patient(
        api, trial_site_a, setup, id_document_type="passport", id_document_number="X1234567"
    )
    consent = api.get(f"/api/v1/consents/?patient={other}").json()["results"][0]
    response = api.post(
        f"/api/v1/consents/{consent['id']}/withdraw/",
        {"withdrawn_on": TODAY.isoformat(), "reason": "Changed her mind"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["is_active"] is False
    assert Patient.objects.get(pk=other).status == "withdrawn"


def test_trial_statistics(
    api_for, coordinator_site_a, lead_investigator, investigator_site_a, trial
):
    url = f"/api/v1/trials/{trial.pk}/statistics/"
    assert api_for(coordinator_site_a).get(url).status_code == 403
    lead = api_for(lead_investigator)
    body = lead.get(url).json()
    assert body["scope"]["trial_wide"] is True and "overall" in body
    assert lead.get(url + "?site=NOPE").status_code == 404
    site = api_for(investigator_site_a).get(url).json()
    assert site["scope"]["trial_wide"] is False and site["scope"]["sites"] == ["SA"]
    assert api_for(investigator_site_a).get(url + "?site=SB").status_code == 404


def test_other_sites_workflow_urls_are_404_even_for_get(api_for, coordinator_site_a, patient_b):
    api = api_for(coordinator_site_a)
    for action in ("screen", "enroll", "consents", "withdraw"):
        assert api.get(f"/api/v1/patients/{patient_b.pk}/{action}/").status_code == 404
    assert api.get(f"/api/v1/patients/{patient_b.pk}/screen/").status_code == 404


def test_own_workflow_url_get_is_405(api_for, coordinator_site_a, patient_a):
    assert (
        api_for(coordinator_site_a).get(f"/api/v1/patients/{patient_a.pk}/screen/").status_code
        == 405
    )
