"""What the API answers: ninja schemas, from which the OpenAPI document is generated.

Dates carry their precision as the site shows them: `iso` is ISO 8601 reduced to what is known
(`2022-02-07T18:00:00+03:00` for an exact time, in the zone of its place; `2022-02-07` for a day or an
approximate date; `2022-02` for a month; `2022` for a year), `precision` names it and `display` is what
a reader sees. Links (`url`, `next`) are paths on this site, except a media item's addresses, which
are absolute (an uploaded file may live in another store).
"""

import datetime

from ninja import Field, Path, Schema

from .. import dates
from ..interchange import absolute_url
from ..models import (
    ActorKind,
    DatePrecision,
    Event,
    EventKind,
    EventStatus,
    Expectation,
    ExpectationStatus,
    MediaItem,
    MediaKind,
    ParticipationRole,
    StoryStatus,
)

# Django's own slug converter, which the API's routes use too.
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"


def slug_of(what: str) -> str:
    """A slug in the URL's path (the route's converter matches only slugs: anything else is a 404)."""
    return Path(..., pattern=SLUG_PATTERN, description=f"The {what}'s slug.")


class Message(Schema):
    detail: str = Field(description="What went wrong, in words.", examples=["No story has the slug “kyiv”."])


class BadRequest(Schema):
    detail: str = Field(description="What went wrong, in words.", examples=["kind: Select a valid choice."])
    errors: dict[str, list[str]] = Field(description="The messages for each refused parameter.")


class ApiIndex(Schema):
    stories: str
    actors: str
    topics: str
    openapi: str
    docs: str


# --- Dates at their precision --------------------------------------------------------------------


def iso_at_precision(day: datetime.date, precision: str) -> str:
    if precision == dates.YEAR:
        return f"{day.year:04d}"
    if precision == dates.MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


class PreciseDate(Schema):
    iso: str = Field(
        description="ISO 8601 at the precision known: a date and time with its offset (exact), "
        "YYYY-MM-DD (day, approximate), YYYY-MM (month) or YYYY (year).",
        examples=["2022-02-07T18:00:00+03:00", "2022-02"],
    )
    precision: DatePrecision
    display: str = Field(description="As readers see it.", examples=["7 Feb 2022, 18:00 MSK", "Feb 2022"])

    # Built as dicts, which the response's validation reads as they are (no second validation).
    @staticmethod
    def of_moment(value: datetime.datetime, precision: str, zone: datetime.tzinfo) -> dict:
        if precision == dates.EXACT:
            iso = value.astimezone(zone).isoformat()
        else:
            iso = iso_at_precision(dates.calendar_date(value, precision), precision)
        return {"iso": iso, "precision": precision, "display": dates.format_moment(value, precision, zone)}

    @staticmethod
    def of_day(day: datetime.date, precision: str) -> dict:
        # A due date is a calendar date: "exact" has no time to give, so it reads as a day.
        precision = dates.DAY if precision == dates.EXACT else precision
        return {
            "iso": iso_at_precision(day, precision),
            "precision": precision,
            "display": dates.format_date(day, precision),
        }


# --- What other things point to ------------------------------------------------------------------


class StoryRef(Schema):
    slug: str
    title: str


class EventRef(Schema):
    slug: str
    title: str
    url: str

    @staticmethod
    def resolve_url(event: Event) -> str:
        return event.get_absolute_url()


class ActorRef(Schema):
    slug: str
    name: str
    kind: ActorKind


class TopicRef(Schema):
    slug: str
    name: str


class ForumRef(Schema):
    slug: str
    name: str


class PlaceOut(Schema):
    slug: str
    name: str
    country: str
    latitude: float | None
    longitude: float | None
    time_zone: str = Field(description="IANA zone the place's times are shown in; empty for the site's own.")


# --- Stories, actors, topics ---------------------------------------------------------------------


class StoryOut(Schema):
    slug: str
    title: str
    summary: str
    status: StoryStatus
    last_development_at: datetime.datetime | None
    event_count: int = Field(description="Published events.")
    url: str

    @staticmethod
    def resolve_url(story) -> str:
        return story.get_absolute_url()


class ActorOut(Schema):
    slug: str
    name: str
    kind: ActorKind
    description: str
    affiliation: ActorRef | None
    aliases: list[str]
    url: str

    @staticmethod
    def resolve_url(actor) -> str:
        return actor.get_absolute_url()


class TopicOut(Schema):
    slug: str
    name: str
    description: str
    url: str

    @staticmethod
    def resolve_url(topic) -> str:
        return topic.get_absolute_url()


# --- Events --------------------------------------------------------------------------------------


class ParticipantOut(Schema):
    actor: ActorRef
    role: ParticipationRole


class SourceOut(Schema):
    url: str
    outlet: str
    title: str
    published_on: datetime.date | None
    quote: str


class ThumbnailOut(Schema):
    url: str
    width: int
    height: int


class MediaOut(Schema):
    kind: MediaKind
    url: str = Field(description="The uploaded image or PDF, or the linked video, clip, post or page; absolute.")
    title: str
    outlet: str = Field(description="Who published a link (its host, unless an editor said otherwise).")
    caption: str
    credit: str
    alt_text: str = Field(description="What an image shows, for readers who cannot see it; always set for images.")
    taken_on: datetime.date | None = Field(description="When it was taken or published, where known.")
    width: int | None = Field(description="An image's width in pixels.")
    height: int | None
    thumbnails: list[ThumbnailOut] = Field(description="An image's resized copies (WebP), smallest first.")
    thumbnail_url: str = Field(description="A link's preview image elsewhere, as it was given; not shown here.")

    @staticmethod
    def resolve_url(item: MediaItem) -> str:
        if item.kind == MediaKind.IMAGE:
            return absolute_url(item.image.url)
        if item.kind == MediaKind.DOCUMENT:
            return absolute_url(item.document.url)
        return item.url

    @staticmethod
    def resolve_thumbnails(item: MediaItem) -> list[dict]:
        return [{"url": absolute_url(spec.url), "width": w, "height": h} for spec, w, h in item.thumbnails()]


