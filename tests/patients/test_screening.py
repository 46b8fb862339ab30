from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from patients.models import Consent, Enrollment, Patient, Screening
from patients.services import (
    consent_record,
    patient_set_status,
    patient_update,
    screening_record,
)
from patients.services.visits import patient_local_today
from tests.conftest import EXPAT_DATA
from trials.models import ConsentVersion, EligibilityCriterion, ProtocolVersion
from trials.services import criteria_load_defaults

# A patient who meets every default iCCA criterion (coordinator's answers only: date of
# birth, permit, documents, insurance and consent languages come from the records).
FULL_ANSWERS: dict[str, Any] = {
    "histology": "icca",
    "histology_confirmed": True,
    "unresectable": True,
    "metastatic": False,
    "measurable_lesion_count": 2,
    "prior_systemic_therapy": False,
    "prior_checkpoint_inhibitor": False,
    "prior_radiotherapy": False,
    "prior_major_surgery": False,
    "prior_local_therapy": False,
    "other_malignancy": False,
    "cns_metastases": False,
    "child_pugh_class": "A",
    "ecog": 1,
    "life_expectancy_weeks": 24,
    "platelets": Decimal("150"),
    "neutrophils": Decimal("3.2"),
    "haemoglobin": Decimal("125"),
    "bilirubin": Decimal("12"),
    "bilirubin_uln": Decimal("21"),
    "alt": Decimal("40"),
    "alt_uln": Decimal("40"),
    "ast": Decimal("35"),
    "ast_uln": Decimal("40"),
    "creatinine": Decimal("70"),
    "creatinine_uln": Decimal("104"),
}
#: An expatriate whose insurance is recorded; the permit expires in 400 days, before
#: the end of the 24-month follow-up.
EXPAT = {
    **EXPAT_DATA,
    "insurance_provider": "Samsung Fire",
    "insurance_covers_trial": "no",
    "trial_injury_insurance": True,
}
EXPAT_ANSWERS: dict[str, Any] = {
    **FULL_ANSWERS,
    "interpreter_available": True,
    "impartial_witness_available": True,
    "remote_followup_agreed": False,
}


@pytest.fixture
def protocol_version(trial: Any) -> ProtocolVersion:
    """Version 1.0 of the ``trial`` fixture with the default iCCA criteria loaded."""
    version = ProtocolVersion.objects.create(
        trial=trial, version="1.0", effective_date=datetime.date(2025, 1, 1)
    )
    assert criteria_load_defaults(protocol_version=version, acting_user=None) == 25
    return version


@pytest.fixture
def expat_a(trial_site_a: Any, coordinator_site_a: Any, register: Any) -> Patient:
    return register(trial_site_a, coordinator_site_a, **EXPAT)


def form_data(answers: dict[str, Any], screening_date: datetime.date) -> dict[str, str]:
    """What the browser posts for ``answers``."""
    data = {"screening_date": screening_date.isoformat()}
    for name, value in answers.items():
        if isinstance(value, bool):
            data[name] = "yes" if value else "no"
        elif isinstance(value, datetime.date):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)
    return data


def screen(patient: Patient, user: Any, answers: dict[str, Any], **kw: Any) -> Screening:
    return screening_record(
        patient=patient,
        acting_user=user,
        screening_date=kw.get("screening_date", patient_local_today(patient)),
        answers=answers,
    )


def statuses(result: Screening) -> dict[str, str]:
    return {r["code"]: r["status"] for r in result.criteria_results}


# --- evaluation -----------------------------------------------------------------------


def test_full_icca_patient_is_eligible(protocol_version, patient_a, coordinator_site_a):
    screening = screen(patient_a, coordinator_site_a, FULL_ANSWERS)
    patient_a.refresh_from_db()
    assert screening.result == "eligible" and patient_a.status == "eligible"
    assert screening.failed_codes == []
    assert screening.protocol_version == protocol_version
    assert screening.screened_by == coordinator_site_a
    result = statuses(screening)
    assert len(result) == 25
    assert {s for c, s in result.items() if not c.startswith("EXP-")} == {"met"}
    # a resident: the expatriate criteria are listed as not applicable
    assert {s for c, s in result.items() if c.startswith("EXP-")} == {"not_applicable"}
    # values taken from the record, not asked: date of birth
    assert screening.data["birth_date"] == "1965-04-02"
    assert screening.data["platelets"] == "150" and screening.data["ecog"] == 1
    record = screening.history.get()
    assert record.history_user == coordinator_site_a
    assert "eligible" in record.history_change_reason.lower()


