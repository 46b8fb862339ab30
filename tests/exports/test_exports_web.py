"""The export pages and the API's status resource, as the users click and call them."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from audit.models import AccessLog
from exports.models import ExportJob

from .helpers_exports import export_file


@pytest.fixture
def lead_job(clinical, trial, lead_investigator, export_now):
    return export_now(trial, lead_investigator, "csv")


# --- pages -------------------------------------------------------------------------------


def test_lead_investigator_requests_an_export_and_follows_its_progress(
    client, clinical, trial, lead_investigator, django_capture_on_commit_callbacks
):
    client.force_login(lead_investigator)
    page = client.get(reverse("exports:list"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'class="primary"' in html and trial.protocol_code in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exports:list"), {"trial": trial.pk, "kind": "odm"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.kind == "odm" and job.requested_by == lead_investigator

    html = client.get(reverse("exports:list")).content.decode()
    assert f'data-export-status="/exports/{job.pk}/status/"' in html
    assert "<progress" in html and f"/exports/{job.pk}/download/" in html
    assert "js/exports.js" in html

    status = client.get(reverse("exports:status", args=[job.pk])).json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["rows_done"] == status["rows_total"] > 0
    assert status["download_url"] == f"/exports/{job.pk}/download/"
    assert status["active"] is False

    detail = client.get(reverse("exports:detail", args=[job.pk])).content.decode()
    assert job.sha256 in detail
    assert reverse("audit:history", args=["exports.exportjob", job.pk]) in detail
    assert (
        client.get(reverse("audit:history", args=["exports.exportjob", job.pk])).status_code == 200
    )


def test_a_running_export_shows_its_progress(client, trial, trial_site_a, lead_investigator):
    job = ExportJob.objects.create(
        trial=trial,
        requested_by=lead_investigator,
        requested_by_username="lead",
        kind="csv",
        status=ExportJob.Status.RUNNING,
        progress=42,
        rows_done=420,
        rows_total=1000,
    )
    client.force_login(lead_investigator)
    status = client.get(reverse("exports:status", args=[job.pk])).json()
    assert (status["progress"], status["active"], status["download_url"]) == (42, True, "")
    html = client.get(reverse("exports:list")).content.decode()
    assert 'value="42"' in html and 'data-active="1"' in html
    assert client.get(reverse("exports:download", args=[job.pk])).status_code == 409


def test_download_streams_the_file_and_is_logged(client, lead_job, lead_investigator):
    client.force_login(lead_investigator)
    response = client.get(reverse("exports:download", args=[lead_job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert lead_job.filename in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == lead_job.sha256
    (entry,) = AccessLog.objects.filter(event=AccessLog.Event.DOWNLOAD)
    assert entry.user == lead_investigator and entry.path == f"/exports/{lead_job.pk}/download/"


def test_coordinator_sees_no_export_form_and_cannot_post_one(
    client, trial, trial_site_a, coordinator_site_a, media
):
    client.force_login(coordinator_site_a)
    html = client.get(reverse("exports:list")).content.decode()
    assert 'class="primary"' not in html
    assert "Your role does not include exporting" in html
    response = client.post(reverse("exports:list"), {"trial": trial.pk, "kind": "csv"})
    assert response.status_code == 403
    assert not ExportJob.objects.exists()
    assert not AccessLog.objects.filter(event=AccessLog.Event.EXPORT).exists()


def test_a_trial_the_user_may_not_export_is_refused_on_the_form(client, trial, lead_investigator):
    from tests.factories import TrialFactory

    other = TrialFactory(protocol_code="OTHER")
    client.force_login(lead_investigator)
    response = client.post(reverse("exports:list"), {"trial": other.pk, "kind": "csv"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_other_users_exports_are_not_found(client, lead_job, monitor, coordinator_site_a):
    for user in (monitor, coordinator_site_a):
        client.force_login(user)
        for name in ("exports:detail", "exports:status", "exports:download"):
            assert client.get(reverse(name, args=[lead_job.pk])).status_code == 404, (user, name)
        assert f"#{lead_job.pk}" not in client.get(reverse("exports:list")).content.decode()
    assert not AccessLog.objects.filter(event=AccessLog.Event.DOWNLOAD).exists()


def test_data_manager_sees_every_export(client, lead_job, data_manager):
    client.force_login(data_manager)
    assert f"/exports/{lead_job.pk}/" in client.get(reverse("exports:list")).content.decode()
    assert client.get(reverse("exports:download", args=[lead_job.pk])).status_code == 200


# --- API ---------------------------------------------------------------------------------


def test_api_request_polls_and_downloads(
    api_for, clinical, trial, lead_investigator, django_capture_on_commit_callbacks
):
    api = api_for(lead_investigator)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/exports/",
            {"trial": trial.pk, "kind": "csv"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="export-1",
        )
    assert response.status_code == 202, response.content
    body = response.json()
    job_id = body["id"]
    assert response["Location"].endswith(f"/api/v1/exports/{job_id}/")
    again = api.post(
        "/api/v1/exports/",
        {"trial": trial.pk, "kind": "csv"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="export-1",
    )
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert ExportJob.objects.count() == 1
    assert AccessLog.objects.filter(event=AccessLog.Event.EXPORT).count() == 1

    status = api.get(f"/api/v1/exports/{job_id}/").json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["rows_done"] == status["rows_total"] > 0
    assert status["pseudonymised"] is True
    assert status["download_url"].endswith(f"/api/v1/exports/{job_id}/download/")
    download = api.get(f"/api/v1/exports/{job_id}/download/")
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == status["sha256"]
    assert AccessLog.objects.filter(event=AccessLog.Event.DOWNLOAD).count() == 1


def test_api_list_is_the_users_own_exports(
    api_for, lead_job, trial, lead_investigator, monitor, django_assert_num_queries
):
    api = api_for(lead_investigator)
    # token with its user, token last-used stamp, memberships (scope), count,
    # page of exports with their trials
    with django_assert_num_queries(5):
        data = api.get("/api/v1/exports/").json()
    assert [j["id"] for j in data["results"]] == [lead_job.pk]
    assert data["results"][0]["trial_code"] == trial.protocol_code
    assert api_for(monitor).get("/api/v1/exports/").json()["results"] == []
    assert api_for(monitor).get(f"/api/v1/exports/{lead_job.pk}/").status_code == 404


def test_api_refuses_a_coordinator_and_writes_nothing(
    api_for, trial, trial_site_a, coordinator_site_a
):
    response = api_for(coordinator_site_a).post(
        "/api/v1/exports/", {"trial": trial.pk, "kind": "csv"}, format="json"
    )
    assert response.status_code == 403
    assert not ExportJob.objects.exists()
    assert not AccessLog.objects.filter(event=AccessLog.Event.EXPORT).exists()


def test_api_rejects_a_bad_format(api_for, trial, lead_investigator):
    response = api_for(lead_investigator).post(
        "/api/v1/exports/", {"trial": trial.pk, "kind": "xls"}, format="json"
    )
    assert response.status_code == 400 and "kind" in response.json()
    assert not ExportJob.objects.exists()


def test_api_download_of_an_expired_export_is_gone(api_for, lead_job, lead_investigator):
    from exports.services import export_expire_due

    export_expire_due(now=lead_job.expires_at)
    response = api_for(lead_investigator).get(f"/api/v1/exports/{lead_job.pk}/download/")
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]
    assert not export_file(lead_job).exists() if lead_job.file_path else True
