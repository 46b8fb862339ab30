"""Every registry read of a real record conforms to the OpenAPI schema (as the center's
abstractor, who sees them)."""

from __future__ import annotations

from typing import Any

import schemathesis

from api.services import api_token_create

from ..api.test_schemathesis import CHECKS, wsgi_on_test_transaction  # noqa: F401
from .helpers import center_records


def test_every_registry_read_conforms(wsgi_on_test_transaction, rpatient_a, abstractor_a):  # noqa: F811
    from config.wsgi import application

    records: dict[str, Any] = {
        prefix.split("/", 1)[1]: obj
        for prefix, obj in center_records(rpatient_a, abstractor_a, tag="S").items()
    }
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    headers = {"Authorization": f"Bearer {api_token_create(user=abstractor_a, name='s')[1]}"}
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" or not operation.path.startswith("/api/v1/registry/"):
            continue
        if operation.path.startswith(
            ("/api/v1/registry/cohorts/", "/api/v1/registry/data-requests/")
        ):
            # research cohorts and data requests, not center records
            # (tests/research/test_api.py, tests/research/test_extracts.py)
            continue
        segments = operation.path.strip("/").split("/")
        params = {}
        if "{id}" in segments:
            params["id"] = records[segments[segments.index("{id}") - 1]].pk
        response = operation.Case(path_parameters=params).call_and_validate(
            headers=headers, checks=CHECKS
        )
        assert response.status_code == 200, (operation.path, response.content[:200])
        checked += 1
    assert checked == 26  # 13 lists and 13 details
