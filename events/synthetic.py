"""Synthetic stories of any size, for benchmarks and for trying pages on a long timeline.

Everything is written with bulk_create in batches, so 10,000 events take seconds. A story is
deterministic for a seed on a given day: its dates are laid out backwards from today (midnight UTC),
so it reads as live, and what is pending or overdue holds when it is read. The actors, places, topics
and forums are a fixed pool shared by every synthetic story (slugs starting "syn-"), never the demo's.

Bulk writes send no signals, so generating leaves no history rows: the history is the editors' record,
and a synthetic story has no editors. Nor do they call `Event.save()`, so each event's `summary_html`
is rendered here; the summaries are a few hundred combinations of topics, each rendered once.
"""

import datetime
import functools
import random
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import Max
from django.test.utils import override_settings

from . import dates
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

BATCH_SIZE = 2000
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
    """Remove a synthetic story and its followers' generated addresses, without a history row each."""
    # Expectations first: a fulfilled one PROTECTs the event that fulfilled it.
    with override_settings(SIMPLE_HISTORY_ENABLED=False):
        story.expectations.all().delete()
        story.delete()
    _generated_subscribers(story.slug).delete()


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
) -> Story:
    validate_request(slug=slug, events=events, expectations=expectations, subscribers=subscribers)
    existing = Story.objects.filter(slug=slug).first()
    if existing and not replace:
        raise SyntheticStoryError(f"a story with slug '{slug}' already exists (pass --replace to rebuild it)")
    if existing:
        delete_story(existing)
    _generated_subscribers(slug).delete()

    rng = random.Random(seed)
    today = today or datetime.datetime.now(datetime.UTC).date()
    midnight = datetime.datetime.combine(today, datetime.time(0), datetime.UTC)
    actors, places, topics, forums = _ensure_pool()

    story = Story.objects.create(
        slug=slug,
        title=f"Synthetic story: {slug}",
        summary=f"A generated story of {events} events and {expectations} expectations (seed {seed}).",
    )
    event_rows = _create_events(rng, story, events, midnight, actors, places, topics, forums)
    _create_expectations(rng, story, expectations, event_rows, today, midnight, actors, topics)
    _create_subscribers(rng, story, subscribers, midnight)
    newest = Event.objects.filter(story=story).published().aggregate(m=Max("published_at"))["m"]
    Story.objects.filter(pk=story.pk).update(last_development_at=newest)
    story.refresh_from_db()
    return story


def _weighted(rng: random.Random, options: list[tuple[str, int]]) -> str:
    values, weights = zip(*options, strict=True)
    return rng.choices(values, weights)[0]


def _create_events(rng, story, count, midnight, actors, places, topics, forums) -> list[Event]:
    # About one event every three hours, within a week to five years, and 2% announced for the coming month.
    span = datetime.timedelta(hours=3) * count
    span = max(datetime.timedelta(days=7), min(span, datetime.timedelta(days=5 * 365)))
    scheduled = count // 50
    offsets = sorted(rng.random() for _ in range(count - scheduled))
    moments = [midnight - span * (1 - x) for x in offsets]
    moments += sorted(midnight + datetime.timedelta(days=30) * rng.random() for _ in range(scheduled))

    render = functools.cache(render_markdown)
    rows, extras = [], []
    for i, moment in enumerate(moments):
        kind = _weighted(rng, _KINDS)
        precision = _weighted(rng, _PRECISIONS)
        start = moment.replace(second=0, microsecond=0)
        if precision != DatePrecision.EXACT:
            start = dates.anchor(start.date(), precision)
        future = moment > midnight
        people = rng.sample(actors, rng.randint(2, 4))
        event_topics = rng.sample(topics, rng.randint(1, 3))
        place = None if kind == Event.Kind.CALL or rng.random() < 0.1 else rng.choice(places)
        forum = rng.choice(forums) if kind == Event.Kind.MULTILATERAL else None
        title = _TITLES[kind].format(
            a=people[0].name,
            b=people[1].name,
            place=place.name if place else "an undisclosed place",
            topic=event_topics[0].name.lower(),
            forum=forum.name if forum else "",
        )
        if future:
            status = Event.Status.SCHEDULED
        else:
            status = _weighted(
                rng, [(Event.Status.HAPPENED, 96), (Event.Status.POSTPONED, 2), (Event.Status.CANCELLED, 2)]
            )
        draft = not future and rng.random() < 0.03
        published_at = None if draft else min(start + datetime.timedelta(minutes=rng.randint(5, 180)), midnight)
        if future:
            published_at = midnight - datetime.timedelta(minutes=rng.randint(1, 600))
        # Built from the topics alone (the title is shown beside it), so the same few summaries recur.
        summary = (
            f"Talks covered **{event_topics[0].name.lower()}**"
            + (f" and {event_topics[1].name.lower()}" if len(event_topics) > 1 else "")
            + "."
        )
        rows.append(
            Event(
                story=story,
                kind=kind,
                title=title,
                slug=f"{story.slug}-e{i + 1}",
                summary=summary,
                summary_html=render(summary),
                start=start,
                start_precision=precision,
                place=place,
                forum=forum,
                status=status,
                publication=Event.Publication.DRAFT if draft else Event.Publication.PUBLISHED,
                published_at=published_at,
            )
        )
        extras.append((kind, people, event_topics))

    Event.objects.bulk_create(rows, batch_size=BATCH_SIZE)

    participations, event_topics_rows, sources, points, point_people = [], [], [], [], []
    topic_through = Event.topics.through
    for event, (kind, people, chosen_topics) in zip(rows, extras, strict=True):
        hosted = kind in (Event.Kind.MEETING, Event.Kind.VISIT, Event.Kind.MULTILATERAL)
        for n, actor in enumerate(people):
            role = Participation.Role.HOST if hosted and n == 0 else Participation.Role.PARTICIPANT
            if hosted and n > 0:
                role = Participation.Role.GUEST
            participations.append(Participation(event=event, actor=actor, role=role))
        event_topics_rows += [topic_through(event_id=event.pk, topic_id=t.pk) for t in chosen_topics]
        for j in range(rng.randint(1, 2)):
            sources.append(
                Source(
                    event=event,
                    url=f"https://news.example.org/{event.slug}/{j + 1}",
                    outlet=rng.choice(_OUTLETS),
                    title=event.title,
                    published_on=(event.published_at or event.start).date(),
                )
            )
        if kind in (Event.Kind.MEETING, Event.Kind.MULTILATERAL) and rng.random() < 0.2:
            for order, topic in enumerate(chosen_topics[:2]):
                points.append(DiscussionPoint(event=event, topic=topic, title=topic.name, order=order))
                point_people.append(people[:2])

    Participation.objects.bulk_create(participations, batch_size=BATCH_SIZE)
    topic_through.objects.bulk_create(event_topics_rows, batch_size=BATCH_SIZE)
    Source.objects.bulk_create(sources, batch_size=BATCH_SIZE)
    DiscussionPoint.objects.bulk_create(points, batch_size=BATCH_SIZE)
    Position.objects.bulk_create(
        [
            Position(discussion_point=point, actor=actor, stance=f"{actor.name} set out a position on {point.title}.")
            for point, people in zip(points, point_people, strict=True)
            for actor in people
        ],
        batch_size=BATCH_SIZE,
    )
    return rows


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


