"""The monitoring pages as each role uses them."""

from __future__ import annotations

from django.urls import reverse

from monitoring.models import DataQuery, Lock, MonitoringPlan, Signature, SourceVerification
from monitoring.services import lock_create, query_raise
from patients.models import Visit

from ..patients.helpers_visits import as_post, submit_data

PASSWORD = "sign-Here-2026"


def panel(visit):
    return f"{reverse('monitoring:record')}?form=patients.visit&id={visit.pk}"


def test_query_workflow_on_the_pages(client, visit_a, monitor, coordinator_site_a):
    client.force_login(monitor)
    page = client.get(panel(visit_a))
    assert page.status_code == 200 and "Raise a query" in page.content.decode()
    url = f"{reverse('monitoring:query_new')}?form=patients.visit&id={visit_a.pk}&field=ecog"
    assert client.get(url).status_code == 200
    empty = client.post(
        reverse("monitoring:query_new"), {"form": "patients.visit", "id": visit_a.pk, "text": ""}
    )
    assert empty.status_code == 200 and "This field is required" in empty.content.decode()
    response = client.post(
        reverse("monitoring:query_new"),
        {
            "form": "patients.visit",
            "id": visit_a.pk,
            "field_name": "ecog",
            "text": "ECOG 2 in notes",
        },
    )
    assert response.status_code == 302
    query = DataQuery.objects.get()
    # the coordinator sees it on their home and the badge on the visit page
    client.force_login(coordinator_site_a)
    assert f"Q-{query.pk}" in client.get(reverse("home")).content.decode()
    visit_page = client.get(reverse("patients:visit_detail", args=[visit_a.pk])).content.decode()
    assert "badge-query" in visit_page
    detail = reverse("monitoring:query", args=[query.pk])
    bad = client.post(
        detail, {"answer-text": "fixed", "answer-correct": "on", "answer-corrected_value": "9"}
    )
    assert bad.status_code == 200 and Visit.objects.get(pk=visit_a.pk).ecog == 1
    assert client.post(detail, {"step-step": "close"}).status_code == 403
    ok = client.post(
        detail,
        {
            "answer-text": "Transcription error",
            "answer-correct": "on",
            "answer-corrected_value": "2",
        },
    )
    assert ok.status_code == 302 and Visit.objects.get(pk=visit_a.pk).ecog == 2
    client.force_login(monitor)
    assert client.post(detail, {"step-step": "close", "step-text": "Thanks"}).status_code == 302
    assert DataQuery.objects.get().status == "closed"
    listing = client.get(reverse("monitoring:queries"), {"status": "closed"}).content.decode()
    assert f"Q-{query.pk}" in listing


def test_verify_and_sign_on_the_pages(client, visit_a, monitor, signer, coordinator_site_a):
    client.force_login(coordinator_site_a)
    assert (
        client.post(
            panel(visit_a), {"form": "patients.visit", "id": visit_a.pk, "action": "verify"}
        ).status_code
        == 403
    )
    client.force_login(monitor)
    response = client.post(
        reverse("monitoring:record"),
        {"form": "patients.visit", "id": visit_a.pk, "action": "verify"},
    )
    assert response.status_code == 302
    assert SourceVerification.objects.get().status == "verified"
    client.force_login(signer)
    patient = visit_a.patient
    sign = reverse("monitoring:casebook_sign", args=[patient.pk])
    wrong = client.post(
        sign, {"meaning": "approved", "username": signer.username, "password": "nope"}
    )
    assert wrong.status_code == 200 and "password is not correct" in wrong.content.decode()
    assert not Signature.objects.exists()
    assert (
        client.post(
            sign, {"meaning": "approved", "username": signer.username, "password": PASSWORD}
        ).status_code
        == 302
    )
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Li Na" in page and "badge-signed" in page


