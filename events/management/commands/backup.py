"""`manage.py backup [--output PATH]`: one archive of the database and the uploaded media.

The archive goes to var/backups/tracker-<UTC time>.tar.gz unless --output names a file or a folder;
its path is printed on stdout, the progress on stderr. See tracker/backups.py for what it holds.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from tracker import backups

from ._errors import OneLineErrorCommand
from ._progress import ProgressLine


class Command(OneLineErrorCommand):
    help = (
        "Write one archive holding the database (pg_dump, or SQLite's online backup) and the uploaded media "
        "(local storage; an S3 bucket is not included). Prints the archive's path."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            help="The archive to write, or a folder for a timestamped one (default: var/backups/).",
        )

    def handle(self, *args: Any, output: str | None, **options: Any) -> None:
        try:
            path = backups.create_backup(
                destination=Path(output) if output else None,
                note=lambda line: self.stderr.write(line, style_func=str),
                progress=ProgressLine(self.stderr),
            )
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(path))