def test_ecog_2_fails_with_reason(protocol_version, patient_a, coordinator_site_a):
    screening = screen(patient_a, coordinator_site_a, {**FULL_ANSWERS, "ecog": 2})
    patient_a.refresh_from_db()
    assert screening.result == "not_eligible" and patient_a.status == "screen_failed"
    assert screening.failed_codes == ["INC-ECOG"]
    ecog = next(r for r in screening.criteria_results if r["code"] == "INC-ECOG")
    assert ecog["status"] == "not_met" and ecog["satisfied"] is False
    assert ecog["reason"] == "ECOG performance status is 2; must be <= 1"


def test_exclusion_present_is_not_met(protocol_version, patient_a, coordinator_site_a):
    screening = screen(patient_a, coordinator_site_a, {**FULL_ANSWERS, "cns_metastases": True})
    cns = next(r for r in screening.criteria_results if r["code"] == "EXC-CNS")
    assert cns["status"] == "not_met" and cns["rule_status"] == "met"
    assert cns["reason"] == "CNS metastases is yes; must be no"


def test_missing_answers_make_the_screening_incomplete(
    protocol_version, patient_a, coordinator_site_a
):
    answers = {k: v for k, v in FULL_ANSWERS.items() if k not in ("platelets", "child_pugh_class")}
    screening = screen(patient_a, coordinator_site_a, answers)
    patient_a.refresh_from_db()
    assert screening.result == "incomplete" and patient_a.status == "screening"
    assert screening.failed_codes == []
    result = {r["code"]: r for r in screening.criteria_results}
    assert result["INC-PLATELETS"]["status"] == "missing"
    assert result["INC-PLATELETS"]["missing_fields"] == ["platelets"]
    assert result["INC-CHILD-PUGH"]["reason"] == "Child-Pugh class is missing"


def test_washout_after_local_therapy(protocol_version, patient_a, coordinator_site_a):
    today = patient_local_today(patient_a)
    answers = {
        **FULL_ANSWERS,
        "prior_local_therapy": True,
        "last_local_therapy_date": today - datetime.timedelta(days=20),
        "baseline_scan_date": today,
    }
    screening = screen(patient_a, coordinator_site_a, answers)
    assert screening.failed_codes == ["EXC-RECENT-LOCAL-THERAPY"]
    washout = next(r for r in screening.criteria_results if r["code"] == "EXC-RECENT-LOCAL-THERAPY")
    assert "to date of the baseline scan is 20 days" in washout["reason"]


def test_criteria_of_the_version_in_effect_on_the_screening_date(
    protocol_version, patient_a, coordinator_site_a
):
    today = patient_local_today(patient_a)
    later = ProtocolVersion.objects.create(
        trial=protocol_version.trial, version="2.0", effective_date=today
    )
    EligibilityCriterion.objects.create(
        trial=later.trial,
        protocol_version=later,
        code="INC-ECOG",
        kind="inclusion",
        text="ECOG 0 only.",
        rule={"field": "ecog", "op": "==", "value": 0},
    )
    yesterday = today - datetime.timedelta(days=1)
    old = screen(patient_a, coordinator_site_a, FULL_ANSWERS, screening_date=yesterday)
    assert old.protocol_version == protocol_version and old.result == "eligible"
    new = screen(patient_a, coordinator_site_a, FULL_ANSWERS, screening_date=today)
    assert new.protocol_version == later and new.failed_codes == ["INC-ECOG"]
    assert Screening.objects.filter(patient=patient_a).count() == 2


# --- expatriate patients --------------------------------------------------------------


