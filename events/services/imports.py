"""Importing a TimelineJS timeline (read by events.imports) into a story, all or nothing.

`plan_import` says what an import would do without writing (the dry run and the desk's preview);
`import_timeline` does it in one transaction: it creates the story when it is missing (its title and
summary from the file's title, its `last_development_at` the latest imported event's date), then the
events in batches with bulk_create, their media items (links, bulk-created too: an import uploads no
image, so no event gets a lead picture and no thumbnail is made) and one history entry each
("Imported from FILE", by the editor), rather than one save per event. bulk_create skips
`Event.save()`: `summary_html` is the summary itself, the sanitised HTML that render_markdown gives
back unchanged (see events.imports.summary_from_html). Events are drafts, or published at once with `publish`
(publication time: now; an existing story's last_development_at is then kept by touch_story).
It queues no immediate alerts itself (a backfill of history is seldom news), but the events are
published now, so the story's subscribers' next digest counts them.

An event already in the story is "unchanged" and left as the editors have it, media included: one
with the same external id (a previous import of the file), or, for a slide with a unique_id, the event
whose slug it is (the story's own TimelineJS export imported back into it). Importing a file twice
thus adds neither events nor media.
"""

import datetime
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..bulk import BulkWriter, record_created
from ..imports import ImportedEvent, Progress, Timeline
from ..models import Event, MediaItem, Story
from .base import ApplicationError, touch_story

BATCH_SIZE = 2000
# An import of at least this many events analyses the tables it wrote (autovacuum would, later).
ANALYZE_AFTER = 10_000
WRITTEN = gettext_lazy("events imported")
# How many values one query looks up: a bounded IN list, or on PostgreSQL an array (= ANY).
LOOKUP_CHUNK = 500
ARRAY_CHUNK = 20_000
_SLUG_MAX = Event._meta.get_field("slug").max_length
_STORY_SLUG_MAX = Story._meta.get_field("slug").max_length


@dataclass(frozen=True)
class ImportPlan:
    story: Story | None  # None: the import creates it
    slug: str
    story_title: str
    to_create: list[ImportedEvent]
    unchanged: list[ImportedEvent]


@dataclass(frozen=True)
class ImportResult:
    story: Story
    story_created: bool
    created: int
    unchanged: int


def _chunks[T](items: list[T], size: int) -> Iterator[list[T]]:
    for at in range(0, len(items), size):
        yield items[at : at + size]


