"""The demo builder: progress for the person waiting, and stored outcomes that a fresh
recomputation confirms (the builder recomputes once per patient journey)."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from patients.models import Enrollment, ResponseSummary
from patients.services.response import response_recompute, response_recompute_deferred


def test_seed_demo_prints_each_step_and_stores_outcomes_a_recompute_confirms(
    db, settings, monkeypatch
):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off
    monkeypatch.setenv("DEMO_REGISTRY_PATIENTS", "0")  # the registry demo: test_infrastructure
    out = StringIO()
    # 12 patients per site: every scenario of the cycle at each site, the withdrawn
    # patient included (the clinical demo once recorded vitals after a withdrawal)
    call_command("seed_demo", sites=2, patients_per_site=12, quiet_logins=True, stdout=out)
    text = out.getvalue()
    for step in (
        "trial, arms",
        "2 sites",
        "staff accounts",
        "visit schedule",
        "site 1/2",
        "site 2/2",
    ):
        assert step in text, (step, text)
    assert "Demo ready" in text and " s)." in text
    enrolled = Enrollment.objects.select_related("patient__trial_site__trial")
    assert enrolled.count() >= 2
    assert ResponseSummary.objects.count() == enrolled.count()
    for enrollment in enrolled:
        summary = ResponseSummary.objects.get(patient=enrollment.patient)
        versions = summary.history.count()
        again = response_recompute(patient=enrollment.patient)
        assert again.outcome == summary.outcome
        assert summary.history.count() == versions  # nothing changed: no new history row


def test_deferred_recompute_runs_once_per_patient_on_leaving(db, monkeypatch, patient_a, patient_b):
    import patients.services.response as response

    calls = []
    real = response.response_recompute

    def spy(*, patient, acting_user=None):
        if response._deferred.get() is None:
            calls.append(patient.pk)
        return real(patient=patient, acting_user=acting_user)

    monkeypatch.setattr(response, "response_recompute", spy)
    with response_recompute_deferred():
        for _ in range(3):
            assert real(patient=patient_a) is None
            assert real(patient=patient_b) is None
        assert calls == []
    assert sorted(calls) == sorted([patient_a.pk, patient_b.pk])