class EventOut(Schema):
    slug: str
    title: str
    kind: EventKind
    status: EventStatus
    start: PreciseDate
    end: PreciseDate | None
    when: str = Field(description="Start and end as readers see them.", examples=["7 Feb 2022, 18:00–23:30 MSK"])
    place: PlaceOut | None
    participants: list[ParticipantOut] = Field(description="Hosts first, then guests, mediators, observers.")
    topics: list[TopicRef]
    sources: list[SourceOut]
    summary_html: str = Field(description="The summary, rendered from Markdown and sanitised.")
    published_at: datetime.datetime
    updated_at: datetime.datetime
    url: str

    @staticmethod
    def resolve_start(event: Event) -> dict:
        return PreciseDate.of_moment(event.start, event.start_precision, event.display_zone)

    @staticmethod
    def resolve_end(event: Event) -> dict | None:
        return PreciseDate.of_moment(event.end, event.end_precision, event.display_zone) if event.end else None

    @staticmethod
    def resolve_participants(event: Event) -> list:
        return list(event.participations.all())

    @staticmethod
    def resolve_url(event: Event) -> str:
        return event.get_absolute_url()


class PositionOut(Schema):
    actor: ActorRef
    stance: str


class DiscussionPointOut(Schema):
    title: str
    summary: str
    topic: TopicRef | None
    positions: list[PositionOut] = Field(description="Each side's stance, to show side by side.")


class CorrectionOut(Schema):
    text: str
    created_at: datetime.datetime


def _published(event: Event | None) -> Event | None:
    return event if event is not None and event.is_published else None


class ExpectationRef(Schema):
    slug: str
    title: str
    status: ExpectationStatus = Field(description="As readers see it: overdue once its dates have passed.")
    overdue: bool

    @staticmethod
    def resolve_status(expectation: Expectation) -> str:
        return reader_status(expectation)

    @staticmethod
    def resolve_overdue(expectation: Expectation) -> bool:
        return expectation.is_overdue


class EventDetailOut(EventOut):
    story: StoryRef
    forum: ForumRef | None
    discussion_points: list[DiscussionPointOut]
    media: list[MediaOut] = Field(
        description="Photos, documents and links in the editors' order; the first image leads."
    )
    corrections: list[CorrectionOut]
    expectations_raised: list[ExpectationRef] = Field(description="What this event made people expect.")
    expectations_fulfilled: list[ExpectationRef] = Field(description="What this event fulfilled.")
    previous: EventRef | None = Field(description="The story's event before this one.")
    next: EventRef | None = Field(description="The story's event after this one.")


# --- Expectations --------------------------------------------------------------------------------


def reader_status(expectation: Expectation) -> str:
    """Overdue as soon as the latest acceptable date has passed, whether or not the job flagged it;
    an open one whose date was moved on is pending again, whatever the flag says."""
    if expectation.is_overdue:
        return ExpectationStatus.OVERDUE
    if expectation.status == ExpectationStatus.OVERDUE:
        return ExpectationStatus.PENDING
    return expectation.status


class ExpectationOut(ExpectationRef):
    description: str
    due: PreciseDate | None = Field(description="When it is expected; none for an open-ended expectation.")
    due_by: datetime.date | None = Field(description="The last date on which it is still on time.")
    raised_by: EventRef | None
    fulfilled_by: EventRef | None
    expected_actors: list[ActorRef]
    place: PlaceOut | None
    topics: list[TopicRef]
    resolved_at: datetime.datetime | None

    @staticmethod
    def resolve_due(expectation: Expectation) -> dict | None:
        if expectation.due_on is None:
            return None
        return PreciseDate.of_day(expectation.due_on, expectation.due_precision)

    @staticmethod
    def resolve_due_by(expectation: Expectation) -> datetime.date | None:
        return expectation.due_by

    @staticmethod
    def resolve_raised_by(expectation: Expectation) -> Event | None:
        return _published(expectation.raised_by)

    @staticmethod
    def resolve_fulfilled_by(expectation: Expectation) -> Event | None:
        return _published(expectation.fulfilled_by)


# --- Pages ---------------------------------------------------------------------------------------

NEXT = Field(description="The next page, or null on the last one.", examples=["/api/stories?after=..."])


class StoryPage(Schema):
    items: list[StoryOut]
    next: str | None = NEXT


class EventPage(Schema):
    items: list[EventOut] = Field(description="Up to today, newest first (best match first with `q`).")
    upcoming: list[EventOut] = Field(
        description="Scheduled from tomorrow on, soonest first: on the first page of a list without `q` only."
    )
    ranked: bool = Field(
        description="Always false: every list, a search's included, is newest first. Kept for older clients."
    )
    next: str | None = NEXT


class ExpectationPage(Schema):
    items: list[ExpectationOut] = Field(description="By due date, open-ended ones last.")
    next: str | None = NEXT


class ActorPage(Schema):
    items: list[ActorOut]
    next: str | None = NEXT


class TopicPage(Schema):
    items: list[TopicOut]
    next: str | None = NEXT
