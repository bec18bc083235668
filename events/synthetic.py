"""Synthetic stories of any size, for benchmarks and for trying pages on a long timeline.

A million events take a few minutes: rows are made and written in batches of BATCH_SIZE events (so
memory stays flat whatever the size), with COPY on PostgreSQL and executemany on SQLite, and the
tables are analysed at the end so that the planner knows their size from the first query. A story is
deterministic for a seed on a given day: its dates are laid out backwards from today (midnight UTC),
so it reads as live, and what is pending or overdue holds when it is read. The actors, places, topics
and forums are a fixed pool shared by every synthetic story (slugs starting "syn-"), never the demo's.

Bulk writes send no signals, so generating leaves no history rows: the history is the editors' record,
and a synthetic story has no editors. Nor do they call `Event.save()`, so each event's `summary_html`
is rendered here; the summaries are a few hundred combinations of topics, each rendered once. The
readers' search index (migration 0002) is an expression index, which PostgreSQL keeps up to date
under COPY like any other index: there is no trigger or stored search column to fill.
"""

import datetime
import functools
import random
import uuid
from array import array
from bisect import bisect
from collections.abc import Callable, Iterable
from decimal import Decimal
from itertools import accumulate

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import connection, models, transaction
from django.db.models import Max
from django.test.utils import override_settings

from . import dates
from .bulk import BulkWriter, Progress
from .models import (
    Actor,
    DatePrecision,
    DiscussionPoint,
    Event,
    Expectation,
    Forum,
    Participation,
    Place,
    Position,
    Source,
    Story,
    Subscriber,
    Topic,
)
from .text import render_markdown

BATCH_SIZE = 10_000
SUBSCRIBER_DOMAIN = "synthetic.example.org"


class SyntheticStoryError(Exception):
    """The request cannot be carried out; the message is one line for the person who asked."""


# --- The shared pool of reference data ------------------------------------------------------------

_COUNTRIES = [
    "Arcadia", "Borduria", "Carpania", "Delmaria", "Estovia", "Freedonia",
    "Galdovia", "Hesperia", "Illyria", "Jorvania", "Kalmoria", "Lusitra",
]  # fmt: skip
_ORGANISATIONS = [
    "Northern Defence Pact", "Continental Union", "Council for Cooperation",
    "Grain Exporters' Forum", "Maritime Security Board", "Development Bank of the East",
]  # fmt: skip
_FIRST = ["Anna", "Boris", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Irina", "Jonas"]
_LAST = ["Albescu", "Brandt", "Castell", "Dorn", "Eriksen", "Ferro", "Galan", "Holm"]
_PLACES = [
    ("Northport", "Arcadia", "Europe/Paris", "48.85", "2.35"),
    ("Eastgate", "Borduria", "Europe/Moscow", "55.75", "37.61"),
    ("Riverton", "Carpania", "Europe/Kyiv", "50.45", "30.52"),
    ("Lakeview", "Delmaria", "Europe/Berlin", "52.52", "13.40"),
    ("Highcliff", "Estovia", "Europe/Vienna", "48.20", "16.37"),
    ("Saltmarsh", "Freedonia", "Europe/Brussels", "50.85", "4.35"),
    ("Granite Bay", "Galdovia", "America/New_York", "38.90", "-77.03"),
    ("Old Harbour", "Hesperia", "Europe/Warsaw", "52.23", "21.01"),
    ("Pinecrest", "Illyria", "Europe/Istanbul", "41.01", "28.97"),
    ("Westmoor", "Jorvania", "Europe/London", "51.50", "-0.12"),
    ("Summit City", "Kalmoria", "Europe/Helsinki", "60.17", "24.94"),
    ("Ashford", "Lusitra", "Europe/Lisbon", "38.72", "-9.14"),
]
_TOPICS = [
    "Ceasefire", "Prisoner exchange", "Energy supplies", "Grain exports", "Border security",
    "Sanctions relief", "Arms deliveries", "Humanitarian corridors", "Nuclear safety", "Refugees",
    "Reconstruction", "War crimes inquiry", "Peace talks", "Cyber attacks", "Maritime access",
]  # fmt: skip
_FORUMS = ["Contact Group", "Security Council", "Ministerial Conference", "Summit of Neighbours", "Quartet"]
_OUTLETS = ["Reuters", "Associated Press", "AFP", "BBC News", "Deutsche Welle", "Le Monde", "The Guardian"]

_KINDS = [
    (Event.Kind.MEETING, 25),
    (Event.Kind.CALL, 15),
    (Event.Kind.STATEMENT, 20),
    (Event.Kind.VISIT, 10),
    (Event.Kind.MULTILATERAL, 10),
    (Event.Kind.SANCTION, 6),
    (Event.Kind.MILITARY_MOVE, 8),
    (Event.Kind.AGREEMENT, 3),
    (Event.Kind.OTHER, 3),
]
_TITLES = {
    Event.Kind.MEETING: "{a} and {b} meet in {place}",
    Event.Kind.CALL: "{a} and {b} speak by phone about {topic}",
    Event.Kind.STATEMENT: "{a} issues a statement on {topic}",
    Event.Kind.VISIT: "{a} visits {place}",
    Event.Kind.MULTILATERAL: "{forum} meets in {place} on {topic}",
    Event.Kind.SANCTION: "{a} announces sanctions over {topic}",
    Event.Kind.MILITARY_MOVE: "{a} moves forces near {place}",
    Event.Kind.AGREEMENT: "{a} and {b} agree on {topic}",
    Event.Kind.OTHER: "New development on {topic}",
}
_PRECISIONS = [
    (DatePrecision.EXACT, 80),
    (DatePrecision.DAY, 12),
    (DatePrecision.APPROXIMATE, 5),
    (DatePrecision.MONTH, 3),
]


def _slug(text: str) -> str:
    return "syn-" + "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-").replace("--", "-")


