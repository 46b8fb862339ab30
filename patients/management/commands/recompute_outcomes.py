"""``manage.py recompute_outcomes PROTOCOL_CODE``

Recomputes every enrolled patient's stored response outcome
(``patients.services.response.response_recompute``) with the trial's current settings.
Outcomes are recomputed automatically when a patient's data change; run this after
changing a setting that enters each outcome (time origin, not-yet-assessable window,
response criteria, confirmation), so that the dashboard follows at once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from patients.models import Patient
from patients.services.response import response_recompute
from trials.models import Trial


class Command(BaseCommand):
    help = "Recompute the stored response outcome of every enrolled patient of a trial."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("protocol_code")

    def handle(self, *args: Any, **options: Any) -> None:
        trial = Trial.objects.filter(protocol_code=options["protocol_code"]).first()
        if trial is None:
            raise CommandError(f"Unknown trial {options['protocol_code']!r}")
        count = 0
        patients = Patient.objects.filter(trial_site__trial=trial, enrollment__isnull=False)
        for patient in patients.select_related("trial_site__trial").iterator(chunk_size=500):
            if response_recompute(patient=patient) is not None:
                count += 1
        self.stdout.write(f"{count} outcomes recomputed for {trial.protocol_code}")