def test_expatriate_fails_on_permit_then_eligible_after_correction(
    client, protocol_version, expat_a, coordinator_site_a
):
    """The browser flow: screen (permit too short), correct the permit, re-screen."""
    client.force_login(coordinator_site_a)
    today = patient_local_today(expat_a)
    url = reverse("patients:screen", args=[expat_a.pk])
    response = client.post(url, form_data(EXPAT_ANSWERS, today))
    first = Screening.objects.get(patient=expat_a)
    assert response.status_code == 302
    assert response.url == reverse("patients:screening_detail", args=[first.pk])
    assert first.result == "not_eligible" and first.failed_codes == ["EXP-PERMIT"]
    page = client.get(response.url).content.decode()
    assert (
        "EXP-PERMIT" in page
        and "Residence permit valid through the planned end of follow-up is no" in page
    )
    assert 'id="screen-failure"' in page
    expat_a.refresh_from_db()
    assert expat_a.status == "screen_failed"

    patient_update(
        patient=expat_a,
        acting_user=coordinator_site_a,
        reason="New residence permit issued",
        residence_permit_expiry=today + datetime.timedelta(days=900),
    )
    form = client.get(url)
    assert form.status_code == 200
    assert form.context["form"].initial["platelets"] == Decimal("150")  # pre-filled
    assert (today + datetime.timedelta(days=900)).isoformat() in form.content.decode()
    response = client.post(url, form_data(EXPAT_ANSWERS, today))
    assert response.status_code == 302
    second = Screening.objects.exclude(pk=first.pk).get(patient=expat_a)
    assert second.result == "eligible"
    first.refresh_from_db()
    assert first.result == "not_eligible" and first.failed_codes == ["EXP-PERMIT"]  # kept
    expat_a.refresh_from_db()
    assert expat_a.status == "eligible"
    assert [h.status for h in expat_a.history.order_by("history_date", "history_id")] == [
        "screening",
        "screen_failed",
        "screen_failed",  # the permit correction
        "screening",
        "eligible",
    ]
    detail = client.get(reverse("patients:detail", args=[expat_a.pk])).content.decode()
    assert detail.count("patients/screenings/") >= 2 and "Re-screen" in detail


def test_remote_followup_agreed_meets_the_permit_criterion(
    protocol_version, expat_a, coordinator_site_a
):
    screening = screen(
        expat_a, coordinator_site_a, {**EXPAT_ANSWERS, "remote_followup_agreed": True}
    )
    assert screening.result == "eligible"
    assert statuses(screening)["EXP-PERMIT"] == "met"


def test_expatriate_record_values_and_consent_language(
    protocol_version, expat_a, coordinator_site_a
):
    ConsentVersion.objects.create(
        trial=protocol_version.trial,
        version="1.0",
        language="ko",
        ethics_approval_ref="EC-KO-1",
        approved_on=datetime.date(2025, 1, 1),
        effective_from=datetime.date(2025, 1, 2),
    )
    answers = {
        **EXPAT_ANSWERS,
        "interpreter_available": False,
        "impartial_witness_available": False,
        "remote_followup_agreed": True,
    }
    screening = screen(expat_a, coordinator_site_a, answers)
    assert screening.result == "eligible"
    assert screening.data["consent_language_available"] is True
    assert screening.data["id_document_recorded"] is True
    assert screening.data["planned_followup_days"] == 731  # 24 months x 30.44
    assert (
        screening.data["residence_permit_expiry_date"]
        == expat_a.residence_permit_expiry.isoformat()
    )
    # no insurance recorded at all -> the insurance criterion fails
    patient_update(
        patient=expat_a,
        acting_user=coordinator_site_a,
        reason="Insurance unknown after all",
        insurance_provider="",
        insurance_covers_trial="unknown",
        trial_injury_insurance=False,
    )
    again = screen(expat_a, coordinator_site_a, answers)
    assert again.failed_codes == ["EXP-INSURANCE"]


def test_superseded_consent_version_does_not_count(protocol_version, expat_a, coordinator_site_a):
    ConsentVersion.objects.create(
        trial=protocol_version.trial,
        version="1.0",
        language="ko",
        ethics_approval_ref="EC-KO-1",
        approved_on=datetime.date(2025, 1, 1),
        effective_from=datetime.date(2025, 1, 2),
        superseded_on=datetime.date(2025, 6, 1),
    )
    answers = {**EXPAT_ANSWERS, "interpreter_available": False, "remote_followup_agreed": True}
    screening = screen(expat_a, coordinator_site_a, answers)
    assert screening.failed_codes == ["EXP-CONSENT-LANGUAGE"]


# --- the form -------------------------------------------------------------------------


