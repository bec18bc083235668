"""Reads for the readers' pages.

Each selector returns exactly what a page shows, with the select_related / prefetch_related it needs,
so a page costs the same number of queries with 5 events or 500, with 2 participants each or 20.
Timelines are paginated by keyset on (start, id), never OFFSET: the page after an event is the events
strictly before it in (start, id) order, so page 500 costs what page 1 costs and an event published
meanwhile never shifts a page's contents.
"""

import datetime
import itertools
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import (
    Case,
    Count,
    FloatField,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import (
    Actor,
    DiscussionPoint,
    Event,
    Expectation,
    Participation,
    Place,
    Position,
    Story,
    Topic,
)

if TYPE_CHECKING:
    from .filters import TimelineFilter

SEARCH_CONFIG = "english"
UPCOMING_LIMIT = 20
RECENTLY_FULFILLED_LIMIT = 5
NEW_EVENTS_LIMIT = 50

ROLE_ORDER = [
    Participation.Role.HOST,
    Participation.Role.GUEST,
    Participation.Role.MEDIATOR,
    Participation.Role.PARTICIPANT,
    Participation.Role.OBSERVER,
]
_role_rank = Case(*(When(role=role, then=Value(i)) for i, role in enumerate(ROLE_ORDER)), default=Value(99))


def event_search_vector() -> SearchVector:
    """The document a reader's words are matched against. Migration 0002_event_search_index builds a
    GIN index on exactly this expression: change one and the other must follow, or the index goes
    unused."""
    return SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "summary", weight="B", config=SEARCH_CONFIG
    )


def search_events(queryset: QuerySet, terms: str) -> QuerySet:
    """PostgreSQL full-text search, annotated with `rank` (title matches weigh more than summary ones).

    The rank is cast to double precision so that the value a page hands to the next one as its cursor
    compares equal to the one the database computes again (a float4 printed and parsed back does not).
    """
    query = SearchQuery(terms, search_type="websearch", config=SEARCH_CONFIG)
    return (
        queryset.alias(document=event_search_vector())
        .filter(document=query)
        .annotate(rank=Cast(SearchRank(event_search_vector(), query), FloatField()))
    )


def prefix_search_query(typed: str) -> SearchQuery | None:
    """What an editor is typing as a full-text query matching words that start with each typed word
    ("kreml" finds "Kremlin"), so as-you-type lookups use the GIN index instead of scanning titles."""
    words = re.findall(r"\w+", typed)[:8]
    if not words:
        return None
    return SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config=SEARCH_CONFIG)


# --- Keyset pagination ---------------------------------------------------------------------------

_CURSOR_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class Cursor:
    """Where a page of a timeline stopped: the last event's (start, id), and its rank when the list is
    ordered by relevance. Written into the "Older events" link as `after=`."""

    start: datetime.datetime
    id: int
    rank: float | None = None

    @classmethod
    def of(cls, event: Event, *, ranked: bool) -> "Cursor":
        return cls(start=event.start, id=event.pk, rank=event.rank if ranked else None)

    @classmethod
    def parse(cls, value: str) -> "Cursor":
        """Raises ValueError for anything this class did not write."""
        parts = value.split("~")
        if len(parts) not in (2, 3):
            raise ValueError(f"Malformed cursor {value!r}")
        rank = None
        if len(parts) == 3:
            rank = float(parts.pop(0))
            if not math.isfinite(rank):
                raise ValueError(f"Malformed rank in cursor {value!r}")
        start = datetime.datetime.strptime(parts[0], _CURSOR_TIME).replace(tzinfo=datetime.UTC)
        pk = int(parts[1])
        if pk < 1:
            raise ValueError(f"Malformed id in cursor {value!r}")
        return cls(start=start, id=pk, rank=rank)

    def __str__(self) -> str:
        parts = [self.start.astimezone(datetime.UTC).strftime(_CURSOR_TIME), str(self.id)]
        if self.rank is not None:
            parts.insert(0, repr(self.rank))
        return "~".join(parts)

    def older(self) -> Q:
        """Events after this cursor in newest-first order (best match first when ranked)."""
        # The leading `start <= X` lets PostgreSQL bound the index scan: with the OR alone it reads
        # from the newest event down to the cursor (90 ms at 90,000 events deep, 0.3 ms with it).
        chronological = Q(start__lte=self.start) & (Q(start__lt=self.start) | Q(start=self.start, id__lt=self.id))
        if self.rank is None:
            return chronological
        return Q(rank__lt=self.rank) | (Q(rank=self.rank) & chronological)


# --- Event cards ---------------------------------------------------------------------------------


def _card_prefetches() -> list:
    """What an event card shows besides the event row: participants (hosts first), topics, sources."""
    return [
        Prefetch(
            "participations",
            queryset=Participation.objects.select_related("actor")
            .annotate(role_rank=_role_rank)
            .order_by("role_rank", "actor__name"),
        ),
        Prefetch("topics", queryset=Topic.objects.order_by("name")),
        "sources",
    ]


