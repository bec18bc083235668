"""Reads for the readers' pages.

Each selector returns exactly what a page shows, with the select_related / prefetch_related it needs,
so a page costs the same number of queries with 5 events or 500, with 2 participants each or 20.
Every list has a limit and a way to see more: timelines are paginated by keyset on (start, id), never
OFFSET (the page after an event is the events strictly before it in (start, id) order, so page 500
costs what page 1 costs and an event published meanwhile never shifts a page's contents), and
"what's next" shows a few expectations of each kind with a link to the story's whole list.

What a page costs does not grow with the story either: each query below walks an index for the rows
it shows (the plans are pinned by tests/test_query_plans.py), and lists that a page shows together
come in one query (UNION ALL of their limited parts) so the story page makes at most eight.
"""

import datetime
import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Expression,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
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
WHATS_NEXT_LIMIT = 10
RECENTLY_FULFILLED_LIMIT = 5
NEW_EVENTS_LIMIT = 50
EXPECTATIONS_PAGE_SIZE = 50

ROLE_ORDER = [
    Participation.Role.HOST,
    Participation.Role.GUEST,
    Participation.Role.MEDIATOR,
    Participation.Role.PARTICIPANT,
    Participation.Role.OBSERVER,
]
_role_rank = Case(*(When(role=role, then=Value(i)) for i, role in enumerate(ROLE_ORDER)), default=Value(99))


def _unions() -> bool:
    """Whether limited, ordered queries can be sent as one UNION ALL (PostgreSQL; not SQLite)."""
    return connection.features.supports_slicing_ordering_in_compound


# --- Search --------------------------------------------------------------------------------------


class StoredSearchVector(Expression):
    """The events' stored search document, `events_event.search_vector`: title weighted A, summary
    weighted B, English configuration, kept by PostgreSQL itself (a generated column, migration
    0010_search_vector_and_page_indexes) with a GIN index over it.

    It exists on PostgreSQL only, so it is not a model field: the embedded SQLite default has neither
    the column nor full-text search. Stored rather than computed per row, it gives the planner the
    words' statistics and costs nothing to recheck while walking the date index.
    """

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        # The events table of the query compiling this (aliased "U0" and so on inside a subquery).
        return f"{compiler.quote_name(compiler.query.base_table)}.search_vector", []


def event_search_vector() -> StoredSearchVector:
    """The document a reader's words are matched against (see StoredSearchVector)."""
    return StoredSearchVector()


def search_events(queryset: QuerySet, terms: str) -> QuerySet:
    """PostgreSQL full-text search over the stored, GIN-indexed document (websearch syntax: quoted
    phrases, -exclusions). The order stays the caller's: newest first on a timeline. Ranking every
    match cannot be fast for a word that is in every event (6 s at 100,000 events), while the newest
    50 matches of a common word are the first 50 rows of the date index, and those of a rare word
    come from the GIN index."""
    query = SearchQuery(terms, search_type="websearch", config=SEARCH_CONFIG)
    return queryset.alias(document=event_search_vector()).filter(document=query)


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
    """Where a page of a timeline stopped: the last event's (start, id). Written into the "Older
    events" link as `after=`. Search results run newest first too, so one kind of cursor serves both."""

    start: datetime.datetime
    id: int

    @classmethod
    def of(cls, event: Event) -> "Cursor":
        return cls(start=event.start, id=event.pk)

    @classmethod
    def parse(cls, value: str) -> "Cursor":
        """Raises ValueError for anything this class did not write."""
        parts = value.split("~")
        if len(parts) != 2:
            raise ValueError(f"Malformed cursor {value!r}")
        start = datetime.datetime.strptime(parts[0], _CURSOR_TIME).replace(tzinfo=datetime.UTC)
        pk = int(parts[1])
        if pk < 1:
            raise ValueError(f"Malformed id in cursor {value!r}")
        return cls(start=start, id=pk)

    def __str__(self) -> str:
        return f"{self.start.astimezone(datetime.UTC).strftime(_CURSOR_TIME)}~{self.id}"

    def older(self) -> Q:
        """Events after this cursor in newest-first order."""
        # The leading `start <= X` lets PostgreSQL bound the index scan: with the OR alone it reads
        # from the newest event down to the cursor (90 ms at 90,000 events deep, 0.3 ms with it).
        return Q(start__lte=self.start) & (Q(start__lt=self.start) | Q(start=self.start, id__lt=self.id))


