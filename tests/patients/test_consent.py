from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from patients.models import Consent, Enrollment, Patient, Visit
from patients.services import (
    consent_needs_reconsent,
    consent_record,
    consent_withdraw,
    patient_enroll,
    patient_is_collecting,
    patient_set_status,
)
from tests.conftest import EXPAT_DATA
from tests.factories import TrialFactory

from .helpers_enroll import (
    DAYS,
    TODAY,
    arms,
    consent_version,
    give_consent,
    make_eligible,
    visit_definitions,
)


@pytest.fixture
def icf_zh(trial):
    return consent_version(trial, "1.0", "zh")


@pytest.fixture
def icf_ko(trial):
    return consent_version(trial, "1.0", "ko", ethics_approval_ref="EC-ICF-1.0-KO")


@pytest.fixture
def korean(trial_site_a, coordinator_site_a, register):
    """A Korean-speaking expatriate patient, found eligible."""
    patient = register(trial_site_a, coordinator_site_a, **EXPAT_DATA)
    make_eligible(patient, coordinator_site_a)
    return patient


@pytest.fixture
def eligible_a(patient_a, coordinator_site_a):
    make_eligible(patient_a, coordinator_site_a, days_ago=40)
    return patient_a


def errors_of(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


# ---------------------------------------------------------------------------
# Expatriate rule: interpreter and impartial witness
# ---------------------------------------------------------------------------


def test_korean_expatriate_on_chinese_version_needs_interpreter_and_witness(
    korean, coordinator_site_a, icf_zh
):
    with pytest.raises(ValidationError) as exc:
        give_consent(korean, coordinator_site_a, icf_zh, language="ko")
    errors = errors_of(exc)
    assert "qualified interpreter and an impartial witness are required" in " ".join(
        errors["interpreter_used"]
    )
    assert errors["interpreter_name"] == ["Enter the name of the qualified interpreter."]
    assert errors["witness_name"] == ["Enter the name of the impartial witness."]
    korean.refresh_from_db()
    assert korean.status == Patient.Status.ELIGIBLE
    assert not Consent.objects.exists()

    consent = give_consent(
        korean,
        coordinator_site_a,
        icf_zh,
        language="ko",
        interpreter_used=True,
        interpreter_name="Park Ji-woo",
        interpreter_qualification="Certified medical interpreter (KO-ZH)",
        witness_name="Li Na, patient advocate",
        samples_consent=True,
    )
    korean.refresh_from_db()
    assert korean.status == Patient.Status.CONSENTED
    assert consent.consent_version == icf_zh and consent.language == "ko"
    assert consent.interpreter_name == "Park Ji-woo" and consent.witness_name.startswith("Li Na")
    assert consent.personal_information_consent and consent.samples_consent
    assert consent.obtained_by == coordinator_site_a
    assert consent.history.first().history_user == coordinator_site_a


def test_discussion_in_chinese_for_korean_speaker_also_needs_interpreter(
    korean, coordinator_site_a, icf_ko
):
    with pytest.raises(ValidationError) as exc:
        give_consent(korean, coordinator_site_a, icf_ko, language="zh")
    assert set(errors_of(exc)) >= {"interpreter_used", "interpreter_name", "witness_name"}
    assert not Consent.objects.exists()


def test_korean_version_in_korean_needs_no_interpreter(korean, coordinator_site_a, icf_ko):
    consent = give_consent(korean, coordinator_site_a, icf_ko, language="ko")
    assert consent.interpreter_name == "" and consent.witness_name == ""
    korean.refresh_from_db()
    assert korean.status == Patient.Status.CONSENTED


def test_consent_form_shows_the_missing_witness_then_records(
    client, korean, coordinator_site_a, icf_zh
):
    client.force_login(coordinator_site_a)
    url = reverse("patients:consent", args=[korean.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Korean" in page.content.decode()
    data = {
        "consent_version": icf_zh.pk,
        "language": "ko",
        "consented_at": (timezone.localtime() - DAYS(1)).strftime("%Y-%m-%dT%H:%M"),
        "interpreter_used": "on",
        "interpreter_name": "Park Ji-woo",
        "personal_information_consent": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Enter the name of the impartial witness." in response.content.decode()
    assert not Consent.objects.exists()

    response = client.post(url, {**data, "witness_name": "Li Na"})
    assert response.status_code == 302
    detail = client.get(reverse("patients:detail", args=[korean.pk])).content.decode()
    assert "Consent and enrollment" in detail and "Park Ji-woo" in detail and "Li Na" in detail


def test_pipl_consent_is_separate_and_required(eligible_a, coordinator_site_a, icf_zh):
    with pytest.raises(ValidationError) as exc:
        give_consent(eligible_a, coordinator_site_a, icf_zh, personal_information_consent=False)
    assert "personal_information_consent" in errors_of(exc)
    assert not Consent.objects.exists()


# ---------------------------------------------------------------------------
# Which versions can be used
# ---------------------------------------------------------------------------


def test_superseded_version_is_refused(eligible_a, coordinator_site_a, trial):
    old = consent_version(trial, "0.9", "zh", superseded_on=TODAY - DAYS(30))
    with pytest.raises(ValidationError) as exc:
        give_consent(eligible_a, coordinator_site_a, old)
    assert "superseded" in errors_of(exc)["consent_version"][0]
    eligible_a.refresh_from_db()
    assert eligible_a.status == Patient.Status.ELIGIBLE and not Consent.objects.exists()


def test_version_not_approved_on_the_consent_date_is_refused(eligible_a, coordinator_site_a, trial):
    draft = consent_version(
        trial, "2.0", "zh", approved_on=TODAY - DAYS(1), effective_from=TODAY - DAYS(1)
    )
    with pytest.raises(ValidationError) as exc:
        give_consent(eligible_a, coordinator_site_a, draft, consented_at=timezone.now() - DAYS(10))
    assert "not ethics-approved" in errors_of(exc)["consent_version"][0]
    no_ref = consent_version(trial, "2.1", "zh", ethics_approval_ref="")
    with pytest.raises(ValidationError) as exc:
        give_consent(eligible_a, coordinator_site_a, no_ref)
    assert "not ethics-approved" in errors_of(exc)["consent_version"][0]
    assert not Consent.objects.exists()


def test_other_trials_version_and_future_time_are_refused(eligible_a, coordinator_site_a):
    other = consent_version(TrialFactory(), "1.0", "zh")
    with pytest.raises(ValidationError) as exc:
        give_consent(eligible_a, coordinator_site_a, other, consented_at=timezone.now() + DAYS(1))
    errors = errors_of(exc)
    assert errors["consent_version"] == ["This consent version belongs to another trial."]
    assert errors["consented_at"] == ["The time of consent cannot be in the future."]
    assert not Consent.objects.exists()


def test_patient_must_be_eligible(patient_a, coordinator_site_a, icf_zh):
    with pytest.raises(ValidationError) as exc:
        give_consent(patient_a, coordinator_site_a, icf_zh)
    assert "only be recorded for an eligible patient" in errors_of(exc)["patient"][0]
    assert not Consent.objects.exists()


def test_monitor_cannot_record_consent(client, eligible_a, monitor, icf_zh):
    with pytest.raises(PermissionDenied):
        give_consent(eligible_a, monitor, icf_zh)
    client.force_login(monitor)
    assert client.get(reverse("patients:consent", args=[eligible_a.pk])).status_code == 403
    assert not Consent.objects.exists()


def test_other_sites_coordinator_gets_404(client, eligible_a, coordinator_site_b, icf_zh):
    client.force_login(coordinator_site_b)
    assert client.get(reverse("patients:consent", args=[eligible_a.pk])).status_code == 404


# ---------------------------------------------------------------------------
# Re-consent
# ---------------------------------------------------------------------------


def test_reconsent_flow(client, trial, eligible_a, coordinator_site_a, icf_zh):
    arms(trial, A=1, B=1)
    give_consent(eligible_a, coordinator_site_a, icf_zh, consented_at=timezone.now() - DAYS(20))
    assert consent_needs_reconsent(eligible_a) is None
    v2 = consent_version(
        trial, "2.0", "zh", approved_on=TODAY - DAYS(12), effective_from=TODAY - DAYS(10)
    )
    consent_version(  # a version in another language does not concern this patient
        trial, "2.0", "en", approved_on=TODAY - DAYS(12), effective_from=TODAY - DAYS(10)
    )
    assert consent_needs_reconsent(eligible_a) == v2

    client.force_login(coordinator_site_a)
    detail = client.get(reverse("patients:detail", args=[eligible_a.pk])).content.decode()
    assert "the patient must re-consent" in detail

    with pytest.raises(ValidationError) as exc:
        patient_enroll(patient=eligible_a, acting_user=coordinator_site_a, enrolled_on=TODAY)
    assert "must re-consent before enrollment" in errors_of(exc)["patient"][0]
    assert not Enrollment.objects.exists()

    with pytest.raises(ValidationError) as exc:  # the old version once more: refused
        give_consent(eligible_a, coordinator_site_a, icf_zh)
    assert "already consented on this version" in errors_of(exc)["consent_version"][0]

    give_consent(eligible_a, coordinator_site_a, v2, consented_at=timezone.now() - DAYS(1))
    eligible_a.refresh_from_db()
    assert eligible_a.status == Patient.Status.CONSENTED
    assert consent_needs_reconsent(eligible_a) is None
    assert eligible_a.consents.count() == 2
    enrollment = patient_enroll(
        patient=eligible_a, acting_user=coordinator_site_a, enrolled_on=TODAY
    )
    assert enrollment.randomization_number == "R-SA-0001"


def test_consent_again_after_rescreening(trial, eligible_a, coordinator_site_a, icf_zh):
    give_consent(eligible_a, coordinator_site_a, icf_zh, consented_at=timezone.now() - DAYS(9))
    for status in (Patient.Status.SCREENING, Patient.Status.ELIGIBLE):
        patient_set_status(
            patient=eligible_a, status=status, acting_user=coordinator_site_a, reason="Re-screen"
        )
    give_consent(eligible_a, coordinator_site_a, icf_zh)
    eligible_a.refresh_from_db()
    assert eligible_a.status == Patient.Status.CONSENTED
    assert eligible_a.consents.count() == 2


def test_version_without_reconsent_flag_does_not_ask_for_it(
    trial, eligible_a, coordinator_site_a, icf_zh
):
    give_consent(eligible_a, coordinator_site_a, icf_zh)
    consent_version(trial, "1.1", "zh", effective_from=TODAY - DAYS(1), requires_reconsent=False)
    consent_version(trial, "3.0", "zh", effective_from=TODAY + DAYS(10))  # not yet in effect
    assert consent_needs_reconsent(eligible_a) is None


# ---------------------------------------------------------------------------
# Withdrawal
# ---------------------------------------------------------------------------


def test_withdrawal_ends_collection_and_keeps_data(
    client, trial, eligible_a, coordinator_site_a, icf_zh
):
    arms(trial, A=1, B=1)
    visit_definitions(trial)
    consent = give_consent(
        eligible_a, coordinator_site_a, icf_zh, consented_at=timezone.now() - DAYS(30)
    )
    enrollment = patient_enroll(
        patient=eligible_a,
        acting_user=coordinator_site_a,
        enrolled_on=TODAY - DAYS(28),
        first_treatment_date=TODAY - DAYS(25),
    )
    assert Visit.objects.filter(patient=eligible_a).count() == 3
    withdrawn_on = TODAY - DAYS(2)

    client.force_login(coordinator_site_a)
    url = reverse("patients:consent_withdraw", args=[consent.pk])
    response = client.post(url, {"withdrawn_on": withdrawn_on.isoformat(), "reason": ""})
    assert response.status_code == 200
    assert "Give the reason for withdrawal" in response.content.decode()
    response = client.post(
        url, {"withdrawn_on": withdrawn_on.isoformat(), "reason": "Patient returns to Korea"}
    )
    assert response.status_code == 302

    eligible_a.refresh_from_db()
    consent.refresh_from_db()
    assert eligible_a.status == Patient.Status.WITHDRAWN
    assert consent.withdrawn_on == withdrawn_on
    assert consent.withdrawal_reason == "Patient returns to Korea"
    # Data kept: enrollment, consent, visits before the date; later visits cancelled.
    assert Enrollment.objects.filter(pk=enrollment.pk).exists()
    visits = Visit.objects.filter(patient=eligible_a)
    assert visits.count() == 3
    assert all(
        v.status == Visit.Status.CANCELLED for v in visits if v.scheduled_date >= withdrawn_on
    )
    assert patient_is_collecting(eligible_a, withdrawn_on - DAYS(1))
    assert not patient_is_collecting(eligible_a, withdrawn_on)
    assert not patient_is_collecting(eligible_a, TODAY)
    # A later consent is refused.
    with pytest.raises(ValidationError) as exc:
        give_consent(eligible_a, coordinator_site_a, icf_zh)
    assert "withdrawn from the study" in " ".join(errors_of(exc)["patient"])
    assert eligible_a.consents.count() == 1


def test_withdrawn_patient_cannot_be_enrolled(trial, eligible_a, coordinator_site_a, icf_zh):
    arms(trial, A=1, B=1)
    consent = give_consent(eligible_a, coordinator_site_a, icf_zh)
    consent_withdraw(
        consent=consent, acting_user=coordinator_site_a, withdrawn_on=TODAY, reason="Changed mind"
    )
    with pytest.raises(ValidationError) as exc:
        patient_enroll(patient=eligible_a, acting_user=coordinator_site_a, enrolled_on=TODAY)
    assert "withdrawn from the study" in errors_of(exc)["patient"][0]
    assert not Enrollment.objects.exists()
    eligible_a.refresh_from_db()
    assert eligible_a.status == Patient.Status.WITHDRAWN


@pytest.mark.parametrize(
    ("withdrawn_on", "reason", "field", "message"),
    [
        (TODAY + DAYS(1), "Moved", "withdrawn_on", "cannot be in the future"),
        (TODAY - DAYS(40), "Moved", "withdrawn_on", "cannot precede the consent"),
        (TODAY, "  ", "reason", "Give the reason for withdrawal"),
    ],
)
def test_bad_withdrawal_is_refused(
    eligible_a, coordinator_site_a, icf_zh, withdrawn_on, reason, field, message
):
    consent = give_consent(eligible_a, coordinator_site_a, icf_zh)
    with pytest.raises(ValidationError) as exc:
        consent_withdraw(
            consent=consent,
            acting_user=coordinator_site_a,
            withdrawn_on=withdrawn_on,
            reason=reason,
        )
    assert message in " ".join(errors_of(exc)[field])
    consent.refresh_from_db()
    eligible_a.refresh_from_db()
    assert consent.withdrawn_on is None
    assert eligible_a.status == Patient.Status.CONSENTED


def test_consent_record_signature_defaults(eligible_a, coordinator_site_a, icf_zh):
    consent = consent_record(
        patient=eligible_a,
        acting_user=coordinator_site_a,
        consent_version=icf_zh,
        consented_at=datetime.datetime.now() - datetime.timedelta(hours=2),  # naive: site time
        language="zh",
        personal_information_consent=True,
    )
    assert timezone.is_aware(consent.consented_at)
    assert not consent.interpreter_used and not consent.samples_consent


def test_data_manager_configures_consent_versions_in_the_admin(client, trial, data_manager):
    from trials.models import ConsentVersion

    client.force_login(data_manager)
    url = reverse("admin:trials_consentversion_add")
    data = {
        "trial": trial.pk,
        "version": "2.0",
        "language": "ko",
        "ethics_approval_ref": "EC-2026-ICF-KO",
        "approved_on": "2026-03-10",
        "effective_from": "2026-03-01",
        "requires_reconsent": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "cannot take effect before its approval" in response.content.decode()
    assert not ConsentVersion.objects.exists()
    response = client.post(url, {**data, "effective_from": "2026-03-15"})
    assert response.status_code == 302
    assert ConsentVersion.objects.get().language == "ko"


def test_consent_names_are_encrypted_and_hidden_from_pseudonymised_roles(
    api_for, client, coordinator_site_a, lead_investigator, korean, icf_zh
):
    from django.db import connection

    from tests.conftest import raw_column

    consent = give_consent(
        korean,
        coordinator_site_a,
        icf_zh,
        language="ko",
        interpreter_used=True,
        interpreter_name="Park Ji-woo",
        witness_name="Li Na",
    )
    patient_a = korean
    for table in ("patients_consent", "patients_historicalconsent"):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT interpreter_name, witness_name FROM {table}")  # noqa: S608
            rows = cursor.fetchall()
        assert rows and all("Park Ji-woo" not in r[0] and "Li Na" not in r[1] for r in rows)
    assert raw_column("patients_consent", "interpreter_name", consent.pk) != "Park Ji-woo"
    assert Consent.objects.get(pk=consent.pk).interpreter_name == "Park Ji-woo"

    url = f"/api/v1/consents/{consent.pk}/"
    crc = api_for(coordinator_site_a).get(url).json()
    assert crc["interpreter_name"] == "Park Ji-woo" and crc["witness_name"] == "Li Na"
    lead = api_for(lead_investigator).get(url).json()
    assert lead["interpreter_name"] is None and lead["witness_name"] is None
    assert lead["interpreter_used"] is True
    history = api_for(lead_investigator).get(f"/api/v1/history/patients.consent/{consent.pk}/")
    assert "Park Ji-woo" not in history.content.decode() and "Li Na" not in history.content.decode()
    client.force_login(lead_investigator)
    for page in (f"/patients/{patient_a.pk}/", f"/history/patients.consent/{consent.pk}/"):
        html = client.get(page).content.decode()
        assert "Park Ji-woo" not in html and "Li Na" not in html, page
    client.force_login(coordinator_site_a)
    assert "Park Ji-woo" in client.get(f"/patients/{patient_a.pk}/").content.decode()
