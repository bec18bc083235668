"""`manage.py story_summary SLUG`: a story at a glance, with what is overdue as of now."""

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db.models import Count
from django.utils import timezone

from events import dates
from events.models import Event, Expectation, Story

from ._errors import OneLineErrorCommand


def _tally(rows: list[dict[str, Any]], field: str, choices: Any) -> str:
    counts = {row[field]: row["n"] for row in rows}
    return ", ".join(f"{label.lower()} {counts[value]}" for value, label in choices.choices if counts.get(value))


class Command(OneLineErrorCommand):
    help = "Print a compact summary of a story: events by status and publication, open expectations, overdue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The story's slug.")
        parser.add_argument("--limit", type=int, default=20, help="Open expectations to list (default 20).")

    def handle(self, *args: Any, slug: str, limit: int, **options: Any) -> None:
        story = Story.objects.filter(slug=slug).first()
        if story is None:
            raise CommandError(f"no story with slug '{slug}'")
        today = timezone.localdate()
        events = story.events.all()
        last = dates.format_moment(story.last_development_at, dates.EXACT) if story.last_development_at else "none yet"
        by_status = list(events.values("status").annotate(n=Count("id")))
        by_publication = list(events.values("publication").annotate(n=Count("id")))
        by_state = list(story.expectations.values("status").annotate(n=Count("id")))
        open_expectations = story.expectations.open().by_due_date()
        overdue = open_expectations.past_due(today)

        lines = [
            f"{story.title} ({story.slug})",
            f"Status: {story.get_status_display().lower()}; last development: {last}",
            f"Events: {events.count()} ({_tally(by_publication, 'publication', Event.Publication) or 'none'})",
            f"  by status: {_tally(by_status, 'status', Event.Status) or 'none'}",
            f"Expectations: {story.expectations.count()} ({_tally(by_state, 'status', Expectation.Status) or 'none'})",
            f"Open expectations: {open_expectations.count()}, overdue as of {dates.format_date(today, dates.DAY)}: "
            f"{overdue.count()}",
        ]
        shown = list(open_expectations[:limit])
        for expectation in shown:
            flag = "  OVERDUE" if expectation.is_overdue_on(today) else ""
            due = f"due {expectation.due_display}" if expectation.due_on else "no due date"
            lines.append(f"  - {expectation.title} ({due}){flag}")
        hidden = open_expectations.count() - len(shown)
        if hidden > 0:
            lines.append(f"  … and {hidden} more")
        self.stdout.write("\n".join(lines))