def _cards(queryset: QuerySet) -> QuerySet:
    # The lead picture rides on the event's row: a card shows it at no extra query.
    return queryset.select_related("place", "story", "lead_image")


def _prefetch_cards(events: list[Event]) -> None:
    prefetch_related_objects(events, *_card_prefetches())


def _start_of_tomorrow(now: datetime.datetime | None = None) -> datetime.datetime:
    today = timezone.localdate(now)
    return datetime.datetime.combine(
        today + datetime.timedelta(days=1), datetime.time.min, timezone.get_current_timezone()
    )


@dataclass
class TimelinePage:
    """One page of a timeline, as the page shows it."""

    events: list[Event]
    upcoming: list[Event] = field(default_factory=list)
    next_cursor: Cursor | None = None
    cursor: Cursor | None = None
    ranked: bool = False

    @property
    def days(self) -> list[tuple[datetime.date, list[Event]]]:
        """Events grouped by the site's calendar day, in page order."""
        return [(day, list(events)) for day, events in itertools.groupby(self.events, key=lambda e: e.local_day)]

    @property
    def continued_day(self) -> datetime.date | None:
        """The day the previous page ended on, when this page carries on with it."""
        if self.cursor is None or self.ranked or not self.events:
            return None
        previous_day = timezone.localtime(self.cursor.start).date()
        return previous_day if self.events[0].local_day == previous_day else None

    @property
    def is_first(self) -> bool:
        return self.cursor is None

    @property
    def is_empty(self) -> bool:
        return not self.events and not self.upcoming


def timeline_page(
    filters: "TimelineFilter", *, size: int | None = None, now: datetime.datetime | None = None
) -> TimelinePage:
    """A page of the filtered events, newest first, with what lies ahead of today set apart.

    With search words on PostgreSQL, the list is ordered by relevance instead (best match first) and
    nothing is set apart. Fixed cost: the events (with their lead pictures), then one query each for
    participants, topics and sources, whatever the page holds.
    """
    size = size or settings.TIMELINE_PAGE_SIZE
    queryset = _cards(filters.qs)
    cursor = filters.cursor
    ranked = "rank" in queryset.query.annotations
    upcoming: list[Event] = []
    if ranked:
        queryset = queryset.order_by("-rank", "-start", "-id")
    else:
        horizon = _start_of_tomorrow(now)
        if cursor is None:
            upcoming = list(queryset.filter(start__gte=horizon).order_by("start", "id")[:UPCOMING_LIMIT])
        queryset = queryset.filter(start__lt=horizon).order_by("-start", "-id")
    if cursor is not None:
        queryset = queryset.filter(cursor.older())
    events = list(queryset[: size + 1])
    next_cursor = Cursor.of(events[size - 1], ranked=ranked) if len(events) > size else None
    events = events[:size]
    _prefetch_cards(upcoming + events)
    return TimelinePage(events=events, upcoming=upcoming, next_cursor=next_cursor, cursor=cursor, ranked=ranked)


def new_events(filters: "TimelineFilter", *, since: datetime.datetime) -> list[Event]:
    """Events published after `since` that match the reader's filters, newest publication first:
    what the live notice's "show" inserts at the top of the page."""
    events = list(_cards(filters.qs.filter(published_at__gt=since)).order_by("-published_at", "-id")[:NEW_EVENTS_LIMIT])
    _prefetch_cards(events)
    return events


# --- The live notice -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoryState:
    """What changes when a development is published (or withdrawn): the live notice's validator."""

    published_count: int
    newest_published_at: datetime.datetime | None

    @property
    def etag(self) -> str:
        stamp = int(self.newest_published_at.timestamp() * 1_000_000) if self.newest_published_at else 0
        return f'W/"{self.published_count}-{stamp}"'


def story_state(story: Story) -> StoryState:
    """One aggregate over the (story, published_at) index: cheap enough to answer every 10 seconds."""
    row = Event.objects.filter(story=story).published().aggregate(count=Count("id"), newest=Max("published_at"))
    return StoryState(published_count=row["count"], newest_published_at=row["newest"])


def count_published_since(filters: "TimelineFilter", since: datetime.datetime) -> int:
    return filters.qs.filter(published_at__gt=since).count()


# --- "What's next" -------------------------------------------------------------------------------


@dataclass
class WhatsNext:
    open: list[Expectation]
    recently_fulfilled: list[Expectation]
    today: datetime.date

    @property
    def overdue_count(self) -> int:
        return sum(1 for expectation in self.open if expectation.overdue)

    @property
    def is_empty(self) -> bool:
        return not self.open and not self.recently_fulfilled


