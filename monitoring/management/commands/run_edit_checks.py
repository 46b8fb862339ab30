from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.context import audit_context
from trials.models import Trial


class Command(BaseCommand):
    help = "Run every active edit check of a trial over all its records (raises / closes queries)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("protocol_code")

    def handle(self, *args: Any, **options: Any) -> None:
        from monitoring.services import edit_checks_run_trial

        trial = Trial.objects.filter(protocol_code=options["protocol_code"]).first()
        if trial is None:
            raise CommandError(f"No trial {options['protocol_code']!r}.")
        with audit_context(origin="shell", reason="Edit checks run (command)"):
            tally = edit_checks_run_trial(trial=trial)
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in sorted(tally.items())) or "no checks")
