from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.context import audit_context
from trials.models import ProtocolVersion
from trials.services import criteria_load_defaults


class Command(BaseCommand):
    help = (
        "Create the default iCCA eligibility criteria for a protocol version "
        "(idempotent: criteria the version already has are kept as they are)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("protocol_code", help="trial protocol code, e.g. CRYO-ICC")
        parser.add_argument("version", help="protocol version, e.g. 1.0")
        parser.add_argument("--user", dest="username", help="attribute the change to this account")

    def handle(self, *args: Any, **options: Any) -> None:
        code, version = options["protocol_code"], options["version"]
        try:
            protocol_version = ProtocolVersion.objects.select_related("trial").get(
                trial__protocol_code=code, version=version
            )
        except ProtocolVersion.DoesNotExist as exc:
            known = ", ".join(
                ProtocolVersion.objects.filter(trial__protocol_code=code).values_list(
                    "version", flat=True
                )
            )
            hint = f" Known versions: {known}." if known else " No such trial or no versions."
            raise CommandError(
                f"Protocol version {version!r} of {code!r} not found.{hint}"
            ) from exc
        user = None
        if options.get("username"):
            try:
                user = get_user_model().objects.get(username=options["username"])
            except get_user_model().DoesNotExist as exc:
                raise CommandError(f"No account {options['username']!r}.") from exc
        with audit_context(origin="shell"):
            created = criteria_load_defaults(protocol_version=protocol_version, acting_user=user)
        total = protocol_version.criteria.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"{protocol_version}: {created} criteria created, {total} in this version."
            )
        )