def _create_expectations(rng, story, count, events, today, midnight, actors, topics) -> None:
    past = [e for e in events if e.status != Event.Status.SCHEDULED]
    rows, extras = [], []
    for i in range(count):
        outcome = _weighted(rng, _OUTCOMES)
        raised_index = rng.randrange(len(past)) if past else None
        raised_by = past[raised_index] if raised_index is not None else None
        if outcome == "fulfilled" and raised_by is None:
            outcome = "pending_open"
        raised_day = raised_by.start.date() if raised_by else today - datetime.timedelta(days=30)
        precision, due_on, status = DatePrecision.DAY, None, Expectation.Status.PENDING
        fulfilled_by = flagged_at = resolved_at = None

        if outcome == "fulfilled":
            fulfilled_by = past[rng.randrange(raised_index, len(past))]
            due_on = fulfilled_by.start.date() + datetime.timedelta(days=rng.randint(-2, 5))
            status, resolved_at = Expectation.Status.FULFILLED, min(fulfilled_by.start, midnight)
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
                    dates.window_end(due_on, precision) + datetime.timedelta(days=1), datetime.time(6), datetime.UTC
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
            Expectation(
                story=story,
                title=title,
                slug=f"{story.slug}-x{i + 1}",
                description=f"Synthetic expectation {i + 1}.",
                raised_by=raised_by,
                due_on=due_on,
                due_precision=precision,
                latest_on=dates.window_end(due_on, precision) if due_on else None,
                status=status,
                fulfilled_by=fulfilled_by,
                flagged_overdue_at=flagged_at,
                # Flagged long ago, so the editors were told then; the job has nothing left to announce.
                overdue_announced_at=flagged_at,
                resolved_at=resolved_at,
                reviewed_at=resolved_at,
            )
        )
        extras.append(chosen_actors)
    Expectation.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    through = Expectation.expected_actors.through
    through.objects.bulk_create(
        [
            through(expectation_id=row.pk, actor_id=actor.pk)
            for row, chosen in zip(rows, extras, strict=True)
            for actor in chosen
        ],
        batch_size=BATCH_SIZE,
    )


def _create_subscribers(rng, story, count, midnight) -> None:
    frequencies = [
        (Subscriber.Frequency.IMMEDIATE, 2),
        (Subscriber.Frequency.DAILY, 5),
        (Subscriber.Frequency.WEEKLY, 3),
    ]
    rows = [
        Subscriber(
            email=f"{story.slug}+reader{i + 1}@{SUBSCRIBER_DOMAIN}",
            frequency=_weighted(rng, frequencies),
            confirmed_at=midnight - datetime.timedelta(days=rng.randint(1, 90)),
        )
        for i in range(count)
    ]
    Subscriber.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    through = Subscriber.stories.through
    through.objects.bulk_create(
        [through(subscriber_id=row.pk, story_id=story.pk) for row in rows], batch_size=BATCH_SIZE
    )