def whats_next(expectations: QuerySet, *, today: datetime.date | None = None) -> WhatsNext:
    """Open expectations by due date, each with `overdue` decided from its dates today (a reader sees
    it overdue as soon as the date passes, whether or not the job has flagged it), and the ones most
    recently fulfilled, with the event that fulfilled them. Two queries."""
    today = today or timezone.localdate()
    base = expectations.select_related("story", "raised_by", "place")
    open_ = list(base.open().by_due_date())
    for expectation in open_:
        expectation.overdue = expectation.is_overdue_on(today)
    fulfilled = list(
        base.filter(status=Expectation.Status.FULFILLED)
        .select_related("fulfilled_by")
        .order_by("-resolved_at", "-id")[:RECENTLY_FULFILLED_LIMIT]
    )
    for expectation in fulfilled:
        expectation.overdue = False
    return WhatsNext(open=open_, recently_fulfilled=fulfilled, today=today)


# --- Pages ---------------------------------------------------------------------------------------


def story_list() -> QuerySet:
    """Stories, newest development first, each with its count of published events. One query."""
    return Story.objects.newest_development_first().annotate(
        event_count=Count("events", filter=Q(events__publication=Event.Publication.PUBLISHED))
    )


def story_events(story: Story) -> QuerySet:
    return Event.objects.published().filter(story=story)


def story_expectations(story: Story) -> QuerySet:
    return Expectation.objects.filter(story=story)


@dataclass
class EntityPage:
    """An actor, topic or place, its published events and the expectations that involve it."""

    kind: str
    entity: Actor | Topic | Place
    events: QuerySet
    expectations: QuerySet


def entity_page(kind: str, slug: str) -> EntityPage:
    """Raises Http404 for an unknown slug."""
    if kind == "actor":
        actor = get_object_or_404(Actor.objects.select_related("affiliation"), slug=slug)
        return EntityPage(
            kind,
            actor,
            Event.objects.published().filter(participations__actor=actor),
            Expectation.objects.filter(expected_actors=actor),
        )
    if kind == "topic":
        topic = get_object_or_404(Topic, slug=slug)
        return EntityPage(
            kind, topic, Event.objects.published().filter(topics=topic), Expectation.objects.filter(topics=topic)
        )
    if kind == "place":
        place = get_object_or_404(Place, slug=slug)
        return EntityPage(
            kind, place, Event.objects.published().filter(place=place), Expectation.objects.filter(place=place)
        )
    raise ValueError(f"Unknown kind of entity {kind!r}")


@dataclass
class EventPage:
    event: Event
    participants_by_role: list[tuple[str, list[Participation]]]
    previous: Event | None
    next: Event | None


def event_page(slug: str) -> EventPage:
    """One published event with everything its page shows. Raises Http404 for an unknown or draft one.

    Fixed cost: the event (with its lead picture), participants, topics, discussion points, positions,
    sources, corrections, media, expectations raised and fulfilled, and one query for the previous
    and next events together.
    """
    queryset = (
        Event.objects.published()
        .select_related("story", "place", "forum", "lead_image")
        .prefetch_related(
            *_card_prefetches(),
            "media",
            Prefetch(
                "discussion_points",
                queryset=DiscussionPoint.objects.select_related("topic").prefetch_related(
                    Prefetch("positions", queryset=Position.objects.select_related("actor").order_by("id"))
                ),
            ),
            "corrections",
            Prefetch(
                "expectations_raised",
                queryset=Expectation.objects.select_related("fulfilled_by").order_by("due_on", "id"),
            ),
            Prefetch("expectations_fulfilled", queryset=Expectation.objects.select_related("raised_by")),
        )
    )
    event = get_object_or_404(queryset, slug=slug)
    today = timezone.localdate()
    for expectation in [*event.expectations_raised.all(), *event.expectations_fulfilled.all()]:
        expectation.overdue = expectation.is_overdue_on(today)
    by_role: dict[str, list[Participation]] = {}
    for participation in event.participations.all():
        by_role.setdefault(participation.get_role_display(), []).append(participation)
    previous, following = _neighbours(event)
    return EventPage(
        event=event,
        participants_by_role=list(by_role.items()),
        previous=previous,
        next=following,
    )


def _neighbours(event: Event) -> tuple[Event | None, Event | None]:
    """The published events just before and just after `event` in its story, in (start, id) order.

    One query: each neighbour's id is a subquery that walks the (story, start) index for one row.
    """
    siblings = Event.objects.published().filter(story_id=event.story_id)
    previous = siblings.filter(Q(start__lt=event.start) | Q(start=event.start, id__lt=event.pk)).order_by(
        "-start", "-id"
    )
    following = siblings.filter(Q(start__gt=event.start) | Q(start=event.start, id__gt=event.pk)).order_by(
        "start", "id"
    )
    neighbours = Event.objects.select_related("place").filter(
        Q(pk=Subquery(previous.values("pk")[:1])) | Q(pk=Subquery(following.values("pk")[:1]))
    )
    before = after = None
    for neighbour in neighbours:
        if (neighbour.start, neighbour.pk) < (event.start, event.pk):
            before = neighbour
        else:
            after = neighbour
    return before, after
