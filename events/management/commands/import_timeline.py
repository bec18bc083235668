"""`manage.py import_timeline --story SLUG FILE [--dry-run] [--publish]`: a TimelineJS JSON or CSV file.

A bad file is refused whole: each bad record on one line of stderr as `FILE:LINE: reason`, nothing
written, exit status 1. Otherwise stdout closes with `created N, unchanged M` (`would create N,
unchanged M` for a dry run). A large file shows its progress on stderr (the records read, then the
events written: the line generate_story draws), and closes it with the time taken. A large CSV is
checked by a process per core (up to READ_WORKERS), which makes the same events and the same errors.
"""

import os
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from events.imports import read_timeline
from events.services import imports as services
from events.services.base import ApplicationError

from ._errors import OneLineErrorCommand
from ._progress import ProgressLine

READ_WORKERS = 4


def _read_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, READ_WORKERS))


class RefusedRows(Exception):
    """The file's bad records, one `FILE:LINE: reason` line each. Not a CommandError: the lines reach
    stderr as they are, without the `error: ` of other refusals."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class Command(OneLineErrorCommand):
    help = (
        "Import a TimelineJS JSON file or a CSV in TimelineJS's spreadsheet columns into a story (created "
        "if missing), as drafts unless --publish. Any bad row refuses the whole file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--story", required=True, help="The story's slug; a missing story is created.")
        parser.add_argument("file", help="The TimelineJS .json file, or a .csv in TimelineJS's columns.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and count, write nothing.")
        parser.add_argument("--publish", action="store_true", help="Publish the events at once (default: drafts).")

    def run_from_argv(self, argv: list[str]) -> Any:
        try:
            return super().run_from_argv(argv)
        except RefusedRows as refused:
            for line in refused.lines:
                self.stderr.write(line)
            sys.exit(1)

    def handle(self, *args: Any, story: str, file: str, dry_run: bool, publish: bool, **options: Any) -> None:
        started = time.monotonic()
        try:
            services.check_story_slug(story)
            data = Path(file).read_bytes()
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror or exc}") from None
        progress = ProgressLine(self.stderr)
        timeline = read_timeline(data, file, progress=progress, workers=_read_workers())
        if timeline.errors:
            raise RefusedRows(timeline.error_lines)
        try:
            if dry_run:
                plan = services.plan_import(timeline=timeline, story_slug=story)
                new, unchanged, story_created = len(plan.to_create), len(plan.unchanged), plan.story is None
            else:
                result = services.import_timeline(
                    timeline=timeline, story_slug=story, publish=publish, progress=progress
                )
                new, unchanged, story_created = result.created, result.unchanged, result.story_created
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None
        if story_created:
            self.stdout.write(f"{'would create' if dry_run else 'created'} story '{story}'")
        if timeline.eras:
            self.stdout.write(f"skipped {timeline.eras} era{'s' if timeline.eras != 1 else ''} (not imported)")
        if len(timeline.events) >= 10_000:
            self.stderr.write(f"{len(timeline.events)} events in {time.monotonic() - started:.1f} s", style_func=str)
        self.stdout.write(f"{'would create' if dry_run else 'created'} {new}, unchanged {unchanged}")
