"""A trial subject links to the registry record of the same person at the same center by
the national pseudonym; the screening form is pre-filled from it with the source shown."""

from __future__ import annotations

import datetime

from django.urls import reverse

from registry.services import (
    registry_patient_register,
    staging_compute,
    treatment_record,
    tumour_record,
)
from sites.roles import Role
from trials.models import ProtocolVersion
from trials.services import criteria_load_defaults

from ..factories import MembershipFactory, UserFactory
from .conftest import HCC, REGISTRY_PATIENT

D = datetime.date


def test_screening_prefills_from_the_registry(
    client, trial, trial_site_a, patient_a, coordinator_site_a
):
    version = ProtocolVersion.objects.create(
        trial=trial, version="1.0", effective_date=D(2025, 1, 1)
    )
    criteria_load_defaults(protocol_version=version, acting_user=None)
    abstractor = UserFactory(username="abs_site_a")
    MembershipFactory(
        user=abstractor, role=Role.CENTER_ABSTRACTOR, site=trial_site_a.site, trial=None
    )
    # the trial fixture's patient_a has the resident id of REGISTRY_PATIENT
    record = registry_patient_register(
        site=trial_site_a.site, acting_user=abstractor, **REGISTRY_PATIENT
    )
    icca = {**HCC, "category": "icca", "topography": "C22.1", "morphology": "8160/3"}
    tumour = tumour_record(patient=record, acting_user=abstractor, **icca)
    staging_compute(
        tumour=tumour,
        system="CHILD_PUGH",
        staged_on=D(2025, 3, 2),
        acting_user=abstractor,
        inputs={
            "bilirubin_umol_l": 18,
            "albumin_g_l": 40,
            "inr": 1.0,
            "ascites": "none",
            "encephalopathy": "none",
        },
    )
    staging_compute(
        tumour=tumour,
        system="ECOG",
        staged_on=D(2025, 3, 2),
        inputs={"grade": 1},
        acting_user=abstractor,
    )
    treatment_record(
        patient=record,
        acting_user=abstractor,
        kind="tace",
        start_date=D(2025, 3, 10),
        intent="palliative",
    )

    client.force_login(coordinator_site_a)
    response = client.get(reverse("patients:screen", args=[patient_a.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["histology"] == "icca"
    assert form.initial["child_pugh_class"] == "A"
    assert form.initial["ecog"] == 1
    assert form.initial["prior_local_therapy"] == "yes"
    assert form.initial["prior_systemic_therapy"] == "no"
    html = response.content.decode()
    assert "Pre-filled from the national registry" in html
    assert f"registry {record.record_number}, Child-Pugh of 2025-03-02" in html


def test_no_prefill_from_another_centers_record(
    client, trial, trial_site_a, trial_site_b, patient_a, coordinator_site_a
):
    version = ProtocolVersion.objects.create(
        trial=trial, version="1.0", effective_date=D(2025, 1, 1)
    )
    criteria_load_defaults(protocol_version=version, acting_user=None)
    abstractor_b = UserFactory(username="abs_site_b")
    MembershipFactory(
        user=abstractor_b, role=Role.CENTER_ABSTRACTOR, site=trial_site_b.site, trial=None
    )
    record = registry_patient_register(
        site=trial_site_b.site, acting_user=abstractor_b, **REGISTRY_PATIENT
    )
    tumour_record(patient=record, acting_user=abstractor_b, **HCC)
    client.force_login(coordinator_site_a)
    response = client.get(reverse("patients:screen", args=[patient_a.pk]))
    assert "histology" not in response.context["form"].initial
    assert record.record_number not in response.content.decode()
