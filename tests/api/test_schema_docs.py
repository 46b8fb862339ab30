"""The OpenAPI document: valid OpenAPI 3, generated without a warning, and every
operation documents its parameters and its errors."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management import call_command

WRITE = {"post", "put", "patch", "delete"}


def schema(tmp_path: Path) -> dict:
    out = tmp_path / "schema.yaml"
    # --validate checks it against the OpenAPI 3 meta-schema; a warning fails the call
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def test_schema_is_valid_and_every_operation_documents_its_errors(tmp_path):
    doc = schema(tmp_path)
    assert doc["openapi"].startswith("3.")
    operations = 0
    for path, item in doc["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, op in item.items():
            operations += 1
            where = f"{method.upper()} {path}"
            assert {"401", "403", "404", "429"} <= set(op["responses"]), where
            assert "Retry-After" in op["responses"]["429"]["headers"], where
            if method in WRITE or "page" in {p["name"] for p in op.get("parameters", [])}:
                assert "400" in op["responses"], where
            for parameter in op.get("parameters", []):
                assert parameter.get("description"), (where, parameter["name"])
            if method == "post" and path != "/api/v1/patients/{id}/enroll/":
                continue
            if method == "post":
                names = {p["name"] for p in op["parameters"]}
                assert "Idempotency-Key" in names and "422" in op["responses"], where
    assert operations >= 50


def test_workflow_posts_take_an_idempotency_key_and_edits_a_reason(tmp_path):
    doc = schema(tmp_path)
    for path, item in doc["paths"].items():
        post = item.get("post")
        if post is not None and path.startswith("/api/v1/patients/{id}/"):
            assert "Idempotency-Key" in {p["name"] for p in post["parameters"]}, path
    components = doc["components"]["schemas"]
    for name in (
        "PatchedAdverseEventUpdateRequest",
        "PatchedAssessmentUpdateRequest",
        "RescheduleInputRequest",
        "VisitSubmitInputRequest",
    ):
        assert "reason" in components[name]["properties"], name


def test_a_non_negative_decimal_has_no_minus_sign_in_its_pattern(tmp_path):
    """A decimal is a string in the schema, where ``minimum`` does not apply: a client (or
    a fuzzer) reading the pattern must not be told that -0.4 mm is an ice-ball margin."""
    import re

    doc = schema(tmp_path)
    margin = doc["components"]["schemas"]["ProcedureInputRequest"]["properties"][
        "ice_ball_margin_mm"
    ]
    assert not re.match(margin["pattern"], "-.4") and not re.match(margin["pattern"], "-1")
    assert re.match(margin["pattern"], "5.5") and re.match(margin["pattern"], ".5")
