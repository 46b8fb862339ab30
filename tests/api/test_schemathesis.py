"""Schemathesis against the app's own OpenAPI schema: every operation, a bounded number of
generated requests each (valid and invalid data, derandomized, no shrinking), as a site
coordinator and as the (pseudonymised) lead investigator, with **every** check
Schemathesis has: no 5xx; responses (bodies, content types, status codes, headers,
``Allow``) as documented; no valid request refused and no invalid one accepted; missing
authentication refused; unsupported methods a 405.

One generation setting differs from the default: strings hold no NUL character. Every
text field of the API refuses NUL (PostgreSQL cannot store it; README, "Errors"), which
the schema's ``type: string`` cannot express.

The schema and the requests go through the WSGI application in this process, on the
test's database transaction; Django's per-request connection handling is switched off
for the test, as Django's own test client does.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.specs.openapi import checks as _openapi_checks  # noqa: F401 (registers them)

from api.services import api_token_create

from .helpers_api import ready_trial, site_records

#: every check Schemathesis registers (not_a_server_error, status_code_conformance,
#: content_type_conformance, response_headers_conformance, response_schema_conformance,
#: negative_data_rejection, positive_data_acceptance, missing_required_header,
#: unsupported_method, allow_header_conformance, use_after_free,
#: ensure_resource_availability, ignored_auth, object_level_authorization)
CHECKS = list(REGISTERED_CHECKS.get_all())
#: Generated requests per operation and mode: 1 in a default ``make test``, 5 with
#: ``FULL_FUZZ=1`` (set by ``.ci/run``); raise it for a deeper local run:
#: ``SCHEMATHESIS_MAX_EXAMPLES=100 pytest tests/api/test_schemathesis.py``.
MAX_EXAMPLES = int(
    os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5" if os.environ.get("FULL_FUZZ") == "1" else "1")
)


@pytest.fixture
def wsgi_on_test_transaction(monkeypatch: Any) -> Any:
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # throttling has its own test; hundreds of requests in seconds must not trip it
    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def coordinator_token(coordinator_site_a: Any) -> str:
    return api_token_create(user=coordinator_site_a, name="schemathesis")[1]


@pytest.fixture
def lead_token(lead_investigator: Any) -> str:
    return api_token_create(user=lead_investigator, name="schemathesis")[1]


@pytest.fixture
def records(trial: Any, patient_a: Any, patient_b: Any) -> dict[str, Any]:
    ready_trial(trial)
    site_records(patient_b, tag="B")
    return site_records(patient_a, tag="A")


@pytest.fixture
def api_schema(wsgi_on_test_transaction: Any, records: Any) -> Any:
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    schema.config.generation.update(allow_x00=False)
    return schema


def run_operation(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the example as is
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


@pytest.mark.parametrize("persona", ["coordinator", "lead"])
def test_api_conforms_to_its_schema(
    api_schema: Any, coordinator_token: str, lead_token: str, persona: str
) -> None:
    """Every operation, valid and invalid data, for a site coordinator (identity visible)
    and for the lead investigator (pseudonymised, unblinded view). (Schemathesis' own
    pytest plugin is not used: its lazy loader needs pytest internals that pytest 9
    removed.)"""
    token = coordinator_token if persona == "coordinator" else lead_token
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run_operation(operation, mode, headers)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - listed below
                failures.append(
                    f"{operation.method.upper()} {operation.path} [{mode.value}]: {exc}"
                )
    assert operations >= 45
    assert len(CHECKS) >= 14
    assert not failures, "\n\n".join(failures)


def test_every_read_of_a_real_record_conforms(api_schema: Any, records: Any, coordinator_token):
    """Generated ids are mostly unknown (404): read every record that exists, too, so
    the 200 bodies of every detail and list operation are validated."""
    headers = {"Authorization": f"Bearer {coordinator_token}"}
    checked = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        if operation.path.startswith("/api/v1/registry/"):
            continue  # center-scoped: read as a center abstractor in tests/registry/test_schema.py
        segments = operation.path.strip("/").split("/")
        path_parameters = {}
        if "{id}" in segments:
            prefix = segments[segments.index("{id}") - 1]
            if prefix not in records:
                continue
            path_parameters["id"] = records[prefix].pk
        elif "{" in operation.path and "{label}" not in operation.path:
            continue
        if "{label}" in operation.path:
            path_parameters = {"label": "patients.visit", "id": records["visits"].pk}
        case = operation.Case(path_parameters=path_parameters)
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code in (200, 403), (operation.path, response.status_code)
        checked += 1
    assert checked >= 30
