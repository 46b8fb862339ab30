"""Load NCI's full CTCAE list: ``manage.py load_ctcae_terms CTCAE_v5.0.csv``.

Export the "CTCAE v5.0 Clean Copy" sheet of NCI's ``CTCAE_v5.0_2017-11-27.xlsx`` as CSV
(UTF-8). Existing codes are updated (their Chinese names kept), new ones added, none
deleted; every change is in the terms' history.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from audit.context import audit_context
from patients.ctcae_catalogue import read_nci_csv
from patients.models import CtcaeTerm


class Command(BaseCommand):
    help = "Load or update CTCAE terms from NCI's spreadsheet saved as CSV."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path")
        parser.add_argument("--ctcae-version", dest="ctcae_version", default="5.0")

    def handle(self, *args: Any, path: str, ctcae_version: str, **options: Any) -> None:
        try:
            rows = read_nci_csv(path)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        added = updated = 0
        with (
            transaction.atomic(),
            audit_context(reason=f"CTCAE {ctcae_version} loaded from {path}"),
        ):
            for row in rows:
                term = CtcaeTerm.objects.filter(meddra_code=row["meddra_code"]).first()
                if term is None:
                    term = CtcaeTerm(meddra_code=row["meddra_code"])
                    added += 1
                else:
                    updated += 1
                term.term = row["term"]
                term.soc = row["soc"]
                term.grades = row["grades"]
                term.definition = row["definition"]
                term.version = ctcae_version
                term.save()
        self.stdout.write(f"CTCAE terms: {added} added, {updated} updated.")
