"""The coordinator's pages: the visit's forms and their states, the lab panel, the
proposed adverse event from a grade 3 result, dosing with a reduction."""

from __future__ import annotations

from django.urls import reverse

from clinical.models import LabResult
from patients.models import AdverseEvent
from patients.services.visits import visit_submit

from ..patients.helpers_visits import submit_data, visit


def test_visit_page_lab_panel_and_proposed_ae(
    client, enrolled_a, coordinator_site_a, ranges, regimens, protocol
):
    w3 = visit(enrolled_a, "W3")
    w3.definition.required_forms = ["labs", "vitals", "dosing", "ae_review"]
    w3.definition.save()
    day = w3.scheduled_date
    visit_submit(visit=w3, acting_user=coordinator_site_a, **submit_data(actual_date=day))
    client.force_login(coordinator_site_a)
    page = client.get(reverse("patients:visit_detail", args=[w3.pk])).content.decode()
    assert 'data-form="labs" data-state="missing"' in page and "visit-incomplete" in page

    bad = client.post(
        reverse("clinical:labs_new", args=[w3.pk]),
        {"collected_on": day.isoformat(), "platelets": "-4", "platelets__unit": "10*9/L"},
    )
    assert bad.status_code == 200 and LabResult.objects.count() == 0
    response = client.post(
        reverse("clinical:labs_new", args=[w3.pk]),
        {
            "collected_on": day.isoformat(),
            "platelets": "42",
            "platelets__unit": "10*9/L",
            "bilirubin": "1.2",
            "bilirubin__unit": "mg/dL",
            "albumin": "38",
            "albumin__unit": "g/L",
        },
    )
    assert response.status_code == 302
    lab = LabResult.objects.get(analyte="platelets")
    assert lab.ae_proposal == "proposed"
    page = client.get(reverse("patients:visit_detail", args=[w3.pk])).content.decode()
    assert reverse("clinical:lab_adverse_event", args=[lab.pk]) in page
    assert "ALBI" in page

    form = client.get(reverse("clinical:lab_adverse_event", args=[lab.pk])).content.decode()
    assert "Platelet count decreased · 血小板计数降低 (10035528)" in form
    assert "&lt;50,000 - 25,000/mm3" in form  # grade text beside the grade
    post = {
        "ctcae_term": "Platelet count decreased · 血小板计数降低 (10035528)",
        "grade": "3",
        "onset_date": day.isoformat(),
        "outcome": "not_recovered",
        "action_taken": "interrupted",
        "visit": str(w3.pk),
    }
    for i in protocol["arm"].interventions.all():
        post[f"causality_{i.pk}"] = "possible"
    response = client.post(reverse("clinical:lab_adverse_event", args=[lab.pk]), post)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AdverseEvent.objects.get()
    lab.refresh_from_db()
    assert (lab.adverse_event, event.ctcae_term.meddra_code) == (event, "10035528")


def test_other_site_cannot_open_the_forms(client, enrolled_a, coordinator_site_b):
    client.force_login(coordinator_site_b)
    w3 = visit(enrolled_a, "W3")
    assert client.get(reverse("clinical:labs_new", args=[w3.pk])).status_code == 404
