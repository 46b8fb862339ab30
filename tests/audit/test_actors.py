"""Writes by Celery tasks and management commands name their actor and a reason."""

from __future__ import annotations

import pytest
from celery import shared_task

from audit.context import command_context, current
from trials.models import Trial


@shared_task
def _rename_trial(pk: int, title: str) -> str:
    trial = Trial.objects.get(pk=pk)
    trial.title = title
    trial.save()
    ctx = current()
    return ctx.actor if ctx else ""


def test_a_task_write_is_attributed_to_the_task(trial):
    actor = _rename_trial.apply(args=(trial.pk, "Renamed by a task")).get()
    assert actor == f"task:{_rename_trial.name}"
    record = trial.history.first()
    assert record.history_username == f"task:{_rename_trial.name}"
    assert record.history_origin == "task"
    assert record.history_change_reason == f"Background task {_rename_trial.name}"
    assert current() is None  # the context ends with the task


def test_a_command_write_is_attributed_to_the_command(trial):
    with command_context(["manage.py", "load_icca_criteria"]):
        trial.title = "Renamed by a command"
        trial.save()
    record = trial.history.first()
    assert record.history_username == "command:load_icca_criteria"
    assert record.history_origin == "command"
    assert record.history_change_reason == "Management command load_icca_criteria"


@pytest.mark.django_db
def test_a_user_still_wins_over_the_actor(trial, coordinator_site_a):
    from audit.context import audit_context

    with command_context(["manage.py", "shell"]), audit_context(user=coordinator_site_a):
        trial.title = "By a person in the shell"
        trial.save()
    assert trial.history.first().history_username == coordinator_site_a.get_username()
