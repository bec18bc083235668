"""What is new for a subscriber over a period: the content of a digest or an alert.

`collect(deliveries)` answers for a whole batch of claimed deliveries at once, each with its own
period [period_start, period_end) and its own follows. A subscriber follows stories (all their
events), topics and actors (events with that topic, or where the actor takes part); an event matches
if any applies, an expectation if its story, one of its topics or one of its expected actors does.

Each section is bounded (SECTION_LIMIT items, and the count of the rest for an "and N more on the
site" line). The number of queries is fixed per batch, whatever its size: one ranked query per
section (the matches of each follow path – story, topic, actor – are joined from the subscriber's
follows through indexes, united, then counted and ranked per subscriber with window functions, and
at most SECTION_LIMIT rows per subscriber leave the database), then one query per kind of thing
shown, and the historical records that say what changed in updated events. The SQL is plain enough
for SQLite (the demo) and PostgreSQL alike.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.functional import lazy

from . import history
from .models import Correction, DigestDelivery, Event, Expectation, Participation, Subscriber
from .subscriber_mail import page_link
from .text import html_to_plain

SECTION_LIMIT = 50
EXCERPT_LENGTH = 240
# "What is expected in the coming days": pending expectations due within this many days.
COMING_DAYS = 7


@dataclass(frozen=True)
class Section:
    """At most SECTION_LIMIT items of one kind, newest first, and how many there are in all."""

    items: list[Any] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)

    def __bool__(self) -> bool:
        return self.total > 0


# What an email shows of each thing, worked out once per batch however many digests list it. Dates
# and links are written when an email is rendered, in its subscriber's language.


def _in_the_email_language(show: Callable[[], str]) -> str:
    return lazy(show, str)()


@dataclass(frozen=True)
class EventItem:
    title: str
    url: str
    when: str
    place: str
    story: str
    excerpt: str

    @classmethod
    def of(cls, event: Event) -> "EventItem":
        return cls(
            title=event.title,
            url=page_link(event.get_absolute_url()),
            when=_in_the_email_language(lambda: event.when),
            place=event.place.name if event.place else "",
            story=event.story.title,
            excerpt=html_to_plain(event.summary_html, EXCERPT_LENGTH),
        )


@dataclass(frozen=True)
class EventUpdate:
    """A published event edited during the period, with what changed (empty when only its rows –
    participants, sources, discussion points – changed, which history does not compare)."""

    event: EventItem
    changes: list[history.FieldChange]


@dataclass(frozen=True)
class CorrectionItem:
    event: EventItem
    text: str
    created_at: datetime.datetime


@dataclass(frozen=True)
class ExpectationItem:
    title: str
    story: str
    story_url: str
    due: str
    fulfilled_by: EventItem | None

    @classmethod
    def of(cls, expectation: Expectation) -> "ExpectationItem":
        fulfilled_by = expectation.fulfilled_by
        return cls(
            title=expectation.title,
            story=expectation.story.title,
            story_url=page_link(expectation.story.get_absolute_url()),
            due=_in_the_email_language(lambda: expectation.due_display),
            fulfilled_by=EventItem.of(fulfilled_by) if fulfilled_by else None,
        )


@dataclass(frozen=True)
class Digest:
    delivery: DigestDelivery
    new_events: Section
    updated_events: Section
    corrections: Section
    fulfilled: Section
    overdue: Section
    # Context, not news: a digest with only this section is not sent.
    coming: Section

    @property
    def item_count(self) -> int:
        """How many changes the period holds; 0 means nothing is sent."""
        return sum(
            s.total for s in (self.new_events, self.updated_events, self.corrections, self.fulfilled, self.overdue)
        )

    @property
    def is_empty(self) -> bool:
        return self.item_count == 0


# --- The ranked queries ---------------------------------------------------------------------------


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@dataclass(frozen=True)
class _Path:
    """One way from a subscriber's follows (`f`) to the events or expectations they follow: the
    follows' table, the rows reached from one follow (`reach`, ending in the listed table under its
    alias) and the condition that ties them to it (`link`)."""

    follows: str
    reach: str
    link: str


def _follow_paths(root: Any, alias: str) -> list[_Path]:
    """The paths from delivery `d` to the events or expectations (`alias`) its subscriber follows: by
    story, by topic, by actor. Each is an index lookup from one of the subscriber's few follows, so
    the cost grows with the matches, not with everything that changed in the period."""
    story, topics, actors = Subscriber.stories.through, Subscriber.topics.through, Subscriber.actors.through
    if root is Event:
        by_topic, topic_key = Event.topics.through, "event_id"
        by_actor, actor_key = Participation, "event_id"
    else:
        by_topic, topic_key = Expectation.topics.through, "expectation_id"
        by_actor, actor_key = Expectation.expected_actors.through, "expectation_id"
    table = _table(root)
    return [
        _Path(_table(story), f"{table} {alias}", f"{alias}.story_id = f.story_id"),
        _Path(
            _table(topics),
            f"{_table(by_topic)} t JOIN {table} {alias} ON {alias}.id = t.{topic_key}",
            "t.topic_id = f.topic_id",
        ),
        _Path(
            _table(actors),
            f"{_table(by_actor)} t JOIN {table} {alias} ON {alias}.id = t.{actor_key}",
            "t.actor_id = f.actor_id",
        ),
    ]


def _matches(query: "_Query", path: _Path, carried: list[str]) -> str:
    """SQL: (delivery_id, item_id, o_<column>...) of the batch's deliveries along one follow path.

    On PostgreSQL the rows of each follow are a LATERAL subquery fenced by OFFSET 0, so the plan goes
    from the batch's deliveries to their follows to the rows by index, as the join reads. Left to
    itself, the planner estimates a story's rows as the table's average (a million expectations in
    one story make every story "large") and hash-joined every overdue expectation of every story
    against the batch instead: 1.2 s a batch, most of a digest run. SQLite (the demo) joins plainly."""
    columns = "".join(f", i.{column} AS o_{column}" for column in carried)
    if connection.vendor != "postgresql":
        return f"""SELECT d.id AS delivery_id, i.id AS item_id{columns}
            FROM batch d JOIN {path.follows} f ON f.subscriber_id = d.subscriber_id
            JOIN {path.reach} {query.joins}
            WHERE {path.link} AND {query.condition}"""
    outer = "".join(f", m.o_{column}" for column in carried)
    return f"""SELECT d.id AS delivery_id, m.item_id{outer}
        FROM batch d JOIN {path.follows} f ON f.subscriber_id = d.subscriber_id
        CROSS JOIN LATERAL (
            SELECT i.id AS item_id{columns} FROM {path.reach} {query.joins}
            WHERE {path.link} AND {query.condition} OFFSET 0
        ) m"""


def _last_version_before(bound: str) -> str:
    """SQL: the id of event i's historical record current just before `bound` (a column of d)."""
    return f"""(SELECT h.history_id FROM {_table(Event.history.model)} h
                WHERE h.id = i.id AND h.history_date < d.{bound}
                ORDER BY h.history_date DESC, h.history_id DESC LIMIT 1)"""


