from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.context import audit_context
from demo.builder import DemoBuilder
from monitoring.demo import seed_monitoring
from monitoring.watcher import watcher_muted
from notifications.services import notifications_muted
from recruiting import demo as recruiting_demo
from registry.demo import seed_registry
from research.seed import seed_research
from sites.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Load the demo trial, sites, staff and patients (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sites", type=int, default=20, help="number of sites (max 20)")
        parser.add_argument("--patients-per-site", type=int, default=10)
        parser.add_argument(
            "--quiet-logins", action="store_true", help="do not print the demo logins"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even with DEBUG off (the demo accounts share a published password)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            # Demo accounts with a password printed in the README must never appear in a
            # production database by accident.
            raise CommandError(
                "seed_demo creates accounts with a published password and refuses to run "
                "with DEBUG off; use DEBUG=1 (make run), or --force on a throw-away database."
            )
        if options["sites"] < 1 or options["patients_per_site"] < 0:
            self.stderr.write("--sites must be >= 1 and --patients-per-site >= 0")
            raise SystemExit(2)
        builder = DemoBuilder(
            sites=options["sites"],
            patients_per_site=options["patients_per_site"],
            progress=None if options["verbosity"] == 0 else self.stdout.write,
        )
        # Demo history notifies nobody (no mails for years of made-up visits and SAEs).
        with audit_context(reason="Demo data", origin="shell"), notifications_muted():
            # The monitoring watcher would run on each of the build's ~11,000 history
            # rows and find nothing yet (a third of the build's time); seed_monitoring
            # then runs every edit check over the trial once.
            with watcher_muted():
                result = builder.build()
            seed_monitoring(result["trial"])
            seed_registry(stdout=self.stdout)  # size: DEMO_REGISTRY_PATIENTS
            seed_research(stdout=self.stdout)
            recruiting_demo.load(result["trial"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: trial {result['trial'].protocol_code}, "
                f"{len(result['trial_sites'])} sites, {result['patients_created']} new patients "
                f"({time.monotonic() - builder.started:.1f} s)."
            )
        )
        if options["quiet_logins"]:
            return
        self.stdout.write("\nDemo logins (password for all: %s)" % DEMO_PASSWORD)
        self.stdout.write(f"  {'username':<14} {'role':<22} where")
        seen = set()
        for login in builder.logins:
            key = (login.username, login.role)
            if key in seen:
                continue
            seen.add(key)
            if login.username.startswith(("crc_", "pi_")) and login.where not in ("SH01", "BJ01"):
                continue
            self.stdout.write(f"  {login.username:<14} {login.role:<22} {login.where}")
        self.stdout.write("  ... and crc_<site>/pi_<site> for every site (e.g. crc_gz01, pi_ur01)")
