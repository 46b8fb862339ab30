"""Queries, locks, signatures and SDV through their services."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from monitoring.guard import LockedError
from monitoring.models import DataQuery, Lock, QueryMessage, Signature, SourceVerification
from monitoring.services import (
    lock_create,
    lock_problems,
    lock_release,
    query_answer,
    query_close,
    query_raise,
    query_reopen,
    sdv_verify,
    signature_sign,
)
from patients.models import Visit
from patients.services.visits import visit_submit

from ..patients.helpers_visits import submit_data

PASSWORD = "sign-Here-2026"


def resubmit(visit, user, reason="fix", **changes):
    data = submit_data(ecog=visit.ecog)
    data.update(changes)
    return visit_submit(
        visit=visit, acting_user=user, actual_date=visit.actual_date, reason=reason, **data
    )


def test_query_lifecycle_with_correction(visit_a, monitor, coordinator_site_a):
    query = query_raise(
        record=visit_a, field_name="ecog", text="Source says ECOG 2", acting_user=monitor
    )
    assert query.status == "open" and query.trial_site_id == visit_a.patient.trial_site_id
    query = query_answer(
        query=query,
        text="Transcription error",
        acting_user=coordinator_site_a,
        correct=True,
        corrected_value="2",
    )
    visit_a.refresh_from_db()
    assert query.status == "answered" and visit_a.ecog == 2
    # the correction's reason for change is the query
    assert f"Q-{query.pk}" in visit_a.history.first().history_change_reason
    query = query_close(query=query, text="OK", acting_user=monitor)
    assert query.status == "closed"
    query = query_reopen(query=query, text="One more look", acting_user=monitor)
    assert query.status == "open"
    actions = list(QueryMessage.objects.filter(query=query).values_list("action", flat=True))
    assert actions == ["raise", "correct", "close", "reopen"]
    assert query.history.count() >= 4


def test_roles_of_queries(
    visit_a, monitor, coordinator_site_a, coordinator_site_b, investigator_site_a
):
    with pytest.raises(PermissionDenied):
        query_raise(record=visit_a, text="?", acting_user=coordinator_site_a)
    query = query_raise(record=visit_a, text="Check date", acting_user=monitor)
    with pytest.raises(PermissionDenied):
        query_close(query=query, acting_user=coordinator_site_a)
    with pytest.raises(PermissionDenied):
        query_answer(query=query, text="x", acting_user=coordinator_site_b)
    with pytest.raises(PermissionDenied):
        query_answer(query=query, text="x", acting_user=monitor)
    query_answer(query=query, text="Date is right", acting_user=investigator_site_a)
    assert DataQuery.objects.get(pk=query.pk).status == "answered"


def test_query_input_errors_all_at_once(visit_a, monitor):
    with pytest.raises(ValidationError) as exc:
        query_raise(record=visit_a, field_name="nope", text=" ", acting_user=monitor)
    assert set(exc.value.message_dict) == {"field_name", "text"}
    assert not DataQuery.objects.exists()


def test_lock_refused_with_what_is_missing_then_edit_refused_and_unlock(
    visit_a, monitor, data_manager, coordinator_site_a, signer
):
    patient = visit_a.patient
    trial = patient.trial_site.trial
    query = query_raise(record=visit_a, field_name="ecog", text="?", acting_user=monitor)
    with pytest.raises(ValidationError) as exc:
        lock_create(
            trial=trial, level="trial", mode="lock", reason="Final", acting_user=data_manager
        )
    text = " ".join(exc.value.messages)
    assert f"Q-{query.pk}" in text and "Source data verification missing" in text
    assert patient.subject_id in text and "Casebook signatures missing" in text
    assert not Lock.objects.exists()
    query_close(query=query, acting_user=monitor)
    assert lock_problems(trial=trial, patient=patient).missing_sdv
    # verify every required record, sign the casebook, lock it
    from monitoring.services.verification import plan_for, sdv_required
    from monitoring.targets import all_targets

    plan = plan_for(trial.pk)
    for target in all_targets():
        for record in target.model.objects.filter(**{target.patient_filter: patient.pk}):
            if sdv_required(record, plan, target):
                sdv_verify(record=record, acting_user=monitor)
    sdv_verify(record=visit_a, acting_user=monitor)  # sampled or not, verify the visit
    assert not lock_problems(trial=trial, patient=patient).missing_sdv
    signature_sign(
        record=patient,
        level="casebook",
        meaning="approved",
        username_entered=signer.username,
        password=PASSWORD,
        acting_user=signer,
    )
    with pytest.raises(PermissionDenied):
        lock_create(
            trial=trial,
            level="casebook",
            patient=patient,
            mode="lock",
            reason="x",
            acting_user=monitor,
        )
    lock = lock_create(
        trial=trial,
        level="casebook",
        patient=patient,
        mode="lock",
        reason="Ready",
        acting_user=data_manager,
    )
    before = visit_a.history.count()
    with pytest.raises(LockedError) as locked:
        resubmit(Visit.objects.get(pk=visit_a.pk), coordinator_site_a, ecog=3)
    assert (
        f"L-{lock.pk}" in locked.value.messages[0]
        and patient.subject_id in locked.value.messages[0]
    )
    assert visit_a.history.count() == before and Visit.objects.get(pk=visit_a.pk).ecog == 1
    with pytest.raises(LockedError):
        query_raise(record=visit_a, text="?", acting_user=monitor)
    with pytest.raises(ValidationError):
        lock_release(lock=lock, reason="", acting_user=data_manager)
    lock_release(lock=lock, reason="Late lab result", acting_user=data_manager)
    resubmit(Visit.objects.get(pk=visit_a.pk), coordinator_site_a, ecog=2)
    sig = Signature.objects.get()
    assert sig.status == "invalidated" and "ECOG" in sig.invalidation_note
    assert sig.invalidated_by_username == coordinator_site_a.username
    sdv = SourceVerification.objects.get(object_id=visit_a.pk, content_type__model="visit")
    assert sdv.status == "reset" and "ecog" in sdv.reset_fields


def test_sdv_reset_only_for_verified_fields(visit_a, monitor, coordinator_site_a):
    row = sdv_verify(record=visit_a, fields=["ecog"], acting_user=monitor)
    resubmit(Visit.objects.get(pk=visit_a.pk), coordinator_site_a, notes="other notes")
    row.refresh_from_db()
    assert row.status == "verified"
    resubmit(Visit.objects.get(pk=visit_a.pk), coordinator_site_a, ecog=0)
    row.refresh_from_db()
    assert row.status == "reset" and row.reset_fields == ["ecog"]
    assert row.reset_by_username == coordinator_site_a.username


def test_a_change_made_with_the_watcher_muted_is_not_seen(visit_a, monitor, coordinator_site_a):
    """The demo builder's switch (``watcher_muted``): inside it a change resets no SDV;
    outside it the same change does."""
    from monitoring.watcher import watcher_muted

    row = sdv_verify(record=visit_a, fields=["ecog"], acting_user=monitor)
    with watcher_muted():
        resubmit(Visit.objects.get(pk=visit_a.pk), coordinator_site_a, ecog=0)
    row.refresh_from_db()
    assert row.status == "verified"
    resubmit(Visit.objects.get(pk=visit_a.pk), coordinator_site_a, ecog=2)
    row.refresh_from_db()
    assert row.status == "reset" and row.reset_fields == ["ecog"]


def test_signature_needs_both_components_and_no_open_queries(
    visit_a, signer, monitor, coordinator_site_a
):
    patient = visit_a.patient
    with pytest.raises(ValidationError) as exc:
        signature_sign(
            record=patient,
            level="casebook",
            meaning="approved",
            username_entered="someone",
            password="wrong",
            acting_user=signer,
        )
    assert set(exc.value.message_dict) == {"username", "password"}
    with pytest.raises(PermissionDenied):
        signature_sign(
            record=patient,
            level="casebook",
            meaning="approved",
            username_entered=coordinator_site_a.username,
            password="x",
            acting_user=coordinator_site_a,
        )
    query = query_raise(record=visit_a, text="?", acting_user=monitor)
    with pytest.raises(ValidationError) as exc:
        signature_sign(
            record=patient,
            level="casebook",
            meaning="approved",
            username_entered=signer.username,
            password=PASSWORD,
            acting_user=signer,
        )
    assert f"Q-{query.pk}" in exc.value.messages[0]
    query_close(query=query, acting_user=monitor)
    sig = signature_sign(
        record=visit_a,
        level="record",
        meaning="approved",
        username_entered=signer.username,
        password=PASSWORD,
        acting_user=signer,
    )
    assert sig.printed_name == "Li Na" and len(sig.content_hash) == 64 and sig.status == "valid"


def test_freeze_allows_answers_but_not_corrections(
    visit_a, monitor, data_manager, coordinator_site_a
):
    patient = visit_a.patient
    query = query_raise(record=visit_a, field_name="ecog", text="?", acting_user=monitor)
    lock_create(
        trial=patient.trial_site.trial,
        level="site",
        trial_site=patient.trial_site,
        mode="freeze",
        reason="Interim",
        acting_user=data_manager,
    )
    with pytest.raises(LockedError):
        query_answer(
            query=query,
            text="fix",
            acting_user=coordinator_site_a,
            correct=True,
            corrected_value="2",
        )
    query_answer(query=query, text="Value is right", acting_user=coordinator_site_a)
    assert DataQuery.objects.get(pk=query.pk).status == "answered"


def test_data_cut_records_the_lock_it_was_taken_under(tmp_path, trial, data_manager):
    import io
    import json

    from django.core.management import call_command

    from analysis.datacut import datacut_build

    assert datacut_build(trial)["lock"] is None
    lock = lock_create(
        trial=trial,
        level="trial",
        mode="freeze",
        label="Interim 1",
        reason="Interim analysis",
        acting_user=data_manager,
    )
    path = tmp_path / "cut.json"
    call_command("export_datacut", trial.protocol_code, "--out", str(path), stdout=io.StringIO())
    recorded = json.loads(path.read_text())["lock"]
    assert recorded["id"] == lock.pk and recorded["label"] == "Interim 1"
    assert recorded["mode"] == "freeze"