@dataclass(frozen=True)
class _Query:
    """One section: the listed rows (alias i) of `item`, reached from what the subscriber follows
    (`root`, alias `root_alias`; the same as i unless `joins` goes on from it), meeting `condition`
    (on d, the root and i), ranked by `order`; `extra` columns are computed for the rows kept."""

    item: Any
    root: Any
    root_alias: str
    condition: str
    # Columns of i, each "name" or "name DESC".
    order: tuple[str, ...]
    joins: str = ""
    extra: tuple[str, ...] = ()


PUBLISHED = Event.Publication.PUBLISHED

# Publishing and editing both save the event, so `updated_at >= period_start` holds for every event
# published or edited in the period: it lets the (story, updated_at) index narrow the scan first.
_QUERIES = {
    "new_events": _Query(
        Event,
        Event,
        "i",
        """i.publication = %(published)s AND i.updated_at >= d.period_start
           AND i.published_at >= d.period_start AND i.published_at < d.period_end""",
        ("start DESC", "id DESC"),
    ),
    "updated_events": _Query(
        Event,
        Event,
        "i",
        f"""i.publication = %(published)s AND i.updated_at >= d.period_start AND i.published_at < d.period_start
            AND EXISTS (SELECT 1 FROM {_table(Event.history.model)} h WHERE h.id = i.id
                        AND h.history_date >= d.period_start AND h.history_date < d.period_end)""",
        ("updated_at DESC", "id DESC"),
        extra=(_last_version_before("period_start"), _last_version_before("period_end")),
    ),
    "corrections": _Query(
        Correction,
        Event,
        "e",
        """e.publication = %(published)s AND i.created_at >= d.period_start AND i.created_at < d.period_end""",
        ("created_at DESC", "id DESC"),
        joins=f"JOIN {_table(Correction)} i ON i.event_id = e.id",
    ),
    "fulfilled": _Query(
        Expectation,
        Expectation,
        "i",
        "i.status = %(fulfilled)s AND i.resolved_at >= d.period_start AND i.resolved_at < d.period_end",
        ("resolved_at DESC", "id DESC"),
    ),
    "overdue": _Query(
        Expectation,
        Expectation,
        "i",
        "i.status = %(overdue)s AND i.flagged_overdue_at >= d.period_start AND i.flagged_overdue_at < d.period_end",
        ("latest_on", "id"),
    ),
    "coming": _Query(
        Expectation,
        Expectation,
        "i",
        "i.status = %(pending)s AND i.due_on >= %(today)s AND i.due_on <= %(horizon)s",
        ("due_on", "id"),
    ),
}