# --- Event cards ---------------------------------------------------------------------------------


def card_prefetches() -> list:
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


def prefetch_cards(events: list[Event]) -> None:
    """Three queries (none for no events, nor for events prefetched already)."""
    prefetch_related_objects(events, *card_prefetches())


# What a list of cards needs of each event besides its card (events.cards keys a card on its id, version
# and updated_at; the list files it under its day and pages by (start, id); the live notice's block
# says when the newest was published). A list selects these only and takes the cards from the cache:
# the joined rows a card is drawn from are read for the cards not rendered yet, by card_events.
_LIST_FIELDS = ("story_id", "start", "start_precision", "version", "updated_at", "published_at")


def _listed(queryset: QuerySet, *, full: bool) -> QuerySet:
    return _cards(queryset) if full else queryset.only(*_LIST_FIELDS)


def card_events(ids: list[int]) -> dict[int, Event]:
    """The events whose cards are to be rendered, by id, with everything their cards show (four queries)."""
    events = list(_cards(Event.objects.filter(pk__in=ids)))
    prefetch_cards(events)
    return {event.pk: event for event in events}


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
    # Search results come newest first like the rest (see search_events): never ordered by relevance.
    # Kept for the API, whose pages say whether they are.
    ranked: bool = False

    @property
    def days(self) -> list[tuple[datetime.date, list[Event]]]:
        """Events grouped by the site's calendar day, in page order."""
        return [(day, list(events)) for day, events in itertools.groupby(self.events, key=lambda e: e.local_day)]

    @property
    def continued_day(self) -> datetime.date | None:
        """The day the previous page ended on, when this page carries on with it."""
        if self.cursor is None or not self.events:
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
    filters: "TimelineFilter",
    *,
    size: int | None = None,
    now: datetime.datetime | None = None,
    full: bool = True,
) -> TimelinePage:
    """A page of the filtered events (searched or not), newest first, with what lies ahead of today
    set apart on the first page (soonest first, at most UPCOMING_LIMIT).

    Fixed cost: the events (with their lead pictures; on PostgreSQL the upcoming and the past ones in
    one query), then one query each for participants, topics and sources, whatever the page holds.
    Unless `full` is false: the readers' pages take rendered cards from events.cards, so their events
    carry only what the list needs (_LIST_FIELDS), in one query.
    """
    size = size or settings.TIMELINE_PAGE_SIZE
    queryset = _listed(filters.qs, full=full)
    cursor = filters.cursor
    horizon = _start_of_tomorrow(now)
    past = queryset.filter(start__lt=horizon)
    if cursor is not None:
        past = past.filter(cursor.older())
    past = past.order_by("-start", "-id")[: size + 1]
    upcoming: list[Event] = []
    if cursor is not None:
        events = list(past)
    else:
        ahead = queryset.filter(start__gte=horizon).order_by("start", "id")[:UPCOMING_LIMIT]
        rows = list(ahead.union(past, all=True)) if _unions() else [*ahead, *past]
        upcoming = sorted((e for e in rows if e.start >= horizon), key=lambda e: (e.start, e.pk))
        events = sorted((e for e in rows if e.start < horizon), key=lambda e: (e.start, e.pk), reverse=True)
    next_cursor = Cursor.of(events[size - 1]) if len(events) > size else None
    events = events[:size]
    if full:
        prefetch_cards(upcoming + events)
    return TimelinePage(events=events, upcoming=upcoming, next_cursor=next_cursor, cursor=cursor)


def new_events(filters: "TimelineFilter", *, since: datetime.datetime, prefetch: bool = True) -> list[Event]:
    """Events published after `since` that match the reader's filters, newest publication first:
    what the live notice's "show" inserts at the top of the page. Their rows in full: their cards
    are new (`prefetch` false leaves events.cards to prefetch those it has to render)."""
    events = list(_cards(filters.qs.filter(published_at__gt=since)).order_by("-published_at", "-id")[:NEW_EVENTS_LIMIT])
    if prefetch:
        prefetch_cards(events)
    return events


