"""`manage.py generate_story --slug SLUG --events N [--expectations M] [--subscribers K] [--seed S]`.

Progress goes to stderr (a line redrawn in place on a terminal, a line per tenth elsewhere) unless
--quiet or --verbosity 0; the summary line goes to stdout."""

import time
from typing import Any

from django.core.management.base import CommandError, CommandParser

from events import synthetic

from ._errors import OneLineErrorCommand
from ._progress import ProgressLine


class Command(OneLineErrorCommand):
    help = (
        "Make a synthetic story of any size (events, expectations of every state, subscribers), "
        "deterministic for a seed. Refuses an existing slug unless --replace."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="The new story's slug.")
        parser.add_argument("--events", type=int, required=True, help="How many events.")
        parser.add_argument(
            "--expectations", type=int, default=None, help="How many expectations (default: one per 20 events)."
        )
        parser.add_argument("--subscribers", type=int, default=0, help="Confirmed subscribers following it.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--replace", action="store_true", help="Delete and rebuild a story with this slug.")
        parser.add_argument("--quiet", action="store_true", help="Show no progress (as --verbosity 0).")

    def handle(self, *args: Any, **options: Any) -> None:
        events = options["events"]
        expectations = options["expectations"]
        if expectations is None:
            expectations = max(4, events // 20) if events > 0 else 0
        started = time.monotonic()
        try:
            story = synthetic.generate_story(
                slug=options["slug"],
                events=events,
                expectations=expectations,
                subscribers=options["subscribers"],
                seed=options["seed"],
                replace=options["replace"],
                progress=None if options["quiet"] or options["verbosity"] == 0 else ProgressLine(self.stderr),
            )
        except synthetic.SyntheticStoryError as exc:
            raise CommandError(str(exc)) from None
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Story '{story.slug}': {story.events.count()} events, {story.expectations.count()} expectations, "
            f"{story.subscribers.count()} subscribers ({elapsed:.1f} s)."
        )