def test_lock_page_refuses_with_the_list_and_edits_are_refused(
    client, visit_a, monitor, data_manager, coordinator_site_a
):
    patient = visit_a.patient
    query = query_raise(record=visit_a, text="?", acting_user=monitor)
    client.force_login(data_manager)
    url = reverse("monitoring:locks")
    refused = client.post(
        url,
        {"trial": patient.trial_site.trial_id, "level": "trial", "mode": "lock", "reason": "Final"},
    )
    html = refused.content.decode()
    assert (
        refused.status_code == 200
        and f"Q-{query.pk}" in html
        and "Casebook signatures missing" in html
    )
    assert not Lock.objects.exists()
    MonitoringPlan.objects.create(
        trial=patient.trial_site.trial, full_sdv_forms=[], sample_percent=0
    )
    frozen = client.post(
        url,
        {
            "trial": patient.trial_site.trial_id,
            "level": "casebook",
            "mode": "freeze",
            "subject_id": patient.subject_id,
            "reason": "Review",
        },
    )
    assert frozen.status_code == 302
    lock = Lock.objects.get()
    client.force_login(coordinator_site_a)
    page = client.get(reverse("patients:visit_submit", args=[visit_a.pk])).content.decode()
    assert "lock-banner" in page and f"L-{lock.pk}" in page
    post = as_post(submit_data(actual_date=visit_a.actual_date, ecog=3))
    post["reason"] = "fix"
    response = client.post(reverse("patients:visit_submit", args=[visit_a.pk]), post)
    assert response.status_code == 200 and f"L-{lock.pk}" in response.content.decode()
    assert Visit.objects.get(pk=visit_a.pk).ecog == 1
    # the API names the lock too
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(coordinator_site_a)
    body = {
        "actual_date": str(visit_a.actual_date),
        "vital_status": "alive",
        "ecog": 3,
        "ae_review_done": True,
        "reason": "fix",
    }
    answer = api.post(f"/api/v1/visits/{visit_a.pk}/submit/", body, format="json")
    assert answer.status_code == 400 and f"L-{lock.pk}" in str(answer.json())
    # the admin shows a message instead of failing
    coordinator_site_a.is_staff = True
    coordinator_site_a.save()
    client.force_login(coordinator_site_a)
    admin_url = reverse("admin:patients_patient_change", args=[patient.pk])
    form = client.get(admin_url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update({"insurance_provider": "New insurer", "change_reason": "Card updated"})
    saved = client.post(admin_url, data, follow=True)
    assert saved.status_code == 200 and f"L-{lock.pk}" in saved.content.decode()
    # unlock needs a data manager and a reason
    release = reverse("monitoring:lock_release", args=[lock.pk])
    assert client.post(release, {"reason": "x"}).status_code == 403
    client.force_login(data_manager)
    assert client.post(release, {"reason": ""}).status_code == 200
    assert client.post(release, {"reason": "Query follow-up"}).status_code == 302
    assert Lock.objects.get().released_at is not None


def test_homes_of_monitor_and_investigator(client, visit_a, monitor, signer, data_manager):
    client.force_login(monitor)
    home = client.get(reverse("home")).content.decode()
    assert 'id="home-aging"' in home and 'id="home-changed"' in home
    client.force_login(signer)
    home = client.get(reverse("home")).content.decode()
    assert 'id="home-to-sign"' in home and visit_a.patient.subject_id in home
    assert client.get(reverse("monitoring:sdv")).status_code == 200
    client.force_login(monitor)
    sdv = client.get(reverse("monitoring:sdv")).content.decode()
    assert "To verify" in sdv and visit_a.patient.subject_id in sdv
    lock_create(
        trial=visit_a.patient.trial_site.trial,
        level="site",
        trial_site=visit_a.patient.trial_site,
        mode="freeze",
        reason="x",
        acting_user=data_manager,
    )
    assert (
        "lock-banner"
        in client.get(reverse("patients:detail", args=[visit_a.patient.pk])).content.decode()
    )


def test_query_history_page(client, visit_a, monitor, coordinator_site_b):
    query = query_raise(record=visit_a, field_name="ecog", text="History?", acting_user=monitor)
    url = reverse("audit:history", args=["monitoring.dataquery", query.pk])
    client.force_login(monitor)
    assert client.get(url).status_code == 200
    client.force_login(coordinator_site_b)
    assert client.get(url).status_code == 404