# --- The filters' choices ------------------------------------------------------------------------


def filter_candidates(scope: QuerySet) -> dict[str, QuerySet]:
    """The actors, topics and places that occur in `scope` (a page's published events).

    Never a DISTINCT over every participation of the story: each candidate (a few hundred at most)
    is kept by a probe for its first event in the scope, a LIMIT 1 subquery along an ordered index
    ((actor, event), (topic, event), (place, -start)) that stops at the first match. As querysets,
    they also validate a reader's choice (one probe when a filter is given).
    """
    probes = {"actor": ("participations__actor", "id"), "topic": ("topics", "id"), "place": ("place", "-start")}
    models = {"actor": Actor, "topic": Topic, "place": Place}
    return {
        kind: models[kind]
        .objects.alias(
            first_event=Subquery(scope.filter(**{relation: OuterRef("pk")}).order_by(order).values("pk")[:1])
        )
        .filter(first_event__isnull=False)
        for kind, (relation, order) in probes.items()
    }


def filter_choices(scope: QuerySet, kinds: list[str]) -> dict[str, list[tuple[str, str]]]:
    """The candidates of `kinds` as (slug, name) pairs by name: what the filter form offers. One query."""
    candidates = filter_candidates(scope)
    parts = [
        candidates[kind].order_by().annotate(choice_kind=Value(kind)).values_list("choice_kind", "slug", "name")
        for kind in kinds
    ]
    choices: dict[str, list[tuple[str, str]]] = {kind: [] for kind in kinds}
    if parts:
        rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        for kind, slug, name in rows.order_by("name", "slug"):
            choices[kind].append((slug, name))
    return choices


# --- The live notice -----------------------------------------------------------------------------


def _stamp(moment: datetime.datetime | None) -> int:
    return int(moment.timestamp() * 1_000_000) if moment else 0


@dataclass(frozen=True)
class StoryState:
    """What changes when a development is published, edited or withdrawn: the live notice's validator.

    `newest_published_at`: the newest publication. `changed_at`: the newest change to any of the
    story's events, drafts included, so that withdrawing or editing an event changes the ETag too.
    """

    newest_published_at: datetime.datetime | None
    changed_at: datetime.datetime | None = None

    @property
    def etag(self) -> str:
        return f'W/"{_stamp(self.newest_published_at)}-{_stamp(self.changed_at)}"'


def _state_probes() -> dict[str, Subquery]:
    """Two LIMIT 1 probes of the outer story's events, on the (story, -published_at) and (story,
    -updated_at) indexes: the same cost at 10 events or a million, cheap enough to answer every 10 seconds."""
    events = Event.objects.filter(story_id=OuterRef("pk")).order_by()
    newest = events.published().filter(published_at__isnull=False).order_by("-published_at")
    changed = events.order_by("-updated_at")
    return {
        "newest_published_at": Subquery(newest.values("published_at")[:1]),
        "changed_at": Subquery(changed.values("updated_at")[:1]),
    }


def story_state(story: Story) -> StoryState:
    """One query (see _state_probes)."""
    row = Story.objects.filter(pk=story.pk).order_by().values(**_state_probes()).get()
    return StoryState(newest_published_at=row["newest_published_at"], changed_at=row["changed_at"])


def story_with_state(slug: str) -> tuple[Story, StoryState]:
    """The story and its state in one query; Http404 for an unknown slug."""
    story = get_object_or_404(Story.objects.annotate(**_state_probes()), slug=slug)
    return story, StoryState(newest_published_at=story.newest_published_at, changed_at=story.changed_at)


def count_published_since(filters: "TimelineFilter", since: datetime.datetime) -> int:
    """How many events matching the filters were published after `since`: a range of the
    (story, -published_at) index, as long as what is new, never the whole story."""
    return filters.qs.filter(published_at__gt=since).count()


# --- "What's next" -------------------------------------------------------------------------------


