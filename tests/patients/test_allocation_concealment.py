"""Allocation concealment: the sequence position and the blocks are for the unblinded
(statistician) view only, in open-label trials too; a blinded trial cannot give its arms
different interventions (the causality rows would reveal the arm)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from domain.blinding import arm_specific_interventions
from patients.models import AdverseEventCausality, Enrollment
from patients.services import patient_enroll
from patients.services.safety import adverse_event_record
from trials.admin import InterventionForm
from trials.models import Intervention, Trial

from .helpers_enroll import DAYS, TODAY, arms, consent_version, ready_patient

CONCEALED = ("allocation_index", "block_number", "block_size")


@pytest.fixture
def icf(trial):
    return consent_version(trial, "1.0", "zh")


def enrolled(register, trial_site, user, icf, n):
    out = []
    for _i in range(n):
        patient = ready_patient(register, trial_site, user, icf)
        out.append(patient_enroll(patient=patient, acting_user=user, enrolled_on=TODAY))
    return out


def test_pure_rule_names_arm_specific_interventions():
    assert arm_specific_interventions(["A", "B"], {"X": ["A", "B"], "Y": ["A"]}) == ["Y"]
    assert arm_specific_interventions(["A", "B"], {"X": {"B", "A"}}) == []


def test_open_label_block_details_only_for_the_unblinded_view(
    api_for, trial, trial_site_a, coordinator_site_a, lead_investigator, register, icf
):
    arms(trial, A=1, B=1)
    assert not trial.is_blinded
    enrollment = enrolled(register, trial_site_a, coordinator_site_a, icf, 2)[0]
    url = f"/api/v1/enrollments/{enrollment.pk}/"
    crc = api_for(coordinator_site_a).get(url).json()
    assert crc["arm_code"] in ("A", "B")  # open label: the arm is not secret
    assert all(crc[f] is None for f in CONCEALED), crc
    listed = api_for(coordinator_site_a).get("/api/v1/enrollments/").json()["results"]
    assert all(row[f] is None for row in listed for f in CONCEALED)
    lead = api_for(lead_investigator).get(url).json()  # holds VIEW_UNBLINDED
    assert lead["allocation_index"] == enrollment.allocation_index
    assert lead["block_size"] == enrollment.block_size


def test_blinding_refused_while_arms_get_different_interventions(trial, client):
    created = arms(trial, A=1, B=1)
    both = Intervention.objects.create(trial=trial, kind="drug", name="Lenvatinib")
    both.arms.set(created.values())
    only_a = Intervention.objects.create(trial=trial, kind="procedure", name="Cryoablation")
    only_a.arms.set([created["A"]])
    trial.blinding = Trial.Blinding.BLINDED
    with pytest.raises(ValidationError) as exc:
        trial.full_clean()
    message = " ".join(exc.value.message_dict["blinding"])
    assert "every intervention in every arm" in message and "Cryoablation" in message
    assert "Lenvatinib" not in message

    only_a.arms.set(created.values())  # study treatment given in all arms: blindable
    trial.full_clean()
    trial.save()

    form = InterventionForm(
        data={"trial": trial.pk, "arms": [created["B"].pk], "kind": "drug", "name": "Placebo"}
    )
    assert not form.is_valid()
    assert "every intervention in every arm" in " ".join(form.errors["arms"])
    ok = InterventionForm(
        data={
            "trial": trial.pk,
            "arms": [a.pk for a in created.values()],
            "kind": "drug",
            "name": "Study drug or placebo",
        }
    )
    assert ok.is_valid(), ok.errors


def test_trial_admin_shows_the_refusal(trial, client, data_manager):
    created = arms(trial, A=1, B=1)
    Intervention.objects.create(trial=trial, kind="procedure", name="Cryoablation").arms.set(
        [created["A"]]
    )
    data_manager.is_staff = True
    data_manager.save()
    client.force_login(data_manager)
    url = reverse("admin:trials_trial_change", args=[trial.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items()}
    data["blinding"] = Trial.Blinding.BLINDED
    response = client.post(
        url, {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    )
    assert response.status_code == 200  # re-rendered with the message, nothing saved
    assert "every intervention in every arm" in response.content.decode()
    trial.refresh_from_db()
    assert not trial.is_blinded


def test_blinded_trial_causality_rows_do_not_reveal_the_arm(
    trial, trial_site_a, coordinator_site_a, register, icf
):
    created = arms(trial, A=1, B=1)
    for name in ("Study drug or placebo", "Toripalimab"):
        Intervention.objects.create(trial=trial, kind="drug", name=name).arms.set(created.values())
    trial.blinding = Trial.Blinding.BLINDED
    trial.full_clean()
    trial.save()
    enrollments = enrolled(register, trial_site_a, coordinator_site_a, icf, 6)
    assert {e.arm.code for e in enrollments} == {"A", "B"}
    counts = {}
    for e in enrollments:
        ivs = Intervention.objects.filter(arms=e.arm)
        ae = adverse_event_record(
            patient=e.patient,
            acting_user=coordinator_site_a,
            term="Fatigue",
            grade=1,
            serious=False,
            serious_criteria=[],
            onset_date=TODAY - DAYS(1),
            resolution_date=None,
            outcome="not_recovered",
            action_taken="none",
            causality={iv.pk: "unlikely" for iv in ivs},
        )
        counts.setdefault(e.arm.code, set()).add(
            AdverseEventCausality.objects.filter(adverse_event=ae).count()
        )
    assert counts["A"] == counts["B"] == {2}
    assert Enrollment.objects.count() == 6
