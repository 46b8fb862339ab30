"""The access kernel's own behaviour: scoped fetches and the blinding rule."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from django.http import Http404

from access import blinding
from access.views import get_visible_or_404
from patients.models import Enrollment, UnblindingEvent
from trials.models import Arm, Trial


def test_get_visible_or_404_takes_a_queryset(
    patient_a, patient_b, coordinator_site_a, django_assert_max_num_queries
):
    from patients.models import Patient

    qs = Patient.objects.select_related("trial_site__site")
    # The membership scope (cached on the user once read), then the patient + its site.
    with django_assert_max_num_queries(2):
        found = get_visible_or_404(qs, coordinator_site_a, pk=patient_a.pk)
        assert found.trial_site.site.code == "SA"  # loaded with it: no further query
    with pytest.raises(Http404):
        get_visible_or_404(qs, coordinator_site_a, pk=patient_b.pk)
    with pytest.raises(Http404):
        get_visible_or_404(Patient, coordinator_site_a, pk="not-a-number")


ROOT = Path(__file__).resolve().parents[2]
REFETCH = re.compile(
    r"get_visible_or_404\((\w+),[^\n]*\n(?:[^\n]*\n){0,3}?[^\n]*\1\.objects\.[^\n]*\.get\(pk="
)


def test_no_view_fetches_scoped_then_refetches_unscoped():
    """A scoped fetch followed by ``Model.objects....get(pk=...)`` of the same model
    skips the scope the second time: pass the queryset to ``get_visible_or_404``."""
    hits = []
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv", "tests/")):
            continue
        if REFETCH.search(path.read_text(encoding="utf-8")):
            hits.append(rel)
    assert not hits, hits
    sample = "x = get_visible_or_404(Visit, u, pk=pk)\nx = Visit.objects.all().get(pk=x.pk)\n"
    assert REFETCH.search(sample)  # the pattern is not vacuous


@pytest.fixture
def blinded(trial, patient_a, patient_b):
    trial.blinding = Trial.Blinding.BLINDED
    trial.save()
    arm = Arm.objects.create(trial=trial, code="K", name="Kernel arm")
    made = []
    for n, patient in enumerate((patient_a, patient_b)):
        made.append(
            Enrollment.objects.create(
                patient=patient,
                trial=trial,
                arm=arm,
                enrolled_on=date(2026, 3, 3),
                randomization_number=f"K-{n}",
                allocation_index=n,
                block_number=1,
                block_size=4,
            )
        )
    return made


def test_single_and_batch_forms_agree(
    blinded, investigator_site_a, lead_investigator, monitor, django_assert_max_num_queries
):
    a, b = blinded
    UnblindingEvent.objects.create(
        enrollment=a,
        unblinded_by=investigator_site_a,
        unblinded_by_username=investigator_site_a.username,
        reason="Anaphylaxis",
    )
    for user in (investigator_site_a, lead_investigator, monitor):
        single = {e.pk: blinding.arm_visible_to(user, e) for e in blinded}
        with django_assert_max_num_queries(2):  # the scope, then one look-up of unblindings
            assert blinding.arm_visibility(user, [a, None, b, a]) == single
    assert blinding.arm_visibility(investigator_site_a, blinded) == {a.pk: True, b.pk: False}
    assert blinding.arm_visibility(lead_investigator, blinded) == {a.pk: True, b.pk: True}
    assert blinding.arm_visibility(monitor, blinded) == {a.pk: False, b.pk: False}
    # The API's arm filter matches exactly the enrollments whose arm one may see.
    visible = set(Enrollment.objects.filter(blinding.arm_visible_q(investigator_site_a)))
    assert a in visible and b not in visible


def test_trial_level_rules(blinded, trial, coordinator_site_a, lead_investigator):
    assert not blinding.arms_visible(coordinator_site_a, trial)
    assert blinding.arms_visible(lead_investigator, trial)
    assert blinding.trials_with_hidden_arms(coordinator_site_a) == [trial.pk]
    assert blinding.trials_with_hidden_arms(lead_investigator) == []
    assert blinding.arm_for_notification(blinded[0]) == ""
    trial.blinding = Trial.Blinding.OPEN
    trial.save()
    e = Enrollment.objects.select_related("trial", "arm").get(pk=blinded[0].pk)
    assert blinding.arms_visible(coordinator_site_a, trial)
    assert blinding.arm_for_notification(e) == str(e.arm)
    # the sequence stays hidden in an open-label trial too
    assert not blinding.sequence_visible(coordinator_site_a, trial)
    assert blinding.sequence_visible(lead_investigator, trial)


def test_history_hides_the_sequence_always_and_the_arm_from_blinded_users(
    blinded, coordinator_site_a, lead_investigator, trial
):
    e = blinded[0]
    assert blinding.history_hidden_fields(e, coordinator_site_a) >= set(blinding.ALLOCATION_FIELDS)
    unblinded = blinding.history_hidden_fields(e, lead_investigator)
    assert set(blinding.SEQUENCE_FIELDS) <= unblinded and "arm" not in unblinded
    assert "randomization_block_sizes" in blinding.history_hidden_fields(trial, lead_investigator)
    assert blinding.history_hidden_fields(e.patient, coordinator_site_a) == {"id_document_hash"}