@dataclass
class WhatsNext:
    """The panel: a few overdue expectations, a few pending ones (by deadline, open-ended ones last)
    and the most recently fulfilled, each list limited, with whether there are more to see."""

    overdue: list[Expectation]
    pending: list[Expectation]
    recently_fulfilled: list[Expectation]
    today: datetime.date
    more_overdue: bool = False
    more_pending: bool = False

    @property
    def open(self) -> list[Expectation]:
        return self.overdue + self.pending

    @property
    def overdue_count(self) -> int:
        """How many overdue ones the panel shows (at most WHATS_NEXT_LIMIT; see more_overdue)."""
        return len(self.overdue)

    @property
    def has_more(self) -> bool:
        return self.more_overdue or self.more_pending

    @property
    def is_empty(self) -> bool:
        return not self.open and not self.recently_fulfilled


# What the panel shows of an expectation and of the events that raised and fulfilled it: the panel's
# query selects these columns only, which also makes its four-part UNION a third as costly to compile
# (every column of three joined tables took longer to compile than PostgreSQL takes to run it).
_PANEL_FIELDS = (
    "story_id",
    "title",
    "description",
    "due_on",
    "due_precision",
    "latest_on",
    "status",
    "resolved_at",
    *(f"{event}__{name}" for event in ("raised_by", "fulfilled_by") for name in ("title", "slug", "publication")),
)


def whats_next(
    expectations: QuerySet,
    *,
    story: Story | None = None,
    today: datetime.date | None = None,
    limit: int = WHATS_NEXT_LIMIT,
) -> WhatsNext:
    """Open expectations by deadline, overdue ones first: each decided from its dates today (a reader
    sees it overdue as soon as the date passes, whether or not the job has flagged it), and the ones
    most recently fulfilled, with the event that fulfilled them. At most `limit` overdue and `limit`
    pending. One query on PostgreSQL (a UNION ALL of the limited lists, each an index range).
    `story`: the story they all belong to, when the caller has it (else each one's story is joined)."""
    today = today or timezone.localdate()
    related = ("raised_by", "fulfilled_by") if story else ("story", "raised_by", "fulfilled_by")
    fields = _PANEL_FIELDS if story else (*_PANEL_FIELDS, "story__title", "story__slug")
    base = expectations.select_related(*related).only(*fields)
    open_ = base.open()
    parts = [
        open_.past_due(today).order_by("latest_on", "id")[: limit + 1],
        open_.filter(latest_on__gte=today).order_by("latest_on", "id")[: limit + 1],
        open_.filter(latest_on__isnull=True).order_by("id")[: limit + 1],
        base.filter(status=Expectation.Status.FULFILLED).order_by("-resolved_at", "-id")[:RECENTLY_FULFILLED_LIMIT],
    ]
    rows = list(parts[0].union(*parts[1:], all=True)) if _unions() else [row for part in parts for row in part]
    overdue, dated, open_ended, fulfilled = [], [], [], []
    for expectation in rows:
        if story:
            expectation.story = story
        expectation.overdue = expectation.is_overdue_on(today)
        if expectation.status == Expectation.Status.FULFILLED:
            fulfilled.append(expectation)
        elif expectation.overdue:
            overdue.append(expectation)
        elif expectation.latest_on is not None:
            dated.append(expectation)
        else:
            open_ended.append(expectation)
    overdue.sort(key=lambda e: (e.latest_on, e.pk))
    dated.sort(key=lambda e: (e.latest_on, e.pk))
    open_ended.sort(key=lambda e: e.pk)
    fulfilled.sort(key=lambda e: (e.resolved_at or datetime.datetime.min.replace(tzinfo=datetime.UTC), e.pk))
    pending = dated + open_ended
    return WhatsNext(
        overdue=overdue[:limit],
        pending=pending[:limit],
        recently_fulfilled=fulfilled[::-1],
        today=today,
        more_overdue=len(overdue) > limit,
        more_pending=len(pending) > limit,
    )


# --- A list of expectations ----------------------------------------------------------------------

EXPECTATION_STATUSES = ("overdue", "pending", "fulfilled", "cancelled", "superseded")


