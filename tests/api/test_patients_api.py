from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import Patient
from tests.conftest import EXPAT_DATA

REGISTER = {
    "full_name": "Ivan Petrov",
    "sex": "M",
    "birth_date": "1966-05-04",
    "nationality": "RU",
    "is_expatriate": True,
    "id_document_type": "passport",
    "id_document_number": "RU7654321",
    "preferred_language": "ru",
    "interpreter_needed": True,
    "residence_permit_expiry": "2029-01-01",
    "insurance_covers_trial": "no",
}


def test_coordinator_registers_with_token(api_for, coordinator_site_a, trial_site_a):
    api = api_for(coordinator_site_a)
    response = api.post(
        "/api/v1/patients/", {**REGISTER, "trial_site": trial_site_a.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["subject_id"] == "CRYO-SA-0001" and body["full_name"] == "Ivan Petrov"
    assert Patient.objects.get().history.first().history_origin == "api"


def test_bad_input_is_400_naming_each_field_and_writes_nothing(
    api_for, coordinator_site_a, trial_site_a
):
    api = api_for(coordinator_site_a)
    response = api.post(
        "/api/v1/patients/",
        {
            **REGISTER,
            "trial_site": trial_site_a.pk,
            "birth_date": "2999-01-01",
            "sex": "X",
            "id_document_type": "licence",
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) >= {"sex", "id_document_type"}
    response = api.post(
        "/api/v1/patients/",
        {**REGISTER, "trial_site": trial_site_a.pk, "birth_date": "2999-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"birth_date": ["The date of birth cannot be in the future."]}
    assert Patient.objects.count() == 0


def test_other_sites_records_are_404_and_writes_refused(
    api_for, coordinator_site_a, patient_b, trial_site_b
):
    api = api_for(coordinator_site_a)
    assert api.get(f"/api/v1/patients/{patient_b.pk}/").status_code == 404
    assert (
        api.patch(
            f"/api/v1/patients/{patient_b.pk}/", {"phone": "123456", "reason": "x"}, format="json"
        ).status_code
        == 404
    )
    assert api.get(f"/api/v1/history/patients.patient/{patient_b.pk}/").status_code == 404
    response = api.post(
        "/api/v1/patients/", {**REGISTER, "trial_site": trial_site_b.pk}, format="json"
    )
    # another site's trial-site is "not found", like reading it, and the field is named
    assert response.status_code == 404 and "trial_site" in response.json()
    assert Patient.objects.count() == 1
    assert patient_b.subject_id not in api.get("/api/v1/patients/").content.decode()


def test_idempotent_registration(api_for, coordinator_site_a, trial_site_a):
    api = api_for(coordinator_site_a)
    data = {**REGISTER, "trial_site": trial_site_a.pk}
    first = api.post("/api/v1/patients/", data, format="json", HTTP_IDEMPOTENCY_KEY="reg-42")
    second = api.post("/api/v1/patients/", data, format="json", HTTP_IDEMPOTENCY_KEY="reg-42")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert Patient.objects.count() == 1
    other = api.post(
        "/api/v1/patients/",
        {**data, "full_name": "Someone Else"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="reg-42",
    )
    assert other.status_code == 422
    assert Patient.objects.count() == 1


def test_edit_requires_reason_and_lands_in_history(api_for, coordinator_site_a, patient_a):
    api = api_for(coordinator_site_a)
    refused = api.patch(
        f"/api/v1/patients/{patient_a.pk}/", {"phone": "13900001111"}, format="json"
    )
    assert refused.status_code == 400 and "reason" in refused.json()
    ok = api.patch(
        f"/api/v1/patients/{patient_a.pk}/",
        {"phone": "13900001111", "reason": "Phone from the patient"},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["phone"] == "13900001111"
    history = api.get(f"/api/v1/history/patients.patient/{patient_a.pk}/").json()
    assert history[0]["reason"] == "Phone from the patient" and history[0]["user"] == "crc_a"
    assert {"field": "phone", "label": "Phone", "old": "—", "new": "13900001111"} in history[0][
        "changes"
    ]


def test_identity_is_null_for_pseudonymised_roles(api_for, lead_investigator, patient_a):
    body = api_for(lead_investigator).get(f"/api/v1/patients/{patient_a.pk}/").json()
    assert body["full_name"] is None and body["id_document_number"] is None
    assert body["subject_id"] == patient_a.subject_id


def test_revoked_or_bad_tokens_are_401(coordinator_site_a):
    from rest_framework.test import APIClient

    from api.services import api_token_create, api_token_revoke

    token, raw = api_token_create(user=coordinator_site_a, name="lab system")
    assert raw not in token.key_hash and len(token.key_hash) == 64
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/patients/").status_code == 200
    api_token_revoke(token=token, acting_user=coordinator_site_a)
    assert client.get("/api/v1/patients/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Bearer hbt_nonsense")
    assert client.get("/api/v1/patients/").status_code == 401
    assert APIClient().get("/api/v1/patients/").status_code in (401, 403)


@pytest.mark.parametrize("page_size", [2, 20])
def test_patient_list_query_count_is_constant(
    api_for, coordinator_site_a, trial_site_a, register, page_size
):
    for i in range(25):
        register(
            trial_site_a, coordinator_site_a, **{**EXPAT_DATA, "id_document_number": f"K{i:07d}"}
        )
    api = api_for(coordinator_site_a)
    api.get("/api/v1/patients/")  # warm caches (content types etc.)
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(f"/api/v1/patients/?page_size={page_size}")
    assert response.status_code == 200 and len(response.json()["results"]) == page_size
    # token lookup, memberships (scope), count, page of patients with their sites
    assert len(ctx.captured_queries) == 4, [q["sql"][:80] for q in ctx.captured_queries]


def test_token_page_creates_and_revokes(client, coordinator_site_a):
    from api.models import ApiToken

    client.force_login(coordinator_site_a)
    response = client.post("/account/tokens/", {"name": "PACS bridge"})
    html = response.content.decode()
    token = ApiToken.objects.get(name="PACS bridge")
    assert "hbt_" in html and token.prefix in html
    assert client.post("/account/tokens/", {"name": ""}).status_code == 200
    client.post(f"/account/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_schema_and_docs_are_served_offline(client, coordinator_site_a):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    # the documentation page is behind the login, and links back to the application
    anonymous = client.get("/api/docs/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(coordinator_site_a)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()
    assert b'class="docs-back"' in docs.content and b'href="/"' in docs.content


def test_blinded_trial_hides_which_arm_gets_which_intervention(
    api_for, coordinator_site_a, lead_investigator, trial
):
    from tests.factories import ArmFactory
    from trials.models import Intervention

    arm = ArmFactory(trial=trial, code="A")
    drug = Intervention.objects.create(trial=trial, kind="drug", name="Cryoablation")
    drug.arms.add(arm)
    trial.blinding = "blinded"
    trial.save()
    coordinator = api_for(coordinator_site_a)
    body = coordinator.get(f"/api/v1/interventions/{drug.pk}/").json()
    assert body["arms"] is None and body["name"] == "Cryoablation"
    assert coordinator.get(f"/api/v1/interventions/?arms={arm.pk}").json()["count"] == 0
    lead = api_for(lead_investigator)
    assert lead.get(f"/api/v1/interventions/{drug.pk}/").json()["arms"] == [arm.pk]
    assert lead.get(f"/api/v1/interventions/?arms={arm.pk}").json()["count"] == 1


def test_idempotency_store_keeps_no_identity_in_clear_and_is_purged(
    api_for, coordinator_site_a, trial_site_a, settings
):
    import datetime

    from django.utils import timezone

    from api.models import IdempotencyRecord
    from api.tasks import purge_idempotency_records
    from tests.conftest import raw_column

    api = api_for(coordinator_site_a)
    data = {**REGISTER, "trial_site": trial_site_a.pk}
    first = api.post("/api/v1/patients/", data, format="json", HTTP_IDEMPOTENCY_KEY="reg-7")
    record = IdempotencyRecord.objects.get(key="reg-7")
    stored = raw_column("api_idempotencyrecord", "response_encrypted", record.pk)
    assert REGISTER["full_name"] not in stored and REGISTER["id_document_number"] not in stored
    assert record.response_body == first.json()  # decrypts for the replay, types intact
    assert not hasattr(IdempotencyRecord, "history")

    settings.IDEMPOTENCY_TTL_HOURS = 24
    assert purge_idempotency_records() == 0  # fresh: kept
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=25)
    )
    assert purge_idempotency_records() == 1
    assert not IdempotencyRecord.objects.exists()


def test_document_lookup_is_post_only_and_refused_to_pseudonymised_roles(
    api_for, coordinator_site_a, coordinator_site_b, lead_investigator, patient_a
):
    number = patient_a.id_document_number
    api = api_for(coordinator_site_a)
    ignored = api.get("/api/v1/patients/", {"document_number": number})
    assert ignored.status_code == 200  # unknown GET parameters are ignored, never matched
    found = api.post("/api/v1/patients/lookup/", {"document_number": number}, format="json")
    assert found.status_code == 200
    assert [p["subject_id"] for p in found.json()] == [patient_a.subject_id]
    other_site = api_for(coordinator_site_b).post(
        "/api/v1/patients/lookup/", {"document_number": number}, format="json"
    )
    assert other_site.status_code == 200 and other_site.json() == []
    lead = api_for(lead_investigator).post(
        "/api/v1/patients/lookup/", {"document_number": number}, format="json"
    )
    assert lead.status_code == 403
    assert patient_a.subject_id not in lead.content.decode()
    empty = api.post("/api/v1/patients/lookup/", {}, format="json")
    assert empty.status_code == 400 and "document_number" in empty.json()
