from __future__ import annotations

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from patients.models import Patient
from patients.services import patient_register
from tests.conftest import EXPAT_DATA, PATIENT_DATA, raw_column


def form_data(trial_site, **overrides):
    data = {
        k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in PATIENT_DATA.items()
    }
    data["trial_site"] = trial_site.pk
    data["insurance_covers_trial"] = "unknown"
    data.pop("is_expatriate")
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def expat_form_data(trial_site, **overrides):
    data = {
        k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in EXPAT_DATA.items()
    }
    data["trial_site"] = trial_site.pk
    data["insurance_covers_trial"] = "no"
    data["is_expatriate"] = "on"
    data["interpreter_needed"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_coordinator_registers_patient_and_gets_subject_id(
    client, coordinator_site_a, trial_site_a
):
    client.force_login(coordinator_site_a)
    response = client.post(reverse("patients:register"), form_data(trial_site_a))
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("patients:detail", args=[patient.pk])
    assert patient.subject_id == "CRYO-SA-0001"
    assert patient.status == "screening"
    assert patient.registered_by == coordinator_site_a
    second = client.post(
        reverse("patients:register"),
        form_data(trial_site_a, id_document_type="passport", id_document_number="E12345678"),
    )
    assert second.status_code == 302, second.content.decode()[:3000]
    assert list(Patient.objects.values_list("subject_id", flat=True)) == [
        "CRYO-SA-0001",
        "CRYO-SA-0002",
    ]


def test_expatriate_registration(client, coordinator_site_a, trial_site_a):
    client.force_login(coordinator_site_a)
    response = client.post(reverse("patients:register"), expat_form_data(trial_site_a))
    assert response.status_code == 302
    patient = Patient.objects.get()
    assert patient.is_expatriate and patient.id_document_type == "passport"
    assert patient.nationality.code == "KR" and patient.interpreter_needed


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"birth_date": (datetime.date.today() + datetime.timedelta(days=3)).isoformat()},
            "birth_date",
            "The date of birth cannot be in the future.",
        ),
        ({"birth_date": "1965-02-30"}, "birth_date", "Enter a valid date."),
        (
            {"id_document_type": "driving_licence"},
            "id_document_type",
            "Select a valid choice. driving_licence is not one of the available choices.",
        ),
        (
            {"id_document_number": "110105194912310021X"},
            "id_document_number",
            "A resident identity card number has 18 characters",
        ),
        (
            {"id_document_number": "110105194912310020"},
            "id_document_number",
            "fails its check digit",
        ),
        (
            {"full_name": "x" * 201},
            "full_name",
            "The name has 201 characters; at most 200 fit.",
        ),
        ({"full_name": ""}, "full_name", "This field is required."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"phone": "call me maybe"}, "phone", "Enter a phone number"),
        ({"nationality": "XX"}, "nationality", "Select a valid choice."),
        ({"sex": "Q"}, "sex", "Select a valid choice."),
    ],
)
def test_bad_input_rerenders_form_naming_the_field(
    client, coordinator_site_a, trial_site_a, overrides, field, message
):
    client.force_login(coordinator_site_a)
    response = client.post(reverse("patients:register"), form_data(trial_site_a, **overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert any(message in e for e in form.errors[field]), form.errors[field]
    assert Patient.objects.count() == 0
    assert Patient.history.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"id_document_type": "resident_id", "id_document_number": "11010519491231002X"},
            "id_document_type",
            "passport or foreigner's permanent residence card",
        ),
        ({"nationality": "CN"}, "nationality", "cannot be China"),
        (
            {"residence_permit_expiry": ""},
            "residence_permit_expiry",
            "Record the residence permit expiry",
        ),
    ],
)
def test_expatriate_rules(client, coordinator_site_a, trial_site_a, overrides, field, message):
    client.force_login(coordinator_site_a)
    response = client.post(reverse("patients:register"), expat_form_data(trial_site_a, **overrides))
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors[field])
    assert Patient.objects.count() == 0