def test_form_asks_only_what_the_criteria_need(
    client, protocol_version, patient_a, expat_a, coordinator_site_a
):
    client.force_login(coordinator_site_a)
    resident = client.get(reverse("patients:screen", args=[patient_a.pk]))
    expat = client.get(reverse("patients:screen", args=[expat_a.pk]))
    resident_fields, expat_fields = (
        set(resident.context["form"].fields),
        set(expat.context["form"].fields),
    )
    expat_only = {"interpreter_available", "impartial_witness_available", "remote_followup_agreed"}
    assert expat_only <= expat_fields and not expat_only & resident_fields
    from_records = {
        "birth_date",
        "residence_permit_expiry_date",
        "id_document_recorded",
        "insurance_recorded",
        "consent_language_available",
        "planned_followup_days",
    }
    assert not from_records & (resident_fields | expat_fields)
    assert {"ecog", "platelets", "histology", "last_local_therapy_date"} <= resident_fields
    assert expat_fields - resident_fields == expat_only
    html = expat.content.decode()
    assert 'data-field="residence_permit_expiry_date"' in html  # shown read-only
    assert reverse("patients:edit", args=[expat_a.pk]) in html
    assert 'name="residence_permit_expiry_date"' not in html and 'name="birth_date"' not in html
    assert 'type="number"' in html and 'max="5"' in html  # ECOG 0-5
    assert "Laboratory values" in html and "Expatriate patient requirements" in html
    assert 'data-field="residence_permit_expiry_date"' not in resident.content.decode()


