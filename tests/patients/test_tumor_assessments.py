"""Tumour assessments: baseline lesion selection (RECIST 1.1), follow-up measurements,
recorded responses, corrections and who may do what."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from patients.models import Lesion, LesionMeasurement, ResponseSummary, TumorAssessment, Visit
from patients.services import (
    assessment_record_baseline,
    assessment_record_followup,
    assessment_update,
)

from .helpers_tumor import BASELINE_DATE, FIRST_TREATMENT, TODAY, counts, day, enroll, lesion, node

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled_a(patient_a, coordinator_site_a):
    enroll(patient_a, coordinator_site_a)
    return patient_a


def baseline(patient, user, lesions, **kw):
    kw.setdefault("assessment_date", BASELINE_DATE)
    kw.setdefault("method", "CT")
    return assessment_record_baseline(patient=patient, acting_user=user, lesions=lesions, **kw)


def followup(patient, user, on, measurements, **kw):
    kw.setdefault("method", "CT")
    kw.setdefault("non_target_status", "")
    kw.setdefault("new_lesions", "none")
    return assessment_record_followup(
        patient=patient, acting_user=user, assessment_date=on, measurements=measurements, **kw
    )


def refused(call, *args, **kwargs) -> dict[str, list[str]]:
    before = counts()
    with pytest.raises(ValidationError) as exc:
        call(*args, **kwargs)
    assert counts() == before, "a refused write must leave no assessment, lesion or measurement"
    return exc.value.message_dict


def summary(patient) -> ResponseSummary:
    return ResponseSummary.objects.get(patient=patient)


@pytest.fixture
def two_targets(enrolled_a, coordinator_site_a):
    """Baseline: T1 liver 60 mm, T2 lung 40 mm (sum 100 mm), no non-target disease."""
    return baseline(enrolled_a, coordinator_site_a, [lesion("liver", 60), lesion("lung", 40)])


# --------------------------------------------------------------------------------------
# Baseline selection rules
# --------------------------------------------------------------------------------------


def test_baseline_assigns_codes_and_stores_lesions(enrolled_a, coordinator_site_a):
    assessment = baseline(
        enrolled_a,
        coordinator_site_a,
        [lesion("liver", 42), node(18, location="hilar"), lesion("peritoneum", 0, target=False)],
    )
    assert assessment.is_baseline and assessment.entered_by == coordinator_site_a
    codes = {les.code: (les.organ, les.target, les.baseline_mm) for les in enrolled_a.lesions.all()}
    assert codes == {
        "T1": ("liver", True, 42),
        "T2": ("lymph node", True, 18),
        "NT1": ("peritoneum", False, 0),
    }
    assert summary(enrolled_a).bor == "NE"  # no follow-up yet


def test_six_targets_refused_naming_the_limit(enrolled_a, coordinator_site_a):
    organs = ["liver", "liver", "lung", "lung", "bone", "adrenal"]
    errors = refused(baseline, enrolled_a, coordinator_site_a, [lesion(o, 25) for o in organs])
    assert errors["__all__"] == [
        "Lesion T6: at most 5 target lesions are allowed (this would be target number 6); "
        "record it as a non-target lesion."
    ]


def test_three_targets_in_one_organ_refused(enrolled_a, coordinator_site_a):
    errors = refused(
        baseline, enrolled_a, coordinator_site_a, [lesion("liver", 30) for _ in range(3)]
    )
    (message,) = errors["__all__"]
    assert message.startswith("Lesion T3: at most 2 target lesions per organ")


def test_three_nodes_in_different_stations_count_as_one_organ(enrolled_a, coordinator_site_a):
    nodes = [node(20, location=s) for s in ("hepatic hilum", "para-aortic", "portocaval")]
    errors = refused(baseline, enrolled_a, coordinator_site_a, nodes)
    (message,) = errors["__all__"]
    assert "Lesion T3" in message and "all lymph nodes count as one organ" in message


def test_nine_mm_liver_target_refused_naming_its_diameter(enrolled_a, coordinator_site_a):
    errors = refused(
        baseline, enrolled_a, coordinator_site_a, [lesion("lung", 30), lesion("liver", 9)]
    )
    assert errors == {
        "lesions[1].diameter_mm": [
            "A non-nodal target lesion needs a longest diameter of at least 10 mm; "
            "9 mm is not measurable."
        ]
    }


def test_fourteen_mm_node_target_refused(enrolled_a, coordinator_site_a):
    errors = refused(baseline, enrolled_a, coordinator_site_a, [node(14)])
    assert "at least 15 mm" in errors["lesions[0].diameter_mm"][0]
    # ... but it is fine as a (pathological) non-target node
    baseline(enrolled_a, coordinator_site_a, [lesion("liver", 30), node(14, target=False)])
    assert enrolled_a.lesions.get(code="NT1").nodal


def test_previously_ablated_lesion_cannot_be_target(enrolled_a, coordinator_site_a):
    errors = refused(baseline, enrolled_a, coordinator_site_a, [lesion("liver", 35, ablated=True)])
    assert "not measurable" in errors["lesions[0].target"][0]


@pytest.mark.parametrize(
    ("mm", "fragment"),
    [(-5, "cannot be negative"), (600, "not a plausible diameter"), ("abc", "as a number")],
)
def test_negative_or_absurd_diameter_refused_naming_the_field(
    enrolled_a, coordinator_site_a, mm, fragment
):
    errors = refused(
        baseline, enrolled_a, coordinator_site_a, [lesion("liver", 30), lesion("lung", mm)]
    )
    assert list(errors) == ["lesions[1].diameter_mm"]
    assert fragment in errors["lesions[1].diameter_mm"][0]


def test_second_baseline_refused(two_targets, enrolled_a, coordinator_site_a):
    errors = refused(baseline, enrolled_a, coordinator_site_a, [lesion("bone", 20)])
    assert "already has a baseline" in errors["__all__"][0]


@pytest.mark.parametrize(
    ("when", "fragment"),
    [
        (FIRST_TREATMENT - datetime.timedelta(days=29), "within 28 days before"),
        (FIRST_TREATMENT + datetime.timedelta(days=1), "after the start of treatment"),
        (TODAY + datetime.timedelta(days=1), "cannot be in the future"),
    ],
)
def test_baseline_date_window(enrolled_a, coordinator_site_a, when, fragment):
    errors = refused(baseline, enrolled_a, coordinator_site_a, [lesion()], assessment_date=when)
    assert fragment in " ".join(errors["assessment_date"])


def test_patient_not_enrolled_refused(patient_a, coordinator_site_a):
    errors = refused(baseline, patient_a, coordinator_site_a, [lesion()])
    assert "enrolled patients only" in errors["patient"][0]


# --------------------------------------------------------------------------------------
# Follow-ups
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, -1])
def test_followup_on_or_before_baseline_refused(
    two_targets, enrolled_a, coordinator_site_a, offset
):
    when = BASELINE_DATE + datetime.timedelta(days=offset)
    rows = [{"lesion": "T1", "diameter_mm": 50}, {"lesion": "T2", "diameter_mm": 30}]
    errors = refused(followup, enrolled_a, coordinator_site_a, when, rows)
    assert "after the baseline scan" in errors["assessment_date"][0]


def test_followup_needs_every_target_or_a_recorded_response(
    two_targets, enrolled_a, coordinator_site_a
):
    rows = [{"lesion": "T1", "diameter_mm": 50}, {"lesion": "T2", "state": ""}]
    errors = refused(followup, enrolled_a, coordinator_site_a, day(42), rows)
    assert "T2" in errors["measurements[1].state"][0]


def test_pr_then_pd_recomputes_the_response_and_keeps_history(
    client, two_targets, enrolled_a, coordinator_site_a
):
    def sums(t1, t2):
        return [{"lesion": "T1", "diameter_mm": t1}, {"lesion": "T2", "diameter_mm": t2}]

    first = followup(enrolled_a, coordinator_site_a, day(42), sums(36, 24))  # 60: -40 %
    assert summary(enrolled_a).outcome["timepoints"][0]["overall"] == "PR"
    followup(enrolled_a, coordinator_site_a, day(84), sums(40, 25))  # 65: PR, confirmed
    assert (summary(enrolled_a).bor, summary(enrolled_a).outcome["confirmed"]) == ("PR", True)
    followup(enrolled_a, coordinator_site_a, day(126), sums(50, 30))  # 80: +20 mm from nadir
    result = summary(enrolled_a)
    assert [tp["overall"] for tp in result.outcome["timepoints"]] == ["PR", "PR", "PD"]
    assert result.bor == "PR" and result.best_change_pct == pytest.approx(-40.0)
    assert result.outcome["progression_day"] == 126

    history = first.history.all()
    assert history.count() == 1 and history[0].history_user == coordinator_site_a
    client.force_login(coordinator_site_a)
    page = client.get(reverse("audit:history", args=["patients.tumorassessment", first.pk]))
    assert page.status_code == 200 and "crc_a" in page.content.decode()
    detail = client.get(reverse("patients:assessment_detail", args=[first.pk])).content.decode()
    assert "-40.0 %" in detail and "PR" in detail
    patient_page = client.get(reverse("patients:detail", args=[enrolled_a.pk])).content.decode()
    assert "Tumour response" in patient_page and "confirmed" in patient_page


def test_too_small_counts_five_mm(two_targets, enrolled_a, coordinator_site_a):
    assessment = followup(
        enrolled_a,
        coordinator_site_a,
        day(42),
        [{"lesion": "T1", "diameter_mm": 30}, {"lesion": "T2", "state": "too_small"}],
    )
    m = assessment.measurements.get(lesion__code="T2")
    assert (m.state, m.diameter_mm) == ("too_small", None)
    (tp,) = summary(enrolled_a).outcome["timepoints"]
    assert tp["sum_mm"] == 35 and tp["change_from_baseline_pct"] == pytest.approx(-65.0)


def test_disappeared_lesions_give_complete_response(two_targets, enrolled_a, coordinator_site_a):
    followup(
        enrolled_a,
        coordinator_site_a,
        day(42),
        [{"lesion": "T1", "state": "disappeared"}, {"lesion": "T2", "state": "disappeared"}],
    )
    (tp,) = summary(enrolled_a).outcome["timepoints"]
    assert (tp["overall"], tp["sum_mm"]) == ("CR", 0)


def test_split_lesion_stores_fragments_and_their_sum(two_targets, enrolled_a, coordinator_site_a):
    assessment = followup(
        enrolled_a,
        coordinator_site_a,
        day(42),
        [{"lesion": "T1", "fragments_mm": "30, 20"}, {"lesion": "T2", "diameter_mm": 40}],
    )
    m = assessment.measurements.get(lesion__code="T1")
    assert (m.state, m.diameter_mm, m.fragments_mm) == ("measured", 50, [30, 20])
    assert summary(enrolled_a).outcome["timepoints"][0]["sum_mm"] == 90


def test_merged_lesion_points_to_the_measured_one(two_targets, enrolled_a, coordinator_site_a):
    assessment = followup(
        enrolled_a,
        coordinator_site_a,
        day(42),
        [
            {"lesion": "T1", "diameter_mm": 70},
            {"lesion": "T2", "state": "merged", "merged_into": "T1"},
        ],
    )
    merged = assessment.measurements.get(lesion__code="T2")
    assert merged.merged_into.code == "T1" and merged.diameter_mm is None
    assert summary(enrolled_a).outcome["timepoints"][0]["sum_mm"] == 70


def test_merged_lesion_needs_its_host(two_targets, enrolled_a, coordinator_site_a):
    errors = refused(
        followup,
        enrolled_a,
        coordinator_site_a,
        day(42),
        [{"lesion": "T1", "diameter_mm": 70}, {"lesion": "T2", "state": "merged"}],
    )
    assert "merged into" in errors["measurements[1].merged_into"][0]


def test_recorded_response_is_used_as_given_and_marked(two_targets, enrolled_a, coordinator_site_a):
    errors = refused(followup, enrolled_a, coordinator_site_a, day(42), [], recorded_response="PR")
    assert "central review" in errors["recorded_response_source"][0]

    assessment = followup(
        enrolled_a,
        coordinator_site_a,
        day(42),
        [],
        recorded_response="PR",
        recorded_response_source="Central review (BICR)",
    )
    assert assessment.measurements.count() == 0
    (tp,) = summary(enrolled_a).outcome["timepoints"]
    assert (tp["overall"], tp["recorded"], tp["sum_mm"]) == ("PR", True, None)
    assert summary(enrolled_a).outcome["recorded"] is True


def test_followup_after_death_refused(two_targets, enrolled_a, coordinator_site_a):
    enrolled_a.death_date = day(60)
    enrolled_a.save()
    rows = [{"lesion": "T1", "diameter_mm": 50}, {"lesion": "T2", "diameter_mm": 30}]
    errors = refused(followup, enrolled_a, coordinator_site_a, day(84), rows)
    assert "after the patient's death" in errors["assessment_date"][0]


# --------------------------------------------------------------------------------------
# Corrections
# --------------------------------------------------------------------------------------


def test_editing_requires_a_reason(two_targets, enrolled_a, coordinator_site_a):
    rows = [{"lesion": "T1", "diameter_mm": 50}, {"lesion": "T2", "diameter_mm": 30}]
    fu = followup(enrolled_a, coordinator_site_a, day(42), rows)
    with pytest.raises(ValidationError) as exc:
        assessment_update(
            assessment=fu,
            acting_user=coordinator_site_a,
            reason="  ",
            measurements=[{"lesion": "T1", "diameter_mm": 40}, {"lesion": "T2", "diameter_mm": 30}],
        )
    assert "reason" in exc.value.message_dict
    assert fu.measurements.get(lesion__code="T1").diameter_mm == 50

    assessment_update(
        assessment=fu,
        acting_user=coordinator_site_a,
        reason="Re-read by radiologist",
        measurements=[{"lesion": "T1", "diameter_mm": 40}, {"lesion": "T2", "diameter_mm": 30}],
    )
    m = fu.measurements.get(lesion__code="T1")
    assert m.diameter_mm == 40
    assert m.history.first().history_change_reason == "Re-read by radiologist"
    assert summary(enrolled_a).outcome["timepoints"][0]["sum_mm"] == 70


def test_baseline_correction_keeps_measured_lesions(two_targets, enrolled_a, coordinator_site_a):
    rows = [{"lesion": "T1", "diameter_mm": 50}, {"lesion": "T2", "diameter_mm": 30}]
    followup(enrolled_a, coordinator_site_a, day(42), rows)
    t1 = enrolled_a.lesions.get(code="T1")
    errors = refused(
        assessment_update,
        assessment=two_targets,
        acting_user=coordinator_site_a,
        reason="typo",
        lesions=[{"id": t1.pk, "organ": "liver", "target": True, "diameter_mm": 60}],
    )
    assert "T2 is measured at a follow-up" in errors["__all__"][0]
    assessment_update(
        assessment=two_targets,
        acting_user=coordinator_site_a,
        reason="Baseline re-measured",
        lesions=[
            {"id": t1.pk, "code": "T1", "organ": "liver", "target": True, "diameter_mm": 70},
            {"code": "T2", "organ": "lung", "target": True, "diameter_mm": 40},
            {"organ": "bone", "target": False, "diameter_mm": 0},
        ],
    )
    t1.refresh_from_db()
    assert t1.baseline_mm == 70 and enrolled_a.lesions.get(code="NT1").organ == "bone"
    # the follow-up said "no non-target lesions": now it must be reviewed (not evaluated)
    fu = TumorAssessment.objects.get(is_baseline=False)
    assert fu.non_target_status == ""
    (tp,) = summary(enrolled_a).outcome["timepoints"]
    assert tp["change_from_baseline_pct"] == pytest.approx(-27.272727, abs=1e-4)


def test_correcting_only_the_date_keeps_lesions_and_measurements(
    two_targets, enrolled_a, coordinator_site_a
):
    rows = [{"lesion": "T1", "state": "too_small"}, {"lesion": "T2", "fragments_mm": [10, 5]}]
    fu = followup(enrolled_a, coordinator_site_a, day(42), rows)
    assessment_update(
        assessment=two_targets,
        acting_user=coordinator_site_a,
        reason="Wrong scan date",
        assessment_date=BASELINE_DATE - datetime.timedelta(days=2),
    )
    assessment_update(
        assessment=fu, acting_user=coordinator_site_a, reason="Wrong date", assessment_date=day(44)
    )
    two_targets.refresh_from_db()
    fu.refresh_from_db()
    assert two_targets.assessment_date == BASELINE_DATE - datetime.timedelta(days=2)
    assert fu.assessment_date == day(44) and enrolled_a.lesions.count() == 2
    t2 = fu.measurements.get(lesion__code="T2")
    assert (t2.diameter_mm, t2.fragments_mm) == (15, [10, 5])
    assert fu.measurements.get(lesion__code="T1").state == "too_small"
    assert summary(enrolled_a).outcome["timepoints"][0]["day"] == 44
    # a follow-up cannot be moved before the baseline
    errors = refused(
        assessment_update,
        assessment=fu,
        acting_user=coordinator_site_a,
        reason="typo",
        assessment_date=BASELINE_DATE - datetime.timedelta(days=5),
    )
    assert "after the baseline scan" in errors["assessment_date"][0]


def test_edit_page_refuses_without_reason(client, two_targets, enrolled_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    url = reverse("patients:assessment_edit", args=[two_targets.pk])
    assert client.get(url).status_code == 200
    data = baseline_post(
        [{"code": "T1", "organ": "liver", "target": True, "diameter_mm": 55}],
        assessment_date=BASELINE_DATE.isoformat(),
        reason="",
    )
    t1 = enrolled_a.lesions.get(code="T1")
    data["lesions-0-id"] = t1.pk
    data["lesions-1-id"] = enrolled_a.lesions.get(code="T2").pk
    data.update({"lesions-1-code": "T2", "lesions-1-organ": "lung", "lesions-1-target": "on"})
    data["lesions-1-diameter_mm"] = "40"
    data["lesions-INITIAL_FORMS"] = "2"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "A reason for change is required" in response.content.decode()
    t1.refresh_from_db()
    assert t1.baseline_mm == 60
    data["reason"] = "Diameter re-measured on the original scan"
    response = client.post(url, data)
    assert response.status_code == 302
    t1.refresh_from_db()
    assert t1.baseline_mm == 55
    assert t1.history.first().history_change_reason == "Diameter re-measured on the original scan"


# --------------------------------------------------------------------------------------
# Pages and permissions
# --------------------------------------------------------------------------------------


def baseline_post(rows, **fields):
    data = {
        "assessment_date": BASELINE_DATE.isoformat(),
        "method": "CT",
        "visit": "",
        "notes": "",
        "lesions-TOTAL_FORMS": str(max(len(rows), 3)),
        "lesions-INITIAL_FORMS": "0",
        "lesions-MIN_NUM_FORMS": "0",
        "lesions-MAX_NUM_FORMS": "40",
    }
    data.update(fields)
    for i, row in enumerate(rows):
        for key, value in row.items():
            if isinstance(value, bool):
                if value:
                    data[f"lesions-{i}-{key}"] = "on"
            else:
                data[f"lesions-{i}-{key}"] = str(value)
    return data


def test_baseline_form_records_lesions(client, enrolled_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    url = reverse("patients:assessment_baseline", args=[enrolled_a.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'list="organ-list"' in page.content.decode()
    response = client.post(
        url,
        baseline_post(
            [
                {"organ": "liver", "target": True, "diameter_mm": 42},
                {"organ": "lymph node", "nodal": True, "target": True, "diameter_mm": 17},
                {"organ": "peritoneum", "target": False, "diameter_mm": 0},
            ]
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert sorted(enrolled_a.lesions.values_list("code", flat=True)) == ["NT1", "T1", "T2"]


def test_baseline_form_shows_row_errors(client, enrolled_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    url = reverse("patients:assessment_baseline", args=[enrolled_a.pk])
    response = client.post(
        url,
        baseline_post(
            [
                {"organ": "liver", "target": True, "diameter_mm": 30},
                {"organ": "lung", "target": True, "diameter_mm": -5},
            ]
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "A diameter cannot be negative (-5 mm)." in html
    six = [{"organ": o, "target": True, "diameter_mm": 25} for o in "ABCDEF"]
    html = client.post(url, baseline_post(six)).content.decode()
    assert "Lesion T6: at most 5 target lesions are allowed" in html
    assert counts() == (0, 0, 0)


def test_followup_linked_to_a_visit_with_a_recorded_response(
    client, two_targets, enrolled_a, coordinator_site_a
):
    visit = Visit.objects.create(patient=enrolled_a, scheduled_date=day(42), actual_date=day(43))
    client.force_login(coordinator_site_a)
    url = reverse("patients:assessment_new", args=[enrolled_a.pk]) + f"?visit={visit.pk}"
    page = client.get(url).content.decode()
    assert f'<option value="{visit.pk}" selected>' in page and day(43).isoformat() in page
    data = {
        "assessment_date": day(43).isoformat(),
        "method": "MRI",
        "visit": visit.pk,
        "non_target_status": "NONE",
        "new_lesions": "none",
        "recorded_response": "SD",
        "recorded_response_source": "Central review",
        "measurements-TOTAL_FORMS": "2",
        "measurements-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assessment = TumorAssessment.objects.get(is_baseline=False)
    assert assessment.visit == visit and assessment.recorded_response == "SD"
    html = client.get(response.url).content.decode()
    assert "recorded" in html and "Central review" in html


def test_followup_form_records_measurements(client, two_targets, enrolled_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    url = reverse("patients:assessment_new", args=[enrolled_a.pk])
    page = client.get(url)
    assert page.status_code == 200 and "T2" in page.content.decode()
    data = {
        "assessment_date": day(42).isoformat(),
        "method": "CT",
        "non_target_status": "NONE",
        "new_lesions": "none",
        "measurements-TOTAL_FORMS": "2",
        "measurements-INITIAL_FORMS": "0",
        "measurements-MIN_NUM_FORMS": "0",
        "measurements-MAX_NUM_FORMS": "1000",
        "measurements-0-diameter_mm": "36",
        "measurements-1-state": "too_small",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    (tp,) = summary(enrolled_a).outcome["timepoints"]
    assert tp["sum_mm"] == 41

    data["assessment_date"] = BASELINE_DATE.isoformat()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "after the baseline scan" in response.content.decode()
    assert TumorAssessment.objects.filter(is_baseline=False).count() == 1


def test_coordinator_b_gets_404_on_site_a_assessments(
    client, two_targets, enrolled_a, coordinator_site_b
):
    client.force_login(coordinator_site_b)
    for name, pk in [
        ("patients:assessment_detail", two_targets.pk),
        ("patients:assessment_edit", two_targets.pk),
        ("patients:assessment_new", enrolled_a.pk),
        ("patients:assessment_baseline", enrolled_a.pk),
    ]:
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
        assert client.post(reverse(name, args=[pk]), {}).status_code == 404, name


def test_monitor_cannot_enter_assessments(client, enrolled_a, monitor, coordinator_site_a):
    client.force_login(monitor)
    url = reverse("patients:assessment_baseline", args=[enrolled_a.pk])
    assert client.get(url).status_code == 403
    data = baseline_post([{"organ": "liver", "target": True, "diameter_mm": 42}])
    assert client.post(url, data).status_code == 403
    with pytest.raises(PermissionDenied):
        baseline(enrolled_a, monitor, [lesion()])
    assert counts() == (0, 0, 0)
    # the monitor still reads what the site entered
    assessment = baseline(enrolled_a, coordinator_site_a, [lesion("liver", 30)])
    assert (
        client.get(reverse("patients:assessment_detail", args=[assessment.pk])).status_code == 200
    )
    assert client.get(reverse("patients:assessment_edit", args=[assessment.pk])).status_code == 403
    assert Lesion.objects.count() == 1 and LesionMeasurement.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_baselines_record_only_one(patient_a, coordinator_site_a):
    enroll(patient_a, coordinator_site_a)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def worker(mm: int) -> None:
        try:
            barrier.wait()
            baseline(patient_a, coordinator_site_a, [lesion("liver", mm)])
            outcomes.append("saved")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(20 + i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("saved") == 1
    assert all("already has a baseline" in o for o in outcomes if o != "saved")
    assert TumorAssessment.objects.filter(is_baseline=True).count() == 1
    assert Lesion.objects.count() == 1