def _title_from_slug(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ").strip().capitalize() or slug


def check_story_slug(slug: str) -> None:
    """Refuse a slug no story could have (ApplicationError), before reading a whole file for it."""
    try:
        validate_slug(slug)
    except ValidationError:
        raise ApplicationError(
            _("“%(slug)s” is not a valid story slug (use letters, numbers, hyphens and underscores)") % {"slug": slug}
        ) from None
    if len(slug) > _STORY_SLUG_MAX:
        raise ApplicationError(_("the story slug is %(length)s characters long; %(max)s at most") % {
            "length": len(slug), "max": _STORY_SLUG_MAX
        })  # fmt: skip


def _existing(rows: QuerySet, field: str, values: Collection[str]) -> set[str]:
    """Which of `values` the `rows` have in `field`: on PostgreSQL one query per ARRAY_CHUNK values
    (`= ANY` of an array, one parameter), elsewhere one per LOOKUP_CHUNK (an IN list)."""
    values = list(values)
    found: set[str] = set()
    if connection.vendor != "postgresql":
        for chunk in _chunks(values, LOOKUP_CHUNK):
            found.update(rows.filter(**{f"{field}__in": chunk}).order_by().values_list(field, flat=True))
        return found
    quote, meta = connection.ops.quote_name, rows.model._meta
    column = f"{quote(meta.db_table)}.{quote(meta.get_field(field).column)}"
    for chunk in _chunks(values, ARRAY_CHUNK):
        matching = RawSQL(f"{column} = ANY(%s)", (chunk,), output_field=BooleanField())  # noqa: S611 - quoted model names
        found.update(rows.filter(matching).order_by().values_list(field, flat=True))
    return found


def plan_import(*, timeline: Timeline, story_slug: str, lock: bool = False) -> ImportPlan:
    """What importing `timeline` into the story `story_slug` would create, and what it already has.
    Reads only: one query for the story, and for an existing story those of `_existing`."""
    check_story_slug(story_slug)
    stories = Story.objects.select_for_update() if lock else Story.objects
    story = stories.filter(slug=story_slug).first()
    title = (timeline.title.title if timeline.title else "") or _title_from_slug(story_slug)
    if story is None:
        return ImportPlan(None, story_slug, title, list(timeline.events), [])
    # The exclude repeats the unique index's condition, so PostgreSQL can use that partial index.
    imported = Event.objects.filter(story=story).exclude(external_id="")
    known = _existing(imported, "external_id", [event.external_id for event in timeline.events])
    unique_ids = {event.unique_id for event in timeline.events if event.unique_id}
    slugs = _existing(Event.objects.filter(story=story), "slug", unique_ids) if unique_ids else set()
    to_create, unchanged = [], []
    for event in timeline.events:
        there = event.external_id in known or (event.unique_id and event.unique_id in slugs)
        (unchanged if there else to_create).append(event)
    return ImportPlan(story, story_slug, story.title, to_create, unchanged)


def _base_slug(title: str) -> str:
    return slugify(title)[: _SLUG_MAX - 6].strip("-") or "event"


def _allocate_slugs(events: list[ImportedEvent]) -> list[str]:
    """A new slug for each event, in order, the first free of "title", "title-2", "title-3"...

    Which are taken is asked in bulk and for exact slugs only (the unique index answers): every
    title first, then, in rounds, the numbered forms the walk through the events reached without
    knowing them, a title's next `count` forms at a time (twice as many each round for a title
    that needs more). A file of new titles takes one round; titles already taken once, two."""
    bases = [_base_slug(event.title) for event in events]
    counts = Counter(bases)
    checked = set(counts)
    taken = _existing(Event.objects.all(), "slug", checked)
    span = dict(counts)  # how many numbered forms of a title the next round asks about
    while True:
        slugs, unknown = _walk(bases, taken, checked)
        if not unknown:
            return slugs
        asked = []
        for base, n in unknown.items():
            asked += [f"{base}-{m}" for m in range(n, n + span[base])]
            span[base] *= 2
        checked.update(asked)
        taken |= _existing(Event.objects.all(), "slug", asked)


def _walk(bases: list[str], taken: set[str], checked: set[str]) -> tuple[list[str], dict[str, int]]:
    """Each base's first slug neither `taken` nor given to an earlier one, and, for the bases whose
    walk reached a slug not yet `checked`, the number of the first such form (the slugs are then
    not final: the walk goes on as if that form were free, to find what else it does not know)."""
    given: set[str] = set()
    slugs: list[str] = []
    unknown: dict[str, int] = {}
    for base in bases:
        slug, n = base, 2
        while slug in taken or slug in given:
            slug, n = f"{base}-{n}", n + 1
        if slug not in checked:
            unknown.setdefault(base, n - 1)
        given.add(slug)
        slugs.append(slug)
    return slugs, unknown


_EVENT_COLUMNS = (
    "id", "story_id", "kind", "title", "slug", "summary", "summary_html", "start", "start_precision", "end",
    "end_precision", "status", "publication", "published_at", "external_id", "created_by_id",
)  # fmt: skip
_MEDIA_COLUMNS = (
    "event_id", "position", "kind", "url", "thumbnail_url", "title", "outlet", "caption", "credit",
)  # fmt: skip


def _event_rows(
    story: Story,
    imported: list[ImportedEvent],
    slugs: Iterable[str],
    ids: Iterable[int],
    *,
    now: datetime.datetime,
    publish: bool,
    by: AbstractBaseUser | None,
) -> list[tuple]:
    published = Event.Publication.PUBLISHED if publish else Event.Publication.DRAFT
    return [
        (
            pk,
            story.pk,
            event.kind,
            event.title,
            slug,
            event.summary,
            event.summary,  # what render_markdown makes of it: see imports.summary_from_html
            event.start,
            event.start_precision,
            event.end,
            event.end_precision,
            Event.Status.SCHEDULED if event.start > now else Event.Status.HAPPENED,
            published,
            now if publish else None,
            event.external_id,
            by.pk if by else None,
        )
        for event, slug, pk in zip(imported, slugs, ids, strict=True)
    ]


def _media_rows(imported: list[ImportedEvent], ids: Iterable[int]) -> list[tuple]:
    return [
        (
            pk,
            0,
            item.media.kind,
            item.media.url,
            item.media.thumbnail_url,
            item.media.title,
            item.media.outlet,
            item.media.caption,
            item.media.credit,
        )
        for item, pk in zip(imported, ids, strict=True)
        if item.media
    ]


@transaction.atomic
def import_timeline(
    *,
    timeline: Timeline,
    story_slug: str,
    publish: bool = False,
    by: AbstractBaseUser | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import every event of `timeline` the story does not have yet, or nothing at all.

    Refuses (ApplicationError) a timeline with errors, and an import that collides with a write made
    meanwhile (the same story created, the same slug taken): nothing is written then either."""
    if timeline.errors:
        raise ApplicationError(_("The file has errors: nothing was imported."))
    try:
        with transaction.atomic():
            return _write(timeline=timeline, story_slug=story_slug, publish=publish, by=by, progress=progress)
    except IntegrityError as exc:
        raise ApplicationError(
            _("Someone saved a story or an event with the same address meanwhile; nothing was imported: import again.")
        ) from exc


def _write(
    *, timeline: Timeline, story_slug: str, publish: bool, by: AbstractBaseUser | None, progress: Progress | None
) -> ImportResult:
    plan = plan_import(timeline=timeline, story_slug=story_slug, lock=True)
    story, created = plan.story, plan.story is None
    if story is None:
        latest = max((event.start for event in plan.to_create), default=None)
        summary = timeline.title.summary if timeline.title else ""
        story = Story.objects.create(
            slug=story_slug, title=plan.story_title, summary=summary, last_development_at=latest
        )
    now = timezone.now()
    slugs = _allocate_slugs(plan.to_create)
    reason = _("Imported from %(file)s") % {"file": timeline.name}
    writer = BulkWriter(now=now)
    done = 0
    for batch, batch_slugs in zip(_chunks(plan.to_create, BATCH_SIZE), _chunks(slugs, BATCH_SIZE), strict=True):
        ids = writer.ids(Event, len(batch))
        writer.write(
            Event, _EVENT_COLUMNS, _event_rows(story, batch, batch_slugs, ids, now=now, publish=publish, by=by)
        )
        record_created(Event, ids, date=now, user_id=by.pk if by else None, reason=reason)
        writer.write(MediaItem, _MEDIA_COLUMNS, _media_rows(batch, ids))
        done += len(batch)
        if progress and len(plan.to_create) > BATCH_SIZE:
            progress(WRITTEN, done, len(plan.to_create))
    if len(plan.to_create) >= ANALYZE_AFTER:
        # As generate_story does: without statistics the planner takes the grown tables for small ones.
        writer.analyze(Event.history.model)
    if publish and plan.to_create and not created:
        touch_story(story.pk)
    return ImportResult(story=story, story_created=created, created=len(plan.to_create), unchanged=len(plan.unchanged))
