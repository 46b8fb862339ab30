"""No identity in clear text anywhere: after the demo builder, the API flows and a public
appointment request (referral, its confirmation email, its acceptance and conversion), no
table and no history table holds a patient's or applicant's name, phone, email or
document number, nor an interpreter's or witness's name, in clear — the notification
outbox and its history included."""

from __future__ import annotations

import pytest
from django.db import connection

from audit.context import audit_context
from demo.builder import DemoBuilder
from notifications.models import OutboxMessage
from notifications.services import notifications_muted
from patients.models import Consent, Patient
from recruiting.models import Referral
from recruiting.services import referral_accept
from tests.api.helpers_api import REGISTER
from tests.recruiting.conftest import clinic_a, next_weekday, public_trial  # noqa: F401
from tests.recruiting.test_booking import booking


def _secrets() -> set[str]:
    found: set[str] = set()
    for p in Patient.objects.all():
        found |= {p.full_name, p.id_document_number, p.phone or ""}
    for c in Consent.objects.all():
        found |= {c.interpreter_name, c.witness_name}
    for r in Referral.objects.all():
        found |= {r.full_name, r.email or "", r.phone or ""}
    for m in OutboxMessage.objects.all():
        found.add(m.recipient)
    return {s for s in found if s and len(s) >= (4 if s.isascii() else 2)}


def _clear_text_hits(secrets: set[str]) -> list[tuple[str, str, str]]:
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = (
                        value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                    )
                    hits += [(table, column, s) for s in secrets if s in text]
    return hits


@pytest.mark.django_db(transaction=True)
def test_no_table_holds_identity_in_clear(
    api_for,
    client,
    coordinator_site_a,
    trial_site_a,
    clinic_a,  # noqa: F811
    mailoutbox,
):
    with audit_context(reason="Demo data", origin="shell"), notifications_muted():
        DemoBuilder(sites=2, patients_per_site=6).build()
    # A person asks for an appointment on the public pages; the site accepts (two emails
    # through the outbox, sent).
    assert booking(client, clinic_a, next_weekday(0)).status_code == 200
    client.logout()
    referral = Referral.objects.get()
    referral_accept(referral=referral, acting_user=coordinator_site_a)
    assert [m.to for m in mailoutbox] == [["jane@example.org"]] * 2
    assert OutboxMessage.objects.for_recipient("jane@example.org").count() == 2
    api = api_for(coordinator_site_a)
    created = api.post(
        "/api/v1/patients/",
        {**REGISTER, "trial_site": trial_site_a.pk, "phone": "13912345678"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="registration-1",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    edited = api.patch(
        f"/api/v1/patients/{pk}/",
        {"phone": "13987654321", "reason": "Number copied wrongly"},
        format="json",
    )
    assert edited.status_code == 200
    number = REGISTER["id_document_number"]
    assert api.post("/api/v1/patients/lookup/", {"document_number": number}).status_code == 200

    secrets = _secrets()
    assert REGISTER["full_name"] in secrets and "13912345678" not in secrets  # was corrected
    assert {"Jane Doe", "jane@example.org", "+86 138 0000 0000"} <= secrets
    secrets.add("13912345678")  # the first phone number lives on in history only
    assert len(secrets) > 20 and any(c.interpreter_name for c in Consent.objects.all()), (
        "the demo must include an interpreter-assisted consent"
    )
    assert _clear_text_hits(secrets) == []
