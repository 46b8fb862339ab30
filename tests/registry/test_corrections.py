"""Correcting saved registry records, every domain: the page shows the entry form filled
with the record, needs a reason, reports every problem on its field and keeps the history;
the API's PATCH does the same; another center's record is a 404 on both."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from registry import forms as registry_forms
from registry.views import EDITABLE_RECORDS

from .helpers import center_records

D = datetime.date

#: URL segment -> (API prefix, form field to change, new value as posted, value read back)
CHANGES: dict[str, tuple[str, str, Any, Any]] = {
    "tumours": ("registry/tumours", "largest_size_mm", "52", 52),
    "stagings": ("registry/stagings", "staged_on", "2025-03-06", D(2025, 3, 6)),
    "pathology-reports": ("registry/pathology-reports", "grade", "G3", "G3"),
    "genomic-tests": ("registry/genomic-tests", "lab", "Lab Z", "Lab Z"),
    "variants": ("registry/variants", "vaf", "0.35", Decimal("0.35")),
    "fusions": ("registry/fusions", "breakpoint_5", "exon 17", "exon 17"),
    "copy-numbers": ("registry/copy-numbers", "copy_number", "8", Decimal("8")),
    "imaging-studies": ("registry/imaging-studies", "body_part", "ABDOMEN", "ABDOMEN"),
    "lirads-observations": ("registry/lirads-observations", "size_mm", "46", 46),
    "treatments": ("registry/treatments", "end_date", "2025-03-16", D(2025, 3, 16)),
    "follow-ups": ("registry/follow-ups", "contact_date", "2025-09-02", D(2025, 9, 2)),
}


@pytest.fixture
def records(rpatient_a, abstractor_a) -> dict[str, Any]:
    made = center_records(rpatient_a, abstractor_a, tag="A")
    return {segment: made[prefix] for segment, (prefix, *_r) in CHANGES.items()}


def test_every_record_type_has_an_edit_page():
    assert set(EDITABLE_RECORDS) == set(CHANGES)


def form_data(response: Any) -> dict[str, Any]:
    """What the browser would send back for the form as shown (unchanged)."""
    form = response.context["form"]
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if value is None:
            value = ""
        if isinstance(value, bool):
            value = "on" if value else ""
            if not value:
                continue
        data[name] = value
    return data


def url_of(segment: str, record: Any) -> str:
    return reverse(f"registry:edit_{segment.replace('-', '_')}", args=[record.pk])


@pytest.mark.parametrize("segment", list(CHANGES))
def test_page_corrects_the_record_with_a_reason(client, records, abstractor_a, segment):
    record = records[segment]
    _prefix, field, posted, expected = CHANGES[segment]
    client.force_login(abstractor_a)
    page = client.get(url_of(segment, record))
    assert page.status_code == 200
    assert reverse("audit:history", args=[record._meta.label_lower, record.pk]) in (
        page.content.decode()
    )
    data = form_data(page)
    data[field] = posted

    refused = client.post(url_of(segment, record), {**data, "reason": ""})
    assert refused.status_code == 200
    assert "reason" in refused.context["form"].errors
    record.refresh_from_db()
    assert getattr(record, field) != expected  # nothing saved without a reason

    saved = client.post(url_of(segment, record), {**data, "reason": "Source document checked"})
    assert saved.status_code == 302, saved.context["form"].errors if saved.context else ""
    record.refresh_from_db()
    assert getattr(record, field) == expected
    latest = record.history.order_by("-history_id").first()
    assert latest.history_change_reason == "Source document checked"
    assert latest.history_user == abstractor_a


def test_page_reports_every_problem_on_its_field(client, records, abstractor_a):
    client.force_login(abstractor_a)
    url = url_of("follow-ups", records["follow-ups"])
    data = form_data(client.get(url))
    data.update(vital_status="dead", contact_date="2030-01-01", reason="")
    response = client.post(url, data)
    errors = response.context["form"].errors
    assert {"reason", "contact_date", "death_date", "cause_of_death"} <= set(errors)
    records["follow-ups"].refresh_from_db()
    assert records["follow-ups"].vital_status == "alive"


def test_staging_correction_recomputes_and_needs_a_reason_for_an_override(
    client, records, abstractor_a
):
    staging = records["stagings"]
    client.force_login(abstractor_a)
    url = url_of("stagings", staging)
    data = form_data(client.get(url))
    response = client.post(url, {**data, "override_value": "II", "reason": "Board review"})
    assert "override_reason" in response.context["form"].errors
    response = client.post(
        url,
        {
            **data,
            "override_value": "II",
            "override_reason": "Tumour board",
            "reason": "Board review",
        },
    )
    assert response.status_code == 302
    staging.refresh_from_db()
    assert staging.system == "AJCC8_LIVER"
    assert (staging.override_value, staging.value) == ("II", "II")
    assert staging.engine_version and staging.computed_value


@pytest.mark.parametrize("segment", list(CHANGES))
def test_another_centers_abstractor_gets_404(client, records, abstractor_b, segment):
    client.force_login(abstractor_b)
    record = records[segment]
    assert client.get(url_of(segment, record)).status_code == 404
    assert client.post(url_of(segment, record), {"reason": "x"}).status_code == 404


def test_a_role_without_registry_edit_may_not_correct(client, records, data_manager):
    client.force_login(data_manager)
    assert client.get(url_of("tumours", records["tumours"])).status_code == 403


def test_edit_form_lists_are_shown_as_text(records):
    from registry.forms import GenomicTestForm

    form = registry_forms.edit_form_class(GenomicTestForm)(instance=records["genomic-tests"])
    assert form["genes_covered"].value() == "FGFR2, IDH1"
    assert "reason" in form.fields


# --- API -------------------------------------------------------------------------------


def api_url(prefix: str, record: Any) -> str:
    from api.urls import router

    basename = next(b for p, _v, b in router.registry if p == prefix)
    return reverse(f"v1:{basename}-detail", kwargs={"pk": record.pk})


API_VALUES = {
    "stagings": "2025-03-06",
    "variants": "0.35",
    "copy-numbers": "8",
    "tumours": 52,
    "lirads-observations": 46,
}


@pytest.mark.parametrize("segment", list(CHANGES))
def test_patch_corrects_with_a_reason(api_for, records, abstractor_a, abstractor_b, segment):
    record = records[segment]
    prefix, field, posted, expected = CHANGES[segment]
    value = API_VALUES.get(segment, posted)
    client = api_for(abstractor_a)
    url = api_url(prefix, record)

    missing = client.patch(url, {field: value}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    record.refresh_from_db()
    assert getattr(record, field) != expected

    other = api_for(abstractor_b).patch(url, {field: value, "reason": "x"}, format="json")
    assert other.status_code == 404

    ok = client.patch(url, {field: value, "reason": "Source verified"}, format="json")
    assert ok.status_code == 200, ok.json()
    record.refresh_from_db()
    assert getattr(record, field) == expected
    history = client.get(f"/api/v1/history/{record._meta.label_lower}/{record.pk}/")
    assert history.status_code == 200
    assert "Source verified" in history.content.decode()


def test_patch_names_every_refused_field(api_for, records, abstractor_a, rpatient_b):
    client = api_for(abstractor_a)
    tumour = records["tumours"]
    response = client.patch(
        api_url("registry/tumours", tumour),
        {"patient": rpatient_b.pk, "source_id": "X", "diagnosis_date": "2099-01-01"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert {"patient", "source_id", "reason"} <= set(body)
    response = client.patch(
        api_url("registry/tumours", tumour),
        {"morphology": "8160/3", "diagnosis_date": "2099-01-01", "reason": "fix"},
        format="json",
    )
    assert response.status_code == 400
    assert {"morphology", "diagnosis_date"} <= set(response.json())
    tumour.refresh_from_db()
    assert tumour.morphology == "8170/3"


def test_patch_registry_patient(api_for, rpatient_a, abstractor_a):
    client = api_for(abstractor_a)
    url = api_url("registry/patients", rpatient_a)
    response = client.patch(url, {"residence_region": "Zhejiang", "reason": "Moved"}, "json")
    assert response.status_code == 200
    rpatient_a.refresh_from_db()
    assert rpatient_a.residence_region == "Zhejiang"
    bad = client.patch(url, {"birth_date": "2999-01-01", "reason": "x"}, format="json")
    assert bad.status_code == 400 and "birth_date" in bad.json()


def test_patch_staging_refuses_inputs_that_are_not_named(api_for, records, abstractor_a):
    client = api_for(abstractor_a)
    url = api_url("registry/stagings", records["stagings"])
    response = client.patch(url, {"inputs": [1, 2], "reason": "x"}, format="json")
    assert response.status_code == 400 and "inputs" in response.json()
    response = client.patch(url, {"inputs": {"tumour_count": "many"}, "reason": "x"}, "json")
    assert response.status_code == 400 and "inputs" in response.json()
    response = client.patch(
        url, {"inputs": {"largest_size_mm": 25}, "reason": "Remeasured"}, "json"
    )
    assert response.status_code == 200
    records["stagings"].refresh_from_db()
    assert records["stagings"].inputs["largest_size_mm"] == 25
