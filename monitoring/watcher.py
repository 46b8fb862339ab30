"""Detects changes to monitored records from their history rows, without touching any
service: simple-history sends ``post_create_historical_record`` for every saved change,
and the new row diffed against the previous one says which fields changed. Runs in the
transaction of the change (a rolled-back change resets nothing)."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.dispatch import receiver
from simple_history.signals import post_create_historical_record

from .targets import target_of

_muted: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "monitoring_watcher_muted", default=False
)


@contextmanager
def watcher_muted() -> Iterator[None]:
    """Inside: history rows do not reach the watcher (no SDV reset, no signature
    invalidated, no edit check run per saved row).

    For the demo builder only, which writes about 11,000 history rows before the demo's
    edit checks, SDV and signatures exist (so the watcher would find nothing to do) and
    then runs every edit check over the trial once (``monitoring.demo.seed_monitoring``).
    A service must never use it: the watcher is how monitoring sees every change.
    """
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


@receiver(post_create_historical_record, dispatch_uid="monitoring_change_watcher")
def on_history_row(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    if _muted.get():
        return
    # A record of a visit's form (labs, vitals, a "nothing to report" note…) re-runs the
    # visit's edit checks: the missing-forms query closes itself when the form is entered.
    from .visit_forms import rerun_visit_checks

    rerun_visit_checks(instance)
    target = target_of(instance)  # sender is the historical model
    if target is None or history_instance.history_type == "-":
        return
    changes = None
    if history_instance.history_type == "~":
        previous = history_instance.prev_record
        if previous is not None:
            delta = history_instance.diff_against(previous)
            changes = [
                (c.field, c.old, c.new)
                for c in delta.changes
                if c.field not in target.system_fields
            ]
            if not changes:
                return
    from .services.changes import record_changed

    record_changed(
        target=target,
        instance=instance,
        changes=changes,
        acting_user=history_instance.history_user,
    )