def _ensure_pool() -> tuple[list[Actor], list[Place], list[Topic], list[Forum]]:
    """The fixed pool, created on first use; ignore_conflicts makes concurrent first uses harmless."""
    countries = [Actor(kind=Actor.Kind.COUNTRY, name=n, slug=_slug(n)) for n in _COUNTRIES]
    organisations = [Actor(kind=Actor.Kind.ORGANISATION, name=n, slug=_slug(n)) for n in _ORGANISATIONS]
    Actor.objects.bulk_create(countries + organisations, ignore_conflicts=True)
    by_slug = {a.slug: a for a in Actor.objects.filter(slug__startswith="syn-")}
    people = []
    for i, (first, last) in enumerate((f, la) for la in _LAST for f in _FIRST):
        name = f"{first} {last}"
        country = by_slug[_slug(_COUNTRIES[i % len(_COUNTRIES)])]
        people.append(
            Actor(
                kind=Actor.Kind.PERSON,
                name=name,
                slug=_slug(name),
                description=f"Official of {country.name}.",
                affiliation_id=country.pk,
                aliases=[last],
            )
        )
    Actor.objects.bulk_create(people, ignore_conflicts=True)
    Place.objects.bulk_create(
        [
            Place(
                name=name,
                slug=_slug(name),
                country=country,
                time_zone=zone,
                latitude=Decimal(lat),
                longitude=Decimal(lon),
            )
            for name, country, zone, lat, lon in _PLACES
        ],
        ignore_conflicts=True,
    )
    Topic.objects.bulk_create([Topic(name=n, slug=_slug(n)) for n in _TOPICS], ignore_conflicts=True)
    Forum.objects.bulk_create([Forum(name=n, slug=_slug(n)) for n in _FORUMS], ignore_conflicts=True)
    return (
        list(Actor.objects.filter(slug__startswith="syn-").order_by("slug")),
        list(Place.objects.filter(slug__startswith="syn-").order_by("slug")),
        list(Topic.objects.filter(slug__startswith="syn-").order_by("slug")),
        list(Forum.objects.filter(slug__startswith="syn-").order_by("slug")),
    )


# --- The story ------------------------------------------------------------------------------------