def _ranked(query: _Query, delivery_ids: Sequence[int], params: dict[str, Any]) -> list[tuple]:
    """(delivery id, item id, total, *extra) for at most SECTION_LIMIT items per delivery, in order.

    The matches of the three follow paths are united (an event followed twice counts once), then
    counted and ranked per delivery with window functions; only the rows kept leave the database."""
    ids = {f"delivery_{n}": pk for n, pk in enumerate(delivery_ids)}
    in_batch = ", ".join(f"%({name})s" for name in ids)
    # The ranking columns travel with the matches, so ranking them needs no second look at the rows.
    carried = [column.split()[0] for column in query.order if column.split()[0] != "id"]
    ranking = ", ".join(f"m.item_id{c[2:]}" if c.split()[0] == "id" else f"m.o_{c}" for c in query.order)
    matched = "\n UNION \n".join(_matches(query, path, carried) for path in _follow_paths(query.root, query.root_alias))
    # The delivery and the row again only for the columns computed for the rows kept: joining them
    # back costs a hash of the whole table when the planner misjudges how many rows are kept.
    extra = "".join(f", {sql}" for sql in query.extra)
    rejoined = f"JOIN batch d ON d.id = r.delivery_id JOIN {_table(query.item)} i ON i.id = r.item_id"
    # The batch's deliveries read once, by primary key: the planner then knows they are a hundred rows
    # (it had scanned every delivery along another index to find them).
    materialized = "MATERIALIZED" if connection.vendor == "postgresql" else ""
    sql = f"""
        WITH batch AS {materialized} (
            SELECT id, subscriber_id, period_start, period_end FROM {_table(DigestDelivery)} WHERE id IN ({in_batch})
        ),
        matched AS ({matched}),
        ranked AS (
            SELECT m.delivery_id, m.item_id,
                   COUNT(*) OVER (PARTITION BY m.delivery_id) AS total,
                   ROW_NUMBER() OVER (PARTITION BY m.delivery_id ORDER BY {ranking}) AS position
            FROM matched m
        )
        SELECT r.delivery_id, r.item_id, r.total{extra}
        FROM ranked r {rejoined if query.extra else ""}
        WHERE r.position <= {SECTION_LIMIT}
        ORDER BY r.delivery_id, r.position"""
    with connection.cursor() as cursor:
        # Named parameters: Django's PostgreSQL and SQLite cursors both take them.
        cursor.execute(sql, {**params, **ids})
        return cursor.fetchall()