def test_no_criteria_configured_says_so(client, patient_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    response = client.get(reverse("patients:screen", args=[patient_a.pk]))
    assert response.status_code == 200
    assert (
        "No protocol version of this trial with eligibility criteria" in response.content.decode()
    )
    with pytest.raises(ValidationError) as exc:
        screen(patient_a, coordinator_site_a, FULL_ANSWERS)
    assert "screening_date" in exc.value.message_dict


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ecog": "7"}, "ecog", "less than or equal to 5"),
        ({"platelets": "abc"}, "platelets", "Enter a number"),
        ({"screening_date": "future"}, "screening_date", "cannot be in the future"),
        ({"histology": "lymphoma"}, "histology", "Select a valid choice"),
        (
            {"prior_radiotherapy": "yes", "last_radiotherapy_date": "tomorrow"},
            "last_radiotherapy_date",
            "cannot be after the screening date",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    client, protocol_version, patient_a, coordinator_site_a, change, field, message
):
    client.force_login(coordinator_site_a)
    today = patient_local_today(patient_a)
    data = form_data(FULL_ANSWERS, today)
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    data.update({k: tomorrow if v in ("future", "tomorrow") else v for k, v in change.items()})
    response = client.post(reverse("patients:screen", args=[patient_a.pk]), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in e for e in errors[field]), errors
    assert message in response.content.decode()
    assert not Screening.objects.exists()
    patient_a.refresh_from_db()
    assert patient_a.status == "screening"


def test_service_validates_answers_too(protocol_version, patient_a, coordinator_site_a):
    with pytest.raises(ValidationError) as exc:
        screen(
            patient_a,
            coordinator_site_a,
            {**FULL_ANSWERS, "ecog": 7, "platelets": "abc", "birth_date": "1990-01-01", "x": 1},
        )
    errors = exc.value.message_dict
    assert "from 0 to 5" in errors["ecog"][0]
    assert errors["platelets"] == ["Enter a number."]
    assert "patient record" in errors["birth_date"][0]
    assert errors["x"] == ["Unknown screening field."]
    with pytest.raises(ValidationError) as exc:
        screen(
            patient_a, coordinator_site_a, FULL_ANSWERS, screening_date=datetime.date(2020, 1, 1)
        )
    assert "more than a year before" in exc.value.message_dict["screening_date"][0]
    assert not Screening.objects.exists()


def test_rescreen_prefills_and_keeps_history(
    client, protocol_version, patient_a, coordinator_site_a
):
    screen(patient_a, coordinator_site_a, {**FULL_ANSWERS, "ecog": 2})
    client.force_login(coordinator_site_a)
    form = client.get(reverse("patients:screen", args=[patient_a.pk])).context["form"]
    assert form.initial["ecog"] == 2 and form.initial["histology_confirmed"] == "yes"
    screen(patient_a, coordinator_site_a, FULL_ANSWERS)
    patient_a.refresh_from_db()
    assert patient_a.status == "eligible"
    assert list(patient_a.screenings.order_by("created_at").values_list("result", flat=True)) == [
        "not_eligible",
        "eligible",
    ]


def test_no_screening_after_consent(client, protocol_version, patient_a, coordinator_site_a):
    screen(patient_a, coordinator_site_a, FULL_ANSWERS)
    patient_a.refresh_from_db()
    patient_set_status(
        patient=patient_a, status="consented", acting_user=coordinator_site_a, reason="Consent"
    )
    with pytest.raises(ValidationError) as exc:
        screen(patient_a, coordinator_site_a, FULL_ANSWERS)
    assert "screening is closed once a patient has consented" in exc.value.messages[0]
    client.force_login(coordinator_site_a)
    response = client.get(reverse("patients:screen", args=[patient_a.pk]), follow=True)
    assert "screening is closed once a patient has consented" in response.content.decode()
    assert Screening.objects.count() == 1


def test_chinese_criterion_text_when_the_ui_is_chinese(
    client, protocol_version, patient_a, coordinator_site_a
):
    screening = screen(patient_a, coordinator_site_a, {**FULL_ANSWERS, "ecog": 2})
    client.force_login(coordinator_site_a)
    url = reverse("patients:screening_detail", args=[screening.pk])
    assert "ECOG performance status 0 or 1." in client.get(url).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "ECOG 体能状态评分 0 或 1。" in client.get(url).content.decode()


# --- permissions ----------------------------------------------------------------------


def test_monitor_cannot_screen(client, protocol_version, patient_a, monitor):
    client.force_login(monitor)
    url = reverse("patients:screen", args=[patient_a.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, form_data(FULL_ANSWERS, patient_local_today(patient_a)))
    assert response.status_code == 403
    assert not Screening.objects.exists()
    patient_a.refresh_from_db()
    assert patient_a.status == "screening"


def test_coordinator_b_cannot_reach_site_a_screenings(
    client, protocol_version, patient_a, coordinator_site_a, coordinator_site_b, monitor
):
    screening = screen(patient_a, coordinator_site_a, FULL_ANSWERS)
    client.force_login(coordinator_site_b)
    assert client.get(reverse("patients:screening_detail", args=[screening.pk])).status_code == 404
    url = reverse("patients:screen", args=[patient_a.pk])
    assert (
        client.post(url, form_data(FULL_ANSWERS, patient_local_today(patient_a))).status_code == 404
    )
    assert Screening.objects.count() == 1
    client.force_login(monitor)  # monitors read every site's screenings
    page = client.get(reverse("patients:screening_detail", args=[screening.pk]))
    assert page.status_code == 200 and "Re-screen" not in page.content.decode()
    history = client.get(reverse("audit:history", args=["patients.screening", screening.pk]))
    assert history.status_code == 200 and "crc_a" in history.content.decode()


# --- the screening log ----------------------------------------------------------------


@pytest.fixture
def screened_population(
    protocol_version, trial_site_a, trial_site_b, coordinator_site_a, coordinator_site_b, register
):
    """Site A: eligible, failed (ECOG), failed then eligible, incomplete, not screened.
    Site B: failed on the permit (expatriate), eligible then consented."""
    a = [
        register(
            trial_site_a,
            coordinator_site_a,
            id_document_type="passport",
            id_document_number=f"E1234567{i}",
        )
        for i in range(5)
    ]
    screen(a[0], coordinator_site_a, FULL_ANSWERS)
    screen(a[1], coordinator_site_a, {**FULL_ANSWERS, "ecog": 3, "platelets": 50})
    screen(a[2], coordinator_site_a, {**FULL_ANSWERS, "ecog": 2})
    screen(a[2], coordinator_site_a, FULL_ANSWERS)
    screen(a[3], coordinator_site_a, {"ecog": 1})
    b_expat = register(trial_site_b, coordinator_site_b, **EXPAT)
    screen(b_expat, coordinator_site_b, EXPAT_ANSWERS)
    b_ok = register(trial_site_b, coordinator_site_b)
    screen(b_ok, coordinator_site_b, FULL_ANSWERS)
    b_ok.refresh_from_db()
    consent_record(
        patient=b_ok,
        acting_user=coordinator_site_b,
        consent_version=ConsentVersion.objects.create(
            trial=protocol_version.trial,
            version="1.0",
            language="zh",
            ethics_approval_ref="EC-ZH-1",
            approved_on=datetime.date(2025, 1, 1),
            effective_from=datetime.date(2025, 1, 2),
        ),
        consented_at=timezone.now() - datetime.timedelta(minutes=5),
        language="zh",
        personal_information_consent=True,
    )
    return {"a": a, "b_expat": b_expat, "b_ok": b_ok}


def test_screening_log_counts_match_the_database(
    client, screened_population, lead_investigator, coordinator_site_a, django_assert_num_queries
):
    client.force_login(lead_investigator)
    url = reverse("patients:screening_log")
    client.get(url)  # warm the session
    # session, user, memberships (scope), filter choices: trials, trial-sites; the log:
    # sites, patient counts, screening counts, criterion texts, failure counts,
    # referrals per site and pre-screenings (public recruiting pages)
    with django_assert_num_queries(12):
        response = client.get(url)
    log = response.context["log"]
    latest = {}
    for s in Screening.objects.order_by("screening_date", "created_at", "pk"):
        latest[s.patient_id] = s.result
    expected = {
        "registered": Patient.objects.count(),
        "screened": Patient.objects.annotate(n=Count("screenings")).filter(n__gt=0).count(),
        "screenings": Screening.objects.count(),
        "screen_failed": sum(r == "not_eligible" for r in latest.values()),
        "eligible": sum(r == "eligible" for r in latest.values()),
        "incomplete": sum(r == "incomplete" for r in latest.values()),
        "consented": Consent.objects.values("patient").distinct().count(),
        "enrolled": Enrollment.objects.count(),
    }
    assert log.totals == expected
    assert expected == {
        "registered": 7,
        "screened": 6,
        "screenings": 7,
        "screen_failed": 2,
        "eligible": 3,
        "incomplete": 1,
        "consented": 1,
        "enrolled": 0,
    }
    by_site = {row.trial_site.site.code: row.counts for row in log.rows}
    assert by_site["SA"]["screenings"] == 5 and by_site["SB"]["screenings"] == 2
    assert by_site["SA"]["screen_failed"] == 1 and by_site["SB"]["screen_failed"] == 1
    failures = {f.code: (f.patients, f.screenings) for f in log.failures}
    assert failures == {
        "INC-ECOG": (1, 2),
        "INC-PLATELETS": (1, 1),
        "EXP-PERMIT": (1, 1),
    }
    html = response.content.decode()
    assert "Residence permit / visa valid through the planned end of follow-up" in html

    rows = list(
        csv.reader(io.StringIO(client.get(url, {"format": "csv"}).content.decode("utf-8-sig")))
    )
    total = next(r for r in rows if r and r[0] == "Total")
    assert [int(x) for x in total[2:]] == [expected[k] for k in expected]
    permit = next(r for r in rows if r and r[0] == "EXP-PERMIT")
    assert permit[2:] == ["1", "1"] and permit[1].startswith("Residence permit")

    client.force_login(coordinator_site_a)  # only their own site
    log = client.get(url).context["log"]
    assert [row.trial_site.site.code for row in log.rows] == ["SA"]
    assert log.totals["screenings"] == 5
    assert {f.code for f in log.failures} == {"INC-ECOG", "INC-PLATELETS"}


def test_screening_log_filters(client, screened_population, lead_investigator, trial_site_b):
    client.force_login(lead_investigator)
    url = reverse("patients:screening_log")
    log = client.get(url, {"trial_site": trial_site_b.pk}).context["log"]
    assert log.totals["screenings"] == 2
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    log = client.get(url, {"date_from": tomorrow.isoformat()}).context["log"]
    assert log.totals["screenings"] == 0 and log.totals["registered"] == 0
    bad = client.get(url, {"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert bad.status_code == 200 and "cannot be before its start" in bad.content.decode()


def test_screening_log_csv_neutralises_formulas(client, screened_population, lead_investigator):
    criterion = EligibilityCriterion.objects.filter(code="INC-ECOG").first()
    criterion.text = '=HYPERLINK("http://evil.example","ECOG")'
    criterion.save()
    client.force_login(lead_investigator)
    response = client.get(reverse("patients:screening_log"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    ecog = next(r for r in rows if r and r[0] == "INC-ECOG")
    assert ecog[1] == "'" + criterion.text
    assert ecog[2:] == ["1", "2"]  # counts stay numbers
