"""Fixtures of the export tests: files go to a temporary MEDIA_ROOT; tasks run eagerly
when the request's transaction commits."""

from __future__ import annotations

from typing import Any

import pytest

from exports.services import export_request
from tests.api.conftest import api_for  # noqa: F401 - the API tests' client fixture

from .helpers_exports import build_clinical


@pytest.fixture(autouse=True)
def media(tmp_path: Any, settings: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def clinical(trial, patient_a, patient_b, coordinator_site_a, coordinator_site_b) -> dict:
    return build_clinical(trial, patient_a, patient_b, coordinator_site_a, coordinator_site_b)


@pytest.fixture
def export_now(django_capture_on_commit_callbacks: Any) -> Any:
    """Request an export and let its task run (eagerly, on commit); returns the job."""

    def run(trial: Any, user: Any, kind: str = "csv") -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            job = export_request(trial=trial, acting_user=user, kind=kind)
        job.refresh_from_db()
        return job

    return run
