"""`manage.py restore FILE [--force]`: put an archive written by `manage.py backup` back in place.

Into the configured database (which may be empty, even missing for SQLite) and MEDIA_ROOT. A database
or media folder that already holds data is replaced only with --force. Whatever fails, the database is
left as it was: the archive is checked whole first, and the database restored in one transaction.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from tracker import backups

from ._errors import OneLineErrorCommand
from ._progress import ProgressLine


class Command(OneLineErrorCommand):
    help = (
        "Restore the database and the uploaded media from an archive written by manage.py backup. "
        "Refuses to replace existing data without --force."
    )
    # The system checks open the database, which a restore may be about to create (SQLite in a new var/).
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The archive (.tar.gz) written by manage.py backup.")
        parser.add_argument(
            "--force", action="store_true", help="Replace the database and media even if they hold data."
        )

    def handle(self, *args: Any, file: str, force: bool, **options: Any) -> None:
        try:
            backups.restore_backup(
                archive_path=Path(file),
                force=force,
                note=lambda line: self.stderr.write(line, style_func=str),
                progress=ProgressLine(self.stderr),
            )
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from None
