from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup folder written by `manage.py backup` into the configured database, "
        "which must be freshly created (empty). Checks every file's SHA-256, the keys' "
        "fingerprint and, afterwards, every table's row count."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", help="a hbtrials-backup-<time> folder")
        parser.add_argument(
            "--allow-other-keys",
            action="store_true",
            help="restore although SECRET_KEY/FIELD_ENCRYPTION_KEY differ (identity unreadable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup_restore(
                folder=Path(options["folder"]), allow_other_keys=options["allow_other_keys"]
            )
        except (BackupError, OSError) as exc:
            raise CommandError(f"restore refused: {exc}") from exc
        rows = sum(manifest["table_counts"].values())
        self.stdout.write(
            f"restored backup of {manifest['created_at']}: {len(manifest['table_counts'])} "
            f"tables, {rows} rows, counts verified"
        )
