"""Dashboard statistics recomputed in the background after the data changes: a burst of
changes queues one task, which fills the cache the dashboard then reads."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from analysis import selectors as selectors_stats
from analysis import tasks as stats_tasks
from analysis.selectors import trial_statistics_for
from patients.services.response import statistics_invalidate
from sites.scoping import scope_for

from .helpers_dashboard import arms, make_patient

RESPONDER = (-35, -40)


@pytest.fixture
def with_broker():
    """Celery as with a broker configured (whatever this run's environment says)."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def queued(monkeypatch, trial, with_broker):
    """A broker that records what is queued (no worker needed)."""
    calls = []
    monkeypatch.setattr(
        stats_tasks.recompute_trial_statistics,
        "apply_async",
        lambda args, countdown: calls.append((args, countdown)),
    )
    cache.delete(stats_tasks.pending_key(trial.pk))
    yield calls
    cache.delete(stats_tasks.pending_key(trial.pk))


@pytest.fixture
def seeded(trial, trial_site_a, trial_site_b):
    arm_a, arm_b = arms(trial)
    for _ in range(2):
        make_patient(trial_site_a, arm_a, changes=RESPONDER)
        make_patient(trial_site_b, arm_b)


def test_a_burst_of_changes_queues_one_recomputation(
    trial, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            statistics_invalidate(trial_id=trial.pk)
    assert queued == [((trial.pk,), stats_tasks.RECOMPUTE_COUNTDOWN)]
    # The task clears the pending flag first: a change after it starts queues again.
    stats_tasks.recompute_trial_statistics(trial.pk)
    with django_capture_on_commit_callbacks(execute=True):
        statistics_invalidate(trial_id=trial.pk)
    assert len(queued) == 2


def test_the_dashboard_is_served_from_what_the_task_computed(
    trial,
    seeded,
    lead_investigator,
    investigator_site_a,
    queued,
    monkeypatch,
    django_assert_num_queries,
):
    statistics_invalidate(trial_id=trial.pk)
    assert stats_tasks.recompute_trial_statistics(trial.pk) == 3  # all sites, SA, SB
    computed = trial_statistics_for(trial=trial, user=lead_investigator)["computed_at"]

    def not_again(*args, **kwargs):
        raise AssertionError("recomputed on demand")

    monkeypatch.setattr(selectors_stats.analysis, "trial_statistics", not_again)
    scope_for(lead_investigator)  # memberships, once per user object
    with django_assert_num_queries(0):
        stats = trial_statistics_for(trial=trial, user=lead_investigator)
    assert stats["computed_at"] == computed and stats["overall"]["rates"]["enrolled"] == 4
    site = trial_statistics_for(trial=trial, user=lead_investigator, site_code="SA")
    assert site["overall"]["rates"]["enrolled"] == 2
    # A site investigator's own-site figures and trial-level aggregates come cached too.
    assert trial_statistics_for(trial=trial, user=investigator_site_a)["trial_level"]


def test_blinded_trial_precomputes_blinded_and_unblinded_sets(trial, seeded, queued):
    trial.blinding = "blinded"
    trial.save()
    assert stats_tasks.statistics_precompute(trial.pk) == 6


def test_broker_down_means_computed_on_demand(
    trial, seeded, lead_investigator, monkeypatch, django_capture_on_commit_callbacks, with_broker
):
    cache.delete(stats_tasks.pending_key(trial.pk))

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr(stats_tasks.recompute_trial_statistics, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        statistics_invalidate(trial_id=trial.pk)  # no error
    assert cache.get(stats_tasks.pending_key(trial.pk)) is None  # the next change retries
    stats = trial_statistics_for(trial=trial, user=lead_investigator)
    assert stats["overall"]["rates"]["enrolled"] == 4


def test_eager_mode_queues_nothing(trial):
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        assert stats_tasks.schedule_statistics_recompute(trial.pk) is False
    finally:
        app.conf.task_always_eager = before


@pytest.mark.django_db
def test_statistics_read_typed_columns_equal_to_the_stored_outcomes(
    trial, trial_site_a, trial_site_b
):
    # The statistics read only the keys they use, as typed columns; the values are the
    # stored outcome's own (timepoints and notes, which no figure uses, are not read),
    # and the figures equal those computed from the whole stored documents.
    from domain import analysis
    from patients.models import ResponseSummary

    arm_a, arm_b = arms(trial)
    make_patient(trial_site_a, arm_a, changes=RESPONDER, death_day=200)
    make_patient(trial_site_a, arm_b, changes=(30, 45))
    make_patient(trial_site_b, arm_b, alive_day=120)
    stored = {
        o["subject_id"]: o
        for o in ResponseSummary.objects.filter(patient__trial_site__trial=trial).values_list(
            "outcome", flat=True
        )
    }
    lean = selectors_stats._outcomes(trial, None)
    assert [o["subject_id"] for o in lean] == sorted(stored)
    for o in lean:
        full = stored[o["subject_id"]]
        assert full["timepoints"] and "timepoints" not in o
        assert o == {k: v for k, v in full.items() if k not in ("timepoints", "notes", "bor_label")}
    header = selectors_stats.cached_trial_header(trial, cutoff=selectors_stats.timezone.localdate())
    from_full = analysis.trial_statistics(header, [stored[k] for k in sorted(stored)])
    assert analysis.trial_statistics(header, lean) == from_full
