"""Stories, a story's events (the timeline, with its filters and keyset cursor) and its expectations."""

import datetime

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from .. import selectors
from ..filters import TimelineFilter
from ..models import Actor, EventKind, ExpectationStatus, Story, Topic
from . import pagination
from .errors import InvalidParameters, not_found
from .pagination import MAX_LIMIT, ListQuery, Ordering
from .schemas import (
    SLUG_PATTERN,
    BadRequest,
    EventPage,
    ExpectationPage,
    Message,
    StoryOut,
    StoryPage,
    slug_of,
)

router = Router(tags=["stories"])

NEWEST_DEVELOPMENT_FIRST = Ordering(
    "last_development_at", descending=True, parse=pagination.parse_time, format=pagination.format_time
)
BY_DUE_DATE = Ordering("due_on", descending=False, parse=pagination.parse_date, format=lambda day: day.isoformat())


def _story(slug: str, *, counted: bool = False) -> Story:
    """The story, with its count of published events when `counted` (a count over all its events: only
    the endpoint that shows it pays for it)."""
    stories = selectors.story_list() if counted else Story.objects.all()
    story = stories.filter(slug=slug).first()
    if story is None:
        raise not_found(_("No story has the slug “%(slug)s”.") % {"slug": slug})
    return story


@router.get("/stories", response={200: StoryPage, 304: None, 400: BadRequest}, url_name="story_list", summary="Stories")
def story_list(request: HttpRequest, query: Query[ListQuery]) -> dict:
    """Stories, newest development first, each with its count of published events."""
    items, cursor = pagination.page(
        selectors.story_list(), NEWEST_DEVELOPMENT_FIRST, after=query.after, limit=query.limit
    )
    return {"items": items, "next": pagination.next_link(request, cursor)}


@router.get(
    "/stories/{slug:slug}",
    response={200: StoryOut, 304: None, 404: Message},
    url_name="story_detail",
    summary="A story",
)
def story_detail(request: HttpRequest, slug: str = slug_of("story")) -> Story:
    """One story."""
    return _story(slug, counted=True)


DAY = {"format": "date"}
# The days a date range can name: the range is turned into the site's midnights, one day on for its
# end, and Python's dates end at 9999-12-31.
FIRST_DAY, LAST_DAY = datetime.date(1, 1, 2), datetime.date(9999, 12, 30)


class TimelineQuery(Schema):
    """The timeline's own filters, named as in the reader's URL (/stories/<slug>/?kind=meeting)."""

    q: str | None = Field(None, max_length=200, description="Words in titles and summaries; newest first.")
    actor: str | None = Field(None, pattern=SLUG_PATTERN, description="An actor's slug: the events they took part in.")
    topic: str | None = Field(None, pattern=SLUG_PATTERN, description="A topic's slug.")
    kind: EventKind | None = None
    place: str | None = Field(None, pattern=SLUG_PATTERN, description="A place's slug.")
    from_date: str | None = Field(None, description="The first day, in the site's time zone.", json_schema_extra=DAY)
    to_date: str | None = Field(None, description="The last day, included.", json_schema_extra=DAY)
    after: str | None = Field(None, max_length=100, description="The cursor of the next page, from `next`.")
    limit: int = Field(
        min(settings.TIMELINE_PAGE_SIZE, MAX_LIMIT), ge=1, le=MAX_LIMIT, description="How many events a page holds."
    )


def _timeline_filters(request: HttpRequest, story: Story) -> TimelineFilter:
    """The reader's filters, refused with each field's message as the timeline refuses them."""
    data = {name: value for name, value in request.GET.items() if name in TimelineFilter.base_filters}
    filters = TimelineFilter(data, scope=selectors.story_events(story))
    if not filters.is_valid():
        raise InvalidParameters({name: list(messages) for name, messages in filters.errors.items()})
    errors = {
        name: [_("Enter a date between %(first)s and %(last)s.") % {"first": FIRST_DAY, "last": LAST_DAY}]
        for name in ("from_date", "to_date")
        if filters.form.cleaned_data.get(name) and not FIRST_DAY <= filters.form.cleaned_data[name] <= LAST_DAY
    }
    if errors:  # before filters.qs, which would turn such a date into a time
        raise InvalidParameters(errors)
    return filters


@router.get(
    "/stories/{slug:slug}/events",
    response={200: EventPage, 304: None, 400: BadRequest, 404: Message},
    url_name="story_events",
    summary="A story's events",
)
def story_events(request: HttpRequest, slug: str = slug_of("story"), *, query: Query[TimelineQuery]) -> dict:
    """A story's published events, as its timeline lists them, with the same filters."""
    story = _story(slug)
    filters = _timeline_filters(request, story)
    page = selectors.timeline_page(filters, size=query.limit)
    return {
        "items": page.events,
        "upcoming": page.upcoming,
        "ranked": page.ranked,
        "next": pagination.next_link(request, page.next_cursor),
    }


class ExpectationQuery(ListQuery):
    status: ExpectationStatus | None = Field(
        None, description="Only those in this status, as readers see it (overdue once their dates have passed)."
    )


@router.get(
    "/stories/{slug:slug}/expectations",
    response={200: ExpectationPage, 304: None, 400: BadRequest, 404: Message},
    url_name="story_expectations",
    summary="A story's expectations",
)
def story_expectations(request: HttpRequest, slug: str = slug_of("story"), *, query: Query[ExpectationQuery]) -> dict:
    """What the story makes people expect next, by due date."""
    story = _story(slug)
    # The events they name are fetched for the page's items only, by id: joined to the list, they
    # would be read for every expectation of the story before the page is cut (a scan of all events).
    expectations = selectors.story_expectations(story).select_related("place")
    if query.status is not None:
        expectations = _in_status(expectations, query.status)
    items, cursor = pagination.page(
        expectations.prefetch_related(
            "raised_by",
            "fulfilled_by",
            Prefetch("expected_actors", queryset=Actor.objects.order_by("name")),
            Prefetch("topics", queryset=Topic.objects.order_by("name")),
        ),
        BY_DUE_DATE,
        after=query.after,
        limit=query.limit,
    )
    return {"items": items, "next": pagination.next_link(request, cursor)}


def _in_status(expectations: QuerySet, status: str) -> QuerySet:
    """The status readers see, decided from the dates today (as Expectation.is_overdue does)."""
    today = timezone.localdate()
    open_ = expectations.open()
    if status == ExpectationStatus.OVERDUE:
        return open_.past_due(today)
    if status == ExpectationStatus.PENDING:
        return open_.not_past_due(today)
    return expectations.filter(status=status)