# --- Collecting -----------------------------------------------------------------------------------


def collect(deliveries: Sequence[DigestDelivery], *, now: datetime.datetime | None = None) -> dict[int, Digest]:
    """The digest of each delivery (by delivery id), for its subscriber and its period.

    The content depends only on the delivery's period (except "coming", which looks ahead from
    `now`), so a delivery collected again after a crash holds the same news."""
    if not deliveries:
        return {}
    today = timezone.localdate(now or timezone.now())
    params = {
        "published": PUBLISHED,
        "fulfilled": Expectation.Status.FULFILLED,
        "overdue": Expectation.Status.OVERDUE,
        "pending": Expectation.Status.PENDING,
        "today": connection.ops.adapt_datefield_value(today),
        "horizon": connection.ops.adapt_datefield_value(today + datetime.timedelta(days=COMING_DAYS)),
    }
    ids = [d.pk for d in deliveries]
    rows = {name: _ranked(query, ids, params) for name, query in _QUERIES.items()}

    events = {
        pk: EventItem.of(event)
        for pk, event in Event.objects.select_related("story", "place")
        .in_bulk({r[1] for name in ("new_events", "updated_events") for r in rows[name]})
        .items()
    }
    corrections = {
        pk: CorrectionItem(event=EventItem.of(c.event), text=c.text, created_at=c.created_at)
        for pk, c in Correction.objects.select_related("event__story", "event__place")
        .in_bulk({r[1] for r in rows["corrections"]})
        .items()
    }
    expectations = {
        pk: ExpectationItem.of(x)
        for pk, x in Expectation.objects.select_related("story", "fulfilled_by__story", "fulfilled_by__place")
        .in_bulk({r[1] for name in ("fulfilled", "overdue", "coming") for r in rows[name]})
        .items()
    }
    changes = _changes(rows["updated_events"])

    found: dict[str, dict[int, list]] = {name: defaultdict(list) for name in _QUERIES}
    totals: dict[str, dict[int, int]] = {name: {} for name in _QUERIES}
    for name, section_rows in rows.items():
        for row in section_rows:
            delivery_id, item_id, total = row[:3]
            totals[name][delivery_id] = total
            if name == "new_events":
                item = events.get(item_id)
            elif name == "updated_events":
                item = EventUpdate(events[item_id], changes.get((row[3], row[4]), [])) if item_id in events else None
            elif name == "corrections":
                item = corrections.get(item_id)
            else:
                item = expectations.get(item_id)
            if item is not None:
                found[name][delivery_id].append(item)

    def section(name: str, delivery_id: int) -> Section:
        return Section(items=found[name].get(delivery_id, []), total=totals[name].get(delivery_id, 0))

    return {d.pk: Digest(delivery=d, **{name: section(name, d.pk) for name in _QUERIES}) for d in deliveries}


def _changes(rows: list[tuple]) -> dict[tuple[int | None, int | None], list[history.FieldChange]]:
    """What changed between each (version at period start, version at period end) pair, batched."""
    pairs = {(r[3], r[4]) for r in rows if r[3] is not None and r[4] is not None and r[3] != r[4]}
    wanted = {pk for pair in pairs for pk in pair}
    if not wanted:
        return {}
    records = Event.history.filter(history_id__in=wanted).prefetch_related(*history.history_prefetches(Event))
    by_id = {r.history_id: r for r in records}
    ordered = [pair for pair in pairs if pair[0] in by_id and pair[1] in by_id]
    diffs = history.diff_pairs([(by_id[old], by_id[new]) for old, new in ordered])
    return dict(zip(ordered, diffs, strict=True))