def test_duplicate_at_same_site_is_refused(client, coordinator_site_a, trial_site_a, patient_a):
    client.force_login(coordinator_site_a)
    response = client.post(
        reverse("patients:register"),
        form_data(trial_site_a, id_document_number="110105 19491231 002x"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["id_document_number"]
    assert errors == ["This document is already registered at this site as CRYO-SA-0001."]
    assert Patient.objects.count() == 1


def test_same_passport_at_another_site_warns_without_revealing_it(
    client, coordinator_site_a, trial_site_a, patient_b
):
    client.force_login(coordinator_site_a)
    response = client.post(reverse("patients:register"), expat_form_data(trial_site_a))
    html = response.content.decode()
    assert response.status_code == 200
    assert "already registered at another site" in html
    assert patient_b.subject_id not in html and "Site B" not in html
    assert 'name="confirm_duplicate"' in html
    assert Patient.objects.count() == 1
    confirmed = client.post(
        reverse("patients:register"), expat_form_data(trial_site_a, confirm_duplicate="on")
    )
    assert confirmed.status_code == 302
    assert Patient.objects.count() == 2


def test_document_number_and_name_are_encrypted_at_rest(patient_a):
    raw_number = raw_column("patients_patient", "id_document_number", patient_a.pk)
    raw_name = raw_column("patients_patient", "full_name", patient_a.pk)
    assert "11010519491231002X" not in raw_number
    assert "张伟" not in raw_name
    with connection.cursor() as cursor:  # the history copies are encrypted too
        cursor.execute("SELECT id_document_number FROM patients_historicalpatient")
        rows = cursor.fetchall()
    assert rows and all("11010519491231002X" not in row[0] for row in rows)
    assert Patient.objects.get(pk=patient_a.pk).id_document_number == "11010519491231002X"


def test_search_by_document_number_is_post_only_and_by_subject_id(
    client, coordinator_site_a, patient_a
):
    client.force_login(coordinator_site_a)
    url = reverse("patients:list")
    by_get = client.get(url, {"q": "11010519491231002x"})  # a GET never matches a document
    assert patient_a.subject_id not in by_get.content.decode()
    by_doc = client.post(url, {"document_number": "11010519491231002x"})
    assert by_doc.status_code == 200
    results = by_doc.content.decode().split('id="document-results"')[1]
    assert patient_a.subject_id in results
    page = client.get(url).content.decode()
    assert 'method="post" class="filters" id="document-lookup"' in page
    by_id = client.get(url, {"q": "SA-0001"})
    assert patient_a.subject_id in by_id.content.decode()
    miss = client.get(url, {"q": "nothing"})
    assert patient_a.subject_id not in miss.content.decode()


def test_pseudonymised_roles_cannot_look_up_a_document(client, lead_investigator, patient_a):
    client.force_login(lead_investigator)
    url = reverse("patients:list")
    assert "document-lookup" not in client.get(url).content.decode()
    refused = client.post(url, {"document_number": "11010519491231002X"})
    assert refused.status_code == 403
    assert patient_a.subject_id not in refused.content.decode()


def test_patient_list_paginates(client, coordinator_site_a, trial_site_a, register):
    for i in range(27):
        register(
            trial_site_a,
            coordinator_site_a,
            id_document_type="passport",
            id_document_number=f"E{i:08d}",
        )
    client.force_login(coordinator_site_a)
    first = client.get(reverse("patients:list"))
    assert len(first.context["page"].object_list) == 25
    second = client.get(reverse("patients:list"), {"page": 2})
    assert len(second.context["page"].object_list) == 2
    assert "Page 2 of 2" in second.content.decode()


def test_registration_refused_at_inactive_site_or_closed_trial(coordinator_site_a, trial_site_a):
    from django.core.exceptions import ValidationError

    trial_site_a.status = "suspended"
    trial_site_a.save()
    with pytest.raises(ValidationError, match="not active"):
        patient_register(trial_site=trial_site_a, acting_user=coordinator_site_a, **PATIENT_DATA)
    trial_site_a.status = "active"
    trial_site_a.save()
    trial_site_a.trial.status = "closed"
    trial_site_a.trial.save()
    with pytest.raises(ValidationError, match="not recruiting"):
        patient_register(trial_site=trial_site_a, acting_user=coordinator_site_a, **PATIENT_DATA)
    assert Patient.objects.count() == 0


def test_monitor_cannot_register(client, monitor, trial_site_a):
    client.force_login(monitor)
    assert client.get(reverse("patients:register")).status_code == 403
    assert client.post(reverse("patients:register"), form_data(trial_site_a)).status_code == 403
    assert Patient.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_unique_subject_ids(trial_site_a, coordinator_site_a):
    errors: list[Exception] = []
    barrier = threading.Barrier(12)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            patient_register(
                trial_site=trial_site_a,
                acting_user=coordinator_site_a,
                **{
                    **PATIENT_DATA,
                    "id_document_type": "passport",
                    "id_document_number": f"P{i:08d}",
                },
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = sorted(Patient.objects.values_list("subject_id", flat=True))
    assert ids == [f"CRYO-SA-{n:04d}" for n in range(1, 13)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_registrations_of_one_passport_make_one_patient(
    trial_site_a, coordinator_site_a
):
    """The duplicate check runs under the trial-site lock: exactly one patient, the nine
    others are told the document is already registered (a ValidationError, not a 500)."""
    outcomes: list[object] = []
    barrier = threading.Barrier(10)

    def worker() -> None:
        try:
            barrier.wait()
            outcomes.append(
                patient_register(
                    trial_site=trial_site_a,
                    acting_user=coordinator_site_a,
                    **{
                        **PATIENT_DATA,
                        "id_document_type": "passport",
                        "id_document_number": "E98765432",
                    },
                )
            )
        except Exception as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Patient.objects.count() == 1
    errors = [o for o in outcomes if not isinstance(o, Patient)]
    assert len(errors) == 9
    for exc in errors:
        assert isinstance(exc, ValidationError), repr(exc)
        assert "already registered at this site" in str(exc.message_dict["id_document_number"])


def test_database_refuses_a_second_record_of_one_document_at_one_site(
    trial_site_a, coordinator_site_a, register
):
    """The partial unique constraint holds even for a write that skips the service."""
    first = register(trial_site_a, coordinator_site_a)
    clone = Patient(
        trial_site=trial_site_a,
        subject_seq=99,
        subject_id="CRYO-SA-0099",
        full_name="Clone",
        sex=first.sex,
        birth_date=first.birth_date,
        id_document_type=first.id_document_type,
        id_document_number=first.id_document_number,
        id_document_hash=first.id_document_hash,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()
