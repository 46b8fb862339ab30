from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from audit.context import audit_context
from registry.demo import seed_registry


class Command(BaseCommand):
    help = "Add a demo national registry over the existing sites (idempotent per center)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["patients"] < 0:
            self.stderr.write("--patients must be >= 0")
            raise SystemExit(2)
        with audit_context(reason="Demo data", origin="shell"):
            created = seed_registry(patients=options["patients"], stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"{created} registry patients created."))
