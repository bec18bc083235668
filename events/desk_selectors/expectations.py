"""The desk's reads about expectations: the lists an editor works through, one expectation's page,
and the events that could have fulfilled it.

Every list is of Expectation rows with their story (select_related), each carrying `overdue`, decided
from its dates on `today` (as readers see it, whether or not the scheduled check has run), so a page
or a panel costs the same few queries for 6 items or 600.
"""

import datetime
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ..models import Event, Expectation, Story
from ..selectors import event_search_vector, prefix_search_query

PAGE_SIZE = 50
DUE_SOON_DAYS = 14
HISTORY_SHOWN = 5
CANDIDATES_LIMIT = 10

RESOLVED_STATUSES = (Expectation.Status.FULFILLED, Expectation.Status.CANCELLED, Expectation.Status.SUPERSEDED)


def _rows(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("story")


def _mark_overdue(expectations: list[Expectation], today: datetime.date) -> list[Expectation]:
    for expectation in expectations:
        expectation.overdue = expectation.is_overdue_on(today)
    return expectations


# --- The lists, as querysets (for the paginated page) ---------------------------------------------


def overdue_queryset(today: datetime.date) -> QuerySet:
    """Open and past their latest acceptable date, most overdue first."""
    return _rows(Expectation.objects.open().past_due(today)).order_by("latest_on", "id")


def due_soon_queryset(today: datetime.date, *, days: int = DUE_SOON_DAYS) -> QuerySet:
    """Open, not yet past due, and due within the coming `days` (their window has begun or begins
    by then), the nearest deadline first."""
    return _rows(
        Expectation.objects.open().filter(latest_on__gte=today, due_on__lte=today + datetime.timedelta(days=days))
    ).order_by("latest_on", "due_on", "id")


def unreviewed_queryset() -> QuerySet:
    """No editor has looked at them since they were raised or flagged overdue, newest first."""
    return _rows(Expectation.objects.unreviewed()).order_by("-created_at", "-id")


def open_queryset() -> QuerySet:
    """Pending or overdue, by due date (open-ended ones last)."""
    return _rows(Expectation.objects.open()).by_due_date()


def resolved_queryset() -> QuerySet:
    """Fulfilled, cancelled or superseded, the most recently resolved first."""
    return _rows(Expectation.objects.filter(status__in=RESOLVED_STATUSES)).order_by(
        F("resolved_at").desc(nulls_last=True), "-id"
    )


# The lists of /desk/expectations/?show=..., each a queryset given today.
SHOWS = {
    "overdue": overdue_queryset,
    "due": due_soon_queryset,
    "unreviewed": lambda today: unreviewed_queryset(),
    "open": lambda today: open_queryset(),
    "resolved": lambda today: resolved_queryset(),
}
DEFAULT_SHOW = "open"


def expectation_page(
    show: str,
    *,
    today: datetime.date,
    story: Story | None = None,
    page: str | int | None = 1,
    per_page: int = PAGE_SIZE,
) -> Page:
    """One page of the list `show` (a key of SHOWS), of one story or all. An out-of-range or malformed
    `page` gives the nearest page. Two queries: the count and the page."""
    queryset = SHOWS[show](today)
    if story is not None:
        queryset = queryset.filter(story=story)
    result = Paginator(queryset, per_page).get_page(page)
    result.object_list = _mark_overdue(list(result.object_list), today)
    return result


# --- The desk's front page: short lists, one query each -------------------------------------------


def overdue_expectations(today: datetime.date, *, limit: int = 10) -> list[Expectation]:
    """Up to `limit` open expectations past their latest acceptable date on `today`, most overdue
    first; each with its story and `overdue` (True). One query."""
    return _mark_overdue(list(overdue_queryset(today)[:limit]), today)


def due_soon(today: datetime.date, *, days: int = 7, limit: int = 10) -> list[Expectation]:
    """Up to `limit` open expectations due within `days` of `today` and not yet past due, the nearest
    deadline first; each with its story and `overdue` (False). One query."""
    return _mark_overdue(list(due_soon_queryset(today, days=days)[:limit]), today)


def unreviewed(*, limit: int = 10, today: datetime.date | None = None) -> list[Expectation]:
    """Up to `limit` expectations no editor has reviewed, newest first, whatever their status; each
    with its story and `overdue` decided on `today` (default: the site's today). One query."""
    return _mark_overdue(list(unreviewed_queryset()[:limit]), today or timezone.localdate())


# --- One expectation -----------------------------------------------------------------------------


@dataclass
class ExpectationPage:
    expectation: Expectation
    overdue: bool
    history: list
    candidates: list[Event]

    @property
    def is_open(self) -> bool:
        return self.expectation.status in Expectation.OPEN_STATUSES


def expectation_detail(pk: int) -> Expectation:
    """The expectation with what its page shows (raises Expectation.DoesNotExist)."""
    return (
        Expectation.objects.select_related("story", "raised_by__place", "fulfilled_by", "place")
        .prefetch_related("expected_actors", "topics")
        .get(pk=pk)
    )


def latest_history(expectation: Expectation, *, limit: int = HISTORY_SHOWN) -> list:
    """Its latest history entries, newest first, with who made each."""
    return list(expectation.history.select_related("history_user").order_by("-history_date", "-history_id")[:limit])


# Fewer matches than this are sorted from the full-text index; more are found walking the date index.
RARE_MATCHES = 1000


def fulfilment_candidates(expectation: Expectation, *, q: str = "", limit: int = CANDIDATES_LIMIT) -> list[Event]:
    """Events of the expectation's own story that may have fulfilled it, newest first, drafts included
    (an editor may link a development not yet published).

    With `q`: those whose title or summary have words starting with the words typed (full-text,
    indexed). Without: those dated
    after the event that raised it (all of the story's when none did)."""
    events = Event.objects.filter(story_id=expectation.story_id).select_related("place")
    if q.strip() and connection.vendor != "postgresql":
        # The embedded SQLite default has no full-text index: every typed word in title or summary.
        for word in q.split()[:8]:
            events = events.filter(Q(title__icontains=word) | Q(summary__icontains=word))
        return list(events.order_by("-start", "-id")[:limit])
    query = prefix_search_query(q)
    if query is None:
        if expectation.raised_by_id:
            events = events.filter(start__gt=expectation.raised_by.start)
        return list(events.order_by("-start", "-id")[:limit])
    matches = events.alias(document=event_search_vector()).filter(document=query)
    # Newest first either way, but by the plan that is cheap for this query: for a few matches, take
    # them all from the GIN index and sort them (NULLS LAST keeps PostgreSQL off the date index); for
    # many, walk the (story, -start) index, where matches come thick and the first ten are near.
    few = matches.order_by()[:RARE_MATCHES].count() < RARE_MATCHES
    order = [F("start").desc(nulls_last=True), "-id"] if few else ["-start", "-id"]
    return list(matches.order_by(*order)[:limit])


def event_of_story(expectation: Expectation, event_id: int) -> Event | None:
    """One event of the expectation's story (to keep an editor's choice shown after a refusal)."""
    return Event.objects.filter(story_id=expectation.story_id, pk=event_id).select_related("place").first()


def expectation_page_data(
    expectation: Expectation, *, today: datetime.date, q: str = "", chosen: Event | None = None
) -> ExpectationPage:
    """What the expectation's desk page shows. `chosen`, an event the editor picked, stays among the
    choices even when the default list or the search would not offer it."""
    candidates = fulfilment_candidates(expectation, q=q) if expectation.status in Expectation.OPEN_STATUSES else []
    if chosen is not None and chosen.story_id == expectation.story_id and chosen not in candidates:
        candidates.insert(0, chosen)
    return ExpectationPage(
        expectation=expectation,
        overdue=expectation.is_overdue_on(today),
        history=latest_history(expectation),
        candidates=candidates,
    )