def validate_request(*, slug: str, events: int, expectations: int, subscribers: int) -> None:
    try:
        validate_slug(slug)
    except ValidationError:
        raise SyntheticStoryError(
            f"'{slug}' is not a valid slug (use letters, numbers, hyphens and underscores)"
        ) from None
    if len(slug) > 180:
        raise SyntheticStoryError(f"the slug is {len(slug)} characters long; 180 at most")
    for name, value in (("--events", events), ("--expectations", expectations), ("--subscribers", subscribers)):
        if value < 0:
            raise SyntheticStoryError(f"{name} must be zero or more, not {value}")


def delete_story(story: Story) -> None:
    """Remove a synthetic story and its followers' generated addresses, without a history row each.

    The rows generated in bulk go by one DELETE per table (they send no signals). So do the events and
    expectations when nothing else points at them; otherwise (an editor has added media, say) they go
    through the ORM in batches, so that a million events never sit in memory at once."""
    events = Event.objects.filter(story=story)
    Position.objects.filter(discussion_point__event__in=events).delete()
    DiscussionPoint.objects.filter(event__in=events).delete()
    Source.objects.filter(event__in=events).delete()
    Participation.objects.filter(event__in=events).delete()
    Event.topics.through.objects.filter(event__in=events).delete()
    Expectation.expected_actors.through.objects.filter(expectation__story=story).delete()
    with override_settings(SIMPLE_HISTORY_ENABLED=False):
        # Expectations first: a fulfilled one RESTRICTs the event that fulfilled it.
        _delete_in_bulk(story.expectations.all())
        _delete_in_bulk(events)
        story.delete()
    _delete_in_bulk(_generated_subscribers(story.slug))


def _delete_in_bulk(queryset: models.QuerySet) -> None:
    model = queryset.model
    pointed_at = any(
        relation.related_model._base_manager.filter(**{f"{relation.field.name}__in": queryset}).exists()
        # Hidden ones too: the many-to-many tables' rows point at it as well.
        for relation in model._meta.get_fields(include_hidden=True)
        if relation.one_to_many or (relation.one_to_one and relation.auto_created and not relation.concrete)
    )
    if not pointed_at:
        queryset._raw_delete(queryset.db)
        return
    size = min(BATCH_SIZE, connection.features.max_query_params or BATCH_SIZE)
    while ids := list(queryset.order_by().values_list("pk", flat=True)[:size]):
        model._base_manager.filter(pk__in=ids).delete()


def _generated_subscribers(slug: str):
    return Subscriber.objects.filter(email__startswith=f"{slug}+reader", email__endswith=f"@{SUBSCRIBER_DOMAIN}")


@transaction.atomic
def generate_story(
    *,
    slug: str,
    events: int,
    expectations: int,
    subscribers: int,
    seed: int = 1,
    replace: bool = False,
    today: datetime.date | None = None,
    progress: Progress | None = None,
) -> Story:
    validate_request(slug=slug, events=events, expectations=expectations, subscribers=subscribers)
    existing = Story.objects.filter(slug=slug).first()
    if existing and not replace:
        raise SyntheticStoryError(f"a story with slug '{slug}' already exists (pass --replace to rebuild it)")
    if existing:
        delete_story(existing)
    _delete_in_bulk(_generated_subscribers(slug))

    rng = random.Random(seed)
    today = today or datetime.datetime.now(datetime.UTC).date()
    midnight = datetime.datetime.combine(today, datetime.time(0), datetime.UTC)
    actors, places, topics, forums = _ensure_pool()
    report = progress or (lambda label, done, total: None)
    writer = BulkWriter(now=datetime.datetime.now(datetime.UTC))

    story = Story.objects.create(
        slug=slug,
        title=f"Synthetic story: {slug}",
        summary=f"A generated story of {events} events and {expectations} expectations (seed {seed}).",
    )
    tables = [Event, Participation, Event.topics.through, Source, DiscussionPoint, Position]
    with writer.indexes_built_after(tables, rows=events, report=report):
        past = _create_events(rng, writer, story, events, midnight, actors, places, topics, forums, report)
    with writer.indexes_built_after(
        [Expectation, Expectation.expected_actors.through], rows=expectations, report=report
    ):
        _create_expectations(rng, writer, story, expectations, past, today, midnight, actors, topics, report)
    with writer.indexes_built_after([Subscriber, Subscriber.stories.through], rows=subscribers, report=report):
        _create_subscribers(rng, writer, story, subscribers, midnight, report)
    newest = Event.objects.filter(story=story).published().aggregate(m=Max("published_at"))["m"]
    Story.objects.filter(pk=story.pk).update(last_development_at=newest)
    writer.analyze(Story, Actor, Place, Topic, Forum)
    story.refresh_from_db()
    return story


