"""Hostile requests never 500: absurdly nested JSON is a 400 naming the problem. Pages
send a Content-Security-Policy allowing only the app's own files, and nothing that
carries identity may be stored by a browser or proxy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from domain.json_limits import MAX_JSON_DEPTH, json_depth, too_deep
from patients.models import Patient

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 50_000])
def test_deeply_nested_json_is_a_400_naming_the_problem(api_for, coordinator_site_a, depth):
    body = "[" * depth + "]" * depth
    response = api_for(coordinator_site_a).generic(
        "POST", "/api/v1/patients/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in response.json()["detail"]
    assert Patient.objects.count() == 0


def test_nesting_within_the_limit_is_parsed_and_validated_as_usual(api_for, coordinator_site_a):
    body = '{"full_name": ' + "[" * 10 + "]" * 10 + "}"
    response = api_for(coordinator_site_a).generic(
        "POST", "/api/v1/patients/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "full_name" in response.json()  # a field error, not a parse error


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth('{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth('"\\"[[["') == 0
    assert not too_deep("[" * 64 + "]" * 64)
    assert too_deep("[" * 65)


def test_admin_rule_field_refuses_deep_json():
    from django.core.exceptions import ValidationError

    from trials.admin_criteria import RuleField

    with pytest.raises(ValidationError, match="deeper than 64"):
        RuleField().to_python('{"not": ' * 100 + "{}" + "}" * 100)


def test_pages_send_a_strict_content_security_policy(client, coordinator_site_a, patient_a):
    client.force_login(coordinator_site_a)
    for url in (reverse("login"), reverse("home"), reverse("patients:detail", args=[patient_a.pk])):
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(
            (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
        )
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in policy


INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"|javascript:",
    re.I,
)


#: Templates that are never served by the app, each with its reason.
NOT_SERVED = {
    # written to a file by `manage.py report_datacut` for a DSMB or a journal: it must be
    # self-contained (inline CSS and SVG), and no browser loads it from this server
    "templates/trials/report_datacut.html",
}


def test_no_template_has_inline_script_style_or_event_handler():
    offenders = []
    folders = [ROOT / "templates", *ROOT.glob("*/templates")]
    for path in (p for folder in folders for p in folder.rglob("*.html")):
        if str(path.relative_to(ROOT)) in NOT_SERVED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if INLINE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == []


def test_identity_pages_and_api_answers_are_not_stored(
    client, api_for, coordinator_site_a, patient_a
):
    client.force_login(coordinator_site_a)
    page = client.get(reverse("patients:detail", args=[patient_a.pk]))
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    api = api_for(coordinator_site_a).get(f"/api/v1/patients/{patient_a.pk}/")
    assert api.status_code == 200
    assert "no-store" in api["Cache-Control"]
    assert "no-store" in api_for(coordinator_site_a).get("/api/v1/patients/")["Cache-Control"]