@dataclass(frozen=True)
class ExpectationCursor:
    """Where a page of expectations stopped: the last one's deadline (none for an open-ended one,
    which come last) and id."""

    latest_on: datetime.date | None
    id: int

    @classmethod
    def parse(cls, value: str) -> "ExpectationCursor":
        """Raises ValueError for anything this class did not write."""
        day, _, pk = value.partition("~")
        if not pk.isascii() or not pk.isdigit() or int(pk) < 1:
            raise ValueError(f"Malformed cursor {value!r}")
        return cls(latest_on=datetime.date.fromisoformat(day) if day else None, id=int(pk))

    def __str__(self) -> str:
        return f"{self.latest_on.isoformat() if self.latest_on else ''}~{self.id}"

    def after(self) -> Q:
        if self.latest_on is None:
            return Q(latest_on__isnull=True, id__gt=self.id)
        return Q(latest_on__isnull=True) | Q(latest_on__gt=self.latest_on) | Q(latest_on=self.latest_on, id__gt=self.id)


@dataclass
class ExpectationPage:
    expectations: list[Expectation]
    next_cursor: ExpectationCursor | None
    status: str


def in_status(expectations: QuerySet, status: str, today: datetime.date) -> QuerySet:
    """The status a reader sees, decided from the dates today (as Expectation.is_overdue_on does)."""
    if status == "overdue":
        return expectations.open().past_due(today)
    if status == "pending":
        return expectations.open().not_past_due(today)
    if status in EXPECTATION_STATUSES:
        return expectations.filter(status=status)
    return expectations


def expectation_page(
    expectations: QuerySet,
    *,
    status: str = "",
    after: ExpectationCursor | None = None,
    size: int = EXPECTATIONS_PAGE_SIZE,
    today: datetime.date | None = None,
) -> ExpectationPage:
    """A page of expectations by deadline (open-ended ones last), keyset-paginated like a timeline.
    One query: the page, with the events that raised and fulfilled them."""
    today = today or timezone.localdate()
    queryset = in_status(expectations, status, today).select_related("raised_by", "fulfilled_by", "place", "story")
    if after is not None:
        queryset = queryset.filter(after.after())
    rows = list(queryset.order_by(F("latest_on").asc(nulls_last=True), "id")[: size + 1])
    for expectation in rows:
        expectation.overdue = expectation.is_overdue_on(today)
    next_cursor = ExpectationCursor(rows[size - 1].latest_on, rows[size - 1].pk) if len(rows) > size else None
    return ExpectationPage(expectations=rows[:size], next_cursor=next_cursor, status=status)


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
            *card_prefetches(),
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
        by_role.setdefault(participation.role, []).append(participation)
    previous, following = _neighbours(event)
    return EventPage(
        event=event,
        participants_by_role=list(by_role.items()),
        previous=previous,
        next=following,
    )


def _neighbours(event: Event) -> tuple[Event | None, Event | None]:
    """The published events just before and just after `event` in its story, in (start, id) order.

    One query on PostgreSQL: each neighbour's id is a subquery that walks the timeline index for one row.
    """
    siblings = Event.objects.published().filter(story_id=event.story_id)
    # The leading bound on `start` lets the index scan start at the event (as Cursor.older does).
    previous = siblings.filter(
        Q(start__lte=event.start) & (Q(start__lt=event.start) | Q(start=event.start, id__lt=event.pk))
    ).order_by("-start", "-id")
    following = siblings.filter(
        Q(start__gte=event.start) & (Q(start__gt=event.start) | Q(start=event.start, id__gt=event.pk))
    ).order_by("start", "id")
    # An IN over the two LIMIT 1 probes, not an OR of two subqueries (which PostgreSQL answers by
    # reading every event: 0.9 s at a million).
    ids = previous.values("pk")[:1].union(following.values("pk")[:1], all=True) if _unions() else None
    if ids is None:
        ids = [*previous.values_list("pk", flat=True)[:1], *following.values_list("pk", flat=True)[:1]]
    neighbours = Event.objects.select_related("place").filter(pk__in=ids)
    before = after = None
    for neighbour in neighbours:
        if (neighbour.start, neighbour.pk) < (event.start, event.pk):
            before = neighbour
        else:
            after = neighbour
    return before, after
