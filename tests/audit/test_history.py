from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse

from api.models import IdempotencyRecord
from audit.models import AccessLog
from patients.models import Patient
from patients.services import patient_update
from recruiting.models import PrescreenEvent
from research.models import RegistryFacts, RegistryFactsState, RegistryStage

# Every app of this repository (not third-party ones): a new app is covered the day it is
# added, without anyone remembering to list it here.
PROJECT_APPS = tuple(
    config.label
    for config in apps.get_app_configs()
    if Path(config.path).resolve().is_relative_to(Path(settings.BASE_DIR).resolve())
    and ".venv" not in Path(config.path).parts
)
# Append-only logs are the audit trail themselves: rows are inserted, never changed.
# Pre-screening tallies hold no personal data and are never changed either.
APPEND_ONLY = {AccessLog, PrescreenEvent}
# Explicit exemptions, each with its reason. Nothing else may lack history.
NO_HISTORY = {
    # A retry cache holding an (encrypted) copy of a response, purged after
    # IDEMPOTENCY_TTL_HOURS: a history table would keep identity forever.
    IdempotencyRecord,
    # The research search table (research/facts.py): derived data rebuilt wholesale from
    # the registry's tables, which keep the history; a history table would copy every
    # record at every rebuild.
    RegistryFacts,
    RegistryStage,
    RegistryFactsState,
}


def test_every_project_model_has_history() -> None:
    missing = []
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            if model.__name__.startswith("Historical") or model in APPEND_ONLY | NO_HISTORY:
                continue
            if not hasattr(model, "history"):
                missing.append(model._meta.label)
                continue
            history_model = model.history.model
            for extra in (
                "history_username",
                "history_ip",
                "history_user_agent",
                "history_request_id",
                "history_change_reason",
            ):
                if extra not in {f.name for f in history_model._meta.fields}:
                    missing.append(f"{model._meta.label} lacks {extra}")
    assert missing == []


def test_user_accounts_are_audited(db) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("newcomer", password="pw-for-tests-123")
    assert user.history.count() == 1
    assert "password" not in {f.name for f in user.history.model._meta.fields}


def test_edit_without_reason_is_refused_and_nothing_changes(client, patient_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    url = reverse("patients:edit", args=[patient_a.pk])
    data = _form_data(patient_a, phone="13900001111", reason="")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "A reason for change is required when editing saved data." in response.content.decode()
    patient_a.refresh_from_db()
    assert patient_a.phone in (None, "")
    assert patient_a.history.count() == 1


def test_edit_with_reason_shows_in_history_page(client, patient_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    url = reverse("patients:edit", args=[patient_a.pk])
    data = _form_data(patient_a, phone="13900001111", reason="Phone number from the patient's card")
    response = client.post(url, data, HTTP_USER_AGENT="pytest-browser", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    record = patient_a.history.first()
    assert record.history_change_reason == "Phone number from the patient's card"
    assert record.history_user == coordinator_site_a
    assert record.history_username == "crc_a"
    assert record.history_ip == "10.1.2.3"
    assert record.history_user_agent == "pytest-browser"
    assert record.history_request_id

    page = client.get(reverse("audit:history", args=["patients.patient", patient_a.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Phone number from the patient&#x27;s card" in html
    assert "crc_a" in html
    assert "13900001111" in html  # after value of the changed field
    assert "phone" in html.lower()


def test_service_writes_outside_requests_are_attributed(patient_a, coordinator_site_a):
    patient_update(
        patient=patient_a,
        acting_user=coordinator_site_a,
        reason="Corrected birth date from the ID card",
        birth_date=datetime.date(1965, 4, 3),
    )
    record = patient_a.history.first()
    assert record.history_user == coordinator_site_a
    assert record.history_origin == "shell"
    assert record.history_change_reason == "Corrected birth date from the ID card"


def test_service_refuses_edit_without_reason(patient_a, coordinator_site_a):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        patient_update(
            patient=patient_a, acting_user=coordinator_site_a, reason="  ", phone="13900001111"
        )
    assert "reason" in exc.value.message_dict
    assert Patient.objects.get(pk=patient_a.pk).phone in (None, "")


def test_history_masks_identity_for_pseudonymised_roles(
    client, patient_a, coordinator_site_a, lead_investigator
):
    patient_update(
        patient=patient_a, acting_user=coordinator_site_a, reason="typo", full_name="张伟伟"
    )
    client.force_login(lead_investigator)
    html = client.get(
        reverse("audit:history", args=["patients.patient", patient_a.pk])
    ).content.decode()
    assert "张伟伟" not in html
    assert "••••••" in html


def test_patient_views_are_logged(client, patient_a, monitor):
    client.force_login(monitor)
    client.get(reverse("patients:detail", args=[patient_a.pk]))
    log = AccessLog.objects.filter(event="view", object_id=str(patient_a.pk)).get()
    assert log.username == "monitor"


def test_logins_are_logged(client, coordinator_site_a):
    client.post(reverse("login"), {"username": "crc_a", "password": "wrong"})
    client.post(reverse("login"), {"username": "crc_a", "password": "pw-for-tests-123"})
    events = list(AccessLog.objects.order_by("at").values_list("event", "username"))
    assert events == [("login_failed", "crc_a"), ("login", "crc_a")]


def _form_data(patient, **overrides):
    data = {
        "full_name": patient.full_name,
        "phone": patient.phone or "",
        "email": patient.email or "",
        "id_document_type": patient.id_document_type,
        "id_document_number": patient.id_document_number,
        "sex": patient.sex,
        "birth_date": patient.birth_date.isoformat(),
        "nationality": patient.nationality.code,
        "preferred_language": patient.preferred_language,
        "residence_permit_expiry": patient.residence_permit_expiry.isoformat()
        if patient.residence_permit_expiry
        else "",
        "insurance_provider": patient.insurance_provider,
        "insurance_covers_trial": patient.insurance_covers_trial,
    }
    if patient.is_expatriate:
        data["is_expatriate"] = "on"
    data.update(overrides)
    return data


def test_causality_history_hides_the_intervention_of_a_blinded_arm(
    client, trial, patient_a, coordinator_site_a, lead_investigator
):
    # A causality row names one intervention of the patient's arm: its history page (whose
    # title is the row) revealed the allocation of a blinded trial to the site staff.
    from patients.models import AdverseEventCausality
    from patients.services.safety import adverse_event_record
    from patients.services.visits import patient_local_today
    from tests.patients.helpers_visits import enroll, setup_protocol
    from tests.patients.test_adverse_events import ae_data

    protocol = setup_protocol(trial)
    enroll(patient_a, coordinator_site_a, protocol["arm"])
    names = ("Cryoablation", "Lenvatinib", "Toripalimab")
    causality = {protocol["interventions"][n].pk: "unlikely" for n in names}
    today = patient_local_today(patient_a)
    adverse_event_record(
        patient=patient_a, acting_user=coordinator_site_a, **ae_data(today, causality)
    )
    row = AdverseEventCausality.objects.get(intervention__name="Cryoablation")
    urls = [
        reverse("audit:history", args=["patients.adverseeventcausality", row.pk]),
        f"/api/v1/history/patients.adverseeventcausality/{row.pk}/",
    ]
    client.force_login(coordinator_site_a)
    assert "Cryoablation" in client.get(urls[0]).content.decode()  # open-label: shown

    trial.blinding = trial.Blinding.BLINDED
    trial.save()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Cryoablation" not in response.content.decode()
    client.force_login(lead_investigator)  # holds the unblinded view
    assert "Cryoablation" in client.get(urls[0]).content.decode()
    assert client.get(urls[1]).status_code == 200