def _chooser(rng: random.Random, options: list[tuple[str, int]]) -> Callable[[], str]:
    """A weighted choice, drawn as rng.choices(values, weights) draws it, with the sums done once."""
    values, weights = zip(*options, strict=True)
    cumulative = list(accumulate(weights))
    total, last, rand = cumulative[-1], len(values) - 1, rng.random
    return lambda: values[bisect(cumulative, rand() * total, 0, last)]


def _batches(label: str, count: int, report: Progress) -> Iterable[range]:
    """The indexes 0..count-1 in batches, reporting progress as each batch is done."""
    report(label, 0, count)
    for first in range(0, count, BATCH_SIZE):
        batch = range(first, min(first + BATCH_SIZE, count))
        yield batch
        report(label, batch.stop, count)


class _PastEvents:
    """The ids and starts of the events before today, which raise and fulfil the expectations: two
    arrays of 8-byte integers (16 MB for a million events) rather than a million Event objects."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.starts = array("q")

    def add(self, pk: int, start: datetime.datetime) -> None:
        self.ids.append(pk)
        self.starts.append(int(start.timestamp()))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> tuple[int, datetime.datetime]:
        return self.ids[index], datetime.datetime.fromtimestamp(self.starts[index], datetime.UTC)


_PAST_STATUSES = [(Event.Status.HAPPENED, 96), (Event.Status.POSTPONED, 2), (Event.Status.CANCELLED, 2)]
_EVENT_COLUMNS = (
    "id", "story_id", "kind", "title", "slug", "summary", "summary_html", "start", "start_precision",
    "place_id", "forum_id", "status", "publication", "published_at",
)  # fmt: skip


def _create_events(rng, writer, story, count, midnight, actors, places, topics, forums, report) -> _PastEvents:
    # About one event every three hours, within a week to five years, and 2% announced for the coming month.
    span = min(max(3 * 3600 * count, 7 * 86400), 5 * 365 * 86400)
    scheduled = count // 50
    happened = count - scheduled
    now = midnight.timestamp()

    # The hot loop: plain tuples and floats (seconds since the epoch) rather than model instances
    # and timedeltas, which costs about a third as much per event.
    actors = [(a.pk, a.name) for a in actors]
    places = [(p.pk, p.name) for p in places]
    topics = [(t.pk, t.name, t.name.lower()) for t in topics]
    forums = [(f.pk, f.name) for f in forums]
    rand = rng.random
    render = functools.cache(render_markdown)
    kind_of, precision_of = _chooser(rng, _KINDS), _chooser(rng, _PRECISIONS)
    status_of = _chooser(rng, _PAST_STATUSES)
    hosted_kinds = {Event.Kind.MEETING, Event.Kind.VISIT, Event.Kind.MULTILATERAL}
    discussed_kinds = {Event.Kind.MEETING, Event.Kind.MULTILATERAL}
    published, draft = Event.Publication.PUBLISHED, Event.Publication.DRAFT
    host, guest, participant = Participation.Role.HOST, Participation.Role.GUEST, Participation.Role.PARTICIPANT
    topic_through = Event.topics.through
    past = _PastEvents()
    for batch in _batches("events", count, report):
        events, participations, event_topics, sources, points = [], [], [], [], []
        for i, pk in zip(batch, writer.ids(Event, len(batch)), strict=True):
            # Evenly spread with some jitter, so that they come in order of time without sorting them all.
            future = i >= happened
            if future:
                moment = now + 30 * 86400 * (i - happened + rand()) / scheduled
            else:
                moment = now - span * (1 - (i + rand()) / happened)
            kind = kind_of()
            precision = precision_of()
            start = datetime.datetime.fromtimestamp(moment // 60 * 60, datetime.UTC)
            if precision != DatePrecision.EXACT:
                start = dates.anchor(start.date(), precision)
            people = rng.sample(actors, 2 + int(rand() * 3))
            chosen_topics = rng.sample(topics, 1 + int(rand() * 3))
            place = None if kind == Event.Kind.CALL or rand() < 0.1 else places[int(rand() * len(places))]
            forum = forums[int(rand() * len(forums))] if kind == Event.Kind.MULTILATERAL else None
            title = _TITLES[kind].format(
                a=people[0][1],
                b=people[1][1],
                place=place[1] if place else "an undisclosed place",
                topic=chosen_topics[0][2],
                forum=forum[1] if forum else "",
            )
            is_draft = False
            if future:
                status = Event.Status.SCHEDULED
                published_at = midnight - datetime.timedelta(minutes=1 + int(rand() * 600))
            else:
                status = status_of()
                is_draft = rand() < 0.03
                published_at = None
                if not is_draft:
                    published_at = min(start + datetime.timedelta(minutes=5 + int(rand() * 176)), midnight)
                past.add(pk, start)
            # Built from the topics alone (the title is shown beside it), so the same few summaries recur.
            summary = f"Talks covered **{chosen_topics[0][2]}**"
            summary += f" and {chosen_topics[1][2]}." if len(chosen_topics) > 1 else "."
            slug = f"{story.slug}-e{i + 1}"
            events.append(
                (
                    pk, story.pk, kind, title, slug, summary, render(summary), start, precision,
                    place[0] if place else None, forum[0] if forum else None, status,
                    draft if is_draft else published, published_at,
                )
            )  # fmt: skip

            if kind in hosted_kinds:
                participations.append((pk, people[0][0], host))
                participations += [(pk, actor, guest) for actor, _ in people[1:]]
            else:
                participations += [(pk, actor, participant) for actor, _ in people]
            event_topics += [(pk, topic[0]) for topic in chosen_topics]
            published_on = (published_at or start).date()
            for j in range(1 + (rand() < 0.5)):
                url = f"https://news.example.org/{slug}/{j + 1}"
                sources.append((pk, url, _OUTLETS[int(rand() * len(_OUTLETS))], title, published_on))
            if kind in discussed_kinds and rand() < 0.2:
                points += [(pk, topic, order, people[:2]) for order, topic in enumerate(chosen_topics[:2])]

        points = [
            (point_id, *point) for point_id, point in zip(writer.ids(DiscussionPoint, len(points)), points, strict=True)
        ]
        writer.write(Event, _EVENT_COLUMNS, events)
        writer.write(Participation, ("event_id", "actor_id", "role"), participations)
        writer.write(topic_through, ("event_id", "topic_id"), event_topics)
        writer.write(Source, ("event_id", "url", "outlet", "title", "published_on"), sources)
        writer.write(
            DiscussionPoint,
            ("id", "event_id", "topic_id", "title", "order"),
            [(point_id, pk, topic[0], topic[1], order) for point_id, pk, topic, order, _ in points],
        )
        writer.write(
            Position,
            ("discussion_point_id", "actor_id", "stance"),
            [
                (point_id, actor, f"{name} set out a position on {topic[1]}.")
                for point_id, _, topic, _, people in points
                for actor, name in people
            ],
        )
    return past


# What becomes of generated expectations, with weights.
_OUTCOMES = [
    ("fulfilled", 30),
    ("overdue_unflagged", 15),
    ("overdue_flagged", 10),
    ("pending_due", 20),
    ("pending_open", 10),
    ("cancelled", 10),
    ("superseded", 5),
]
_EXPECTATION_COLUMNS = (
    "id", "story_id", "title", "slug", "description", "raised_by_id", "due_on", "due_precision", "latest_on",
    "status", "fulfilled_by_id", "flagged_overdue_at", "overdue_announced_at", "resolved_at", "reviewed_at",
)  # fmt: skip


def _create_expectations(rng, writer, story, count, past, today, midnight, actors, topics, report) -> None:
    outcome_of = _chooser(rng, _OUTCOMES)
    through = Expectation.expected_actors.through
    for batch in _batches("expectations", count, report):
        rows, expected = [], []
        for i, pk in zip(batch, writer.ids(Expectation, len(batch)), strict=True):
            outcome = outcome_of()
            raised_index = rng.randrange(len(past)) if past else None
            raised_by, raised_start = past[raised_index] if raised_index is not None else (None, None)
            if outcome == "fulfilled" and raised_by is None:
                outcome = "pending_open"
            raised_day = raised_start.date() if raised_start else today - datetime.timedelta(days=30)
            precision, due_on, status = DatePrecision.DAY, None, Expectation.Status.PENDING
            fulfilled_by = flagged_at = resolved_at = None

            if outcome == "fulfilled":
                fulfilled_by, fulfilled_start = past[rng.randrange(raised_index, len(past))]
                due_on = fulfilled_start.date() + datetime.timedelta(days=rng.randint(-2, 5))
                status, resolved_at = Expectation.Status.FULFILLED, min(fulfilled_start, midnight)
            elif outcome.startswith("overdue"):
                # Due at least a day before today (its whole window, for an approximate date), never
                # before the event that raised it when there is room for that.
                precision = rng.choice([DatePrecision.DAY, DatePrecision.APPROXIMATE])
                grace = dates.APPROXIMATE_GRACE if precision == DatePrecision.APPROXIMATE else datetime.timedelta(0)
                last_due = today - datetime.timedelta(days=1) - grace
                earliest = min(raised_day + datetime.timedelta(days=1), last_due)
                due_on = earliest + datetime.timedelta(days=rng.randint(0, max(0, (last_due - earliest).days)))
                if outcome == "overdue_flagged":
                    status = Expectation.Status.OVERDUE
                    flagged_at = datetime.datetime.combine(
                        dates.window_end(due_on, precision) + datetime.timedelta(days=1),
                        datetime.time(6),
                        datetime.UTC,
                    )
                    flagged_at = min(flagged_at, midnight)
            elif outcome == "pending_due":
                precision = rng.choice([DatePrecision.DAY, DatePrecision.APPROXIMATE, DatePrecision.MONTH])
                due_on = today + datetime.timedelta(days=rng.randint(1, 60))
                if precision == DatePrecision.MONTH:
                    # A month is due by its last day: take the next month, which has not begun.
                    due_on = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
            elif outcome in ("cancelled", "superseded"):
                due_on = raised_day + datetime.timedelta(days=rng.randint(1, 30))
                status = Expectation.Status.CANCELLED if outcome == "cancelled" else Expectation.Status.SUPERSEDED
                resolved_at = min(datetime.datetime.combine(due_on, datetime.time(9), datetime.UTC), midnight)

            chosen_actors = rng.sample(actors, rng.randint(1, 2))
            title = f"{chosen_actors[0].name} expected to act on {rng.choice(topics).name.lower()}"
            rows.append(
                (
                    pk, story.pk, title, f"{story.slug}-x{i + 1}", f"Synthetic expectation {i + 1}.", raised_by,
                    due_on, precision, dates.window_end(due_on, precision) if due_on else None, status, fulfilled_by,
                    # Flagged long ago, so the editors were told then; the job has nothing left to announce.
                    flagged_at, flagged_at, resolved_at, resolved_at,
                )
            )  # fmt: skip
            expected += [(pk, actor.pk) for actor in chosen_actors]
        writer.write(Expectation, _EXPECTATION_COLUMNS, rows)
        writer.write(through, ("expectation_id", "actor_id"), expected)


def _create_subscribers(rng, writer, story, count, midnight, report) -> None:
    frequency_of = _chooser(
        rng, [(Subscriber.Frequency.IMMEDIATE, 2), (Subscriber.Frequency.DAILY, 5), (Subscriber.Frequency.WEEKLY, 3)]
    )
    through = Subscriber.stories.through
    for batch in _batches("subscribers", count, report):
        ids = writer.ids(Subscriber, len(batch))
        rows = [
            (
                pk,
                f"{story.slug}+reader{i + 1}@{SUBSCRIBER_DOMAIN}",
                uuid.uuid4().hex,
                frequency_of(),
                midnight - datetime.timedelta(days=rng.randint(1, 90)),
            )
            for i, pk in zip(batch, ids, strict=True)
        ]
        writer.write(Subscriber, ("id", "email", "token", "frequency", "confirmed_at"), rows)
        writer.write(through, ("subscriber_id", "story_id"), [(pk, story.pk) for pk in ids])
