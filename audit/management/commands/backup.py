from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the database (pg_dump -Fc, or SQLite's online backup) "
        "with a SHA-256 manifest and a reminder of the keys it needs (README 'Backup and "
        "restore')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="folder to write the backup folder in")
        parser.add_argument("--by", default="", help="who runs it (kept in the manifest)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            folder = backup_create(out=Path(options["out"]), who=options["by"])
        except (BackupError, OSError) as exc:
            raise CommandError(f"backup failed: {exc}") from exc
        self.stdout.write(str(folder))
        self.stderr.write(
            "Keep SECRET_KEY and FIELD_ENCRYPTION_KEY with the backups but separately "
            "(see KEYS-README.txt in the folder)."
        )
