"""Readers' pages: the story list, a story's timeline, an event, and actor, topic and place pages.

Each view parses its input with the FilterSet, calls a selector and renders one template. An htmx
request gets the partial it targets from that same template; a history restore (Back into a page
htmx no longer holds) gets the whole page. Every view whose answer depends on HX-Request says so in
Vary. Malformed filter values are a 400 showing the message on the form, never a 500.

Anonymous readers are served from the page cache (events/page_cache.py) while nothing they see has
changed, with ETag and Last-Modified for a 304 to a browser or a proxy that asks again.
"""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from .. import cards, page_cache, selectors
from ..filters import TimelineFilter, story_choice_parts
from ..models import Story


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _wants_fragment(request: HtmxHttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _query(filters: TimelineFilter, **changes: object) -> str:
    """The filters' query string with `changes`, leaving out empty values: the URL a reader shares."""
    query = QueryDict(mutable=True)
    for name, value in filters.data.items():
        if value and name in filters.form.fields:
            query[name] = value
    for name, value in changes.items():
        if value:
            query[name] = str(value)
        else:
            query.pop(name, None)
    return query.urlencode()


def _timeline_context(request: HttpRequest, filters: TimelineFilter, page: selectors.TimelinePage) -> dict:
    return {
        "filters": filters,
        "page": page,
        "older_url": f"{request.path}?{_query(filters, after=page.next_cursor)}" if page.next_cursor else "",
        "filter_query": _query(filters, after=None),
    }


def _render_timeline(request: HtmxHttpRequest, template: str, filters: TimelineFilter, context: dict) -> HttpResponse:
    """The whole page, the list (a filter changed) or one more page of it (scrolling), with a 400
    when the filters do not parse."""
    status = 200 if filters.is_valid() else 400
    page = selectors.timeline_page(filters, full=False)
    cards.attach_cards(page.upcoming + page.events, show_story=context["show_story"])
    context |= _timeline_context(request, filters, page)
    if _wants_fragment(request):
        template = "includes/timeline.html#" + ("timeline-page" if page.cursor else "timeline")
    return render(request, template, context, status=status)


@require_GET
@page_cache.cached_page(page_cache.site_stamps)
def story_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "events/story_list.html", {"stories": selectors.story_list()})


@require_GET
@vary_on_headers("HX-Request")
@page_cache.cached_page(page_cache.story_stamps)
def story_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    story, state = selectors.story_with_state(slug)
    filters = TimelineFilter(request.GET, scope=selectors.story_events(story), parts=story_choice_parts(story))
    # The live notice counts publications after this moment; a swapped list carries it too, so the
    # notice never announces an event the reader already has in front of them.
    context = {
        "story": story,
        "state": state,
        "since": _stamp(state.newest_published_at or timezone.now()),
        "show_story": False,
        "clear_url": story.get_absolute_url(),
    }
    if not _wants_fragment(request):
        context |= {
            "whats_next_html": _whats_next_html(
                page_cache.Parts(page_cache.panel_stamps(slug), f"story:{story.pk}"),
                lambda: selectors.whats_next(selectors.story_expectations(story), story=story),
                show_story=False,
                all_url=reverse("events:story_expectations", args=[story.slug]),
            ),
            "poll_seconds": settings.LIVE_NOTICE_POLL_SECONDS,
        }
    return _render_timeline(request, "events/story_detail.html", filters, context)


def _whats_next_html(
    parts: page_cache.Parts, whats_next: Callable[[], selectors.WhatsNext], *, show_story: bool, all_url: str
) -> str:
    """The "what's next" panel as HTML, rendered once per version of what it shows, day and language."""

    def render_panel() -> str:
        context = {"whats_next": whats_next(), "show_story": show_story, "all_url": all_url}
        return render_to_string("includes/whats_next.html", context)

    return parts.get("whats-next-html", render_panel, translation.get_language())


def _stamp(moment: datetime.datetime) -> str:
    """A time for a URL: UTC, to the microsecond, with no "+" to be mangled into a space."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _since(request: HttpRequest) -> datetime.datetime | None:
    """The reader's `since=`, or None when it is no time (2022-02-30, an offset of 99 hours, a moment
    that would fall outside the calendar in UTC)."""
    try:
        value = parse_datetime(request.GET.get("since", ""))
        if value is None:
            return None
        return value.astimezone(datetime.UTC) if timezone.is_aware(value) else value.replace(tzinfo=datetime.UTC)
    except (ValueError, OverflowError):
        return None


@require_GET
def story_updates(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The live notice's check, polled while a timeline is open: 304 while the story has no new
    publication (ETag and Last-Modified from its published count and newest publication time), else
    the notice saying how many new events match the reader's filters.

    Polling with conditional GETs rather than server-sent events: a check is an empty 304 answered
    from the cache (no query while the story's stamp is unchanged; tracker.middleware answers it even
    before sessions), it holds no connection open per reader (gunicorn's sync workers stay free), it
    passes through any proxy or CDN, and the client controls its own pace (slower in a hidden tab,
    backing off after failures), as liveblogs do. A development every few minutes needs no more."""
    key, state = page_cache.poll_state(slug)
    story = None
    if state is None:
        story = get_object_or_404(Story, slug=slug)
        state = page_cache.PollState.of(selectors.story_state(story))
        page_cache.remember_poll_state(key, state)
    if (not_modified := page_cache.poll_not_modified(request, state)) is not None:
        return not_modified
    story = story or get_object_or_404(Story, slug=slug)
    filters = TimelineFilter(request.GET, scope=selectors.story_events(story))
    since = _since(request)
    if since is None or not filters.is_valid():
        return HttpResponse(_("Give since= as an ISO 8601 time and valid filters."), status=400)
    response = render(
        request,
        "events/story_detail.html#live-notice",
        {
            "story": story,
            "count": selectors.count_published_since(filters, since),
            "since": _stamp(since),
            "filter_query": _query(filters, after=None),
        },
    )
    return state.headers(response)


@require_GET
@page_cache.cached_page(page_cache.story_stamps)
def story_new_events(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The events the live notice announced, as a block to insert at the top of the timeline."""
    story = get_object_or_404(Story, slug=slug)
    filters = TimelineFilter(request.GET, scope=selectors.story_events(story))
    since = _since(request)
    if since is None or not filters.is_valid():
        return HttpResponse(_("Give since= as an ISO 8601 time and valid filters."), status=400)
    events = selectors.new_events(filters, since=since, prefetch=False)
    cards.attach_cards(events, show_story=False)
    newest = max((event.published_at for event in events), default=since)
    return render(
        request,
        "events/story_detail.html#new-events",
        {"story": story, "new_events": events, "newest": _stamp(newest)},
    )


@require_GET
@page_cache.cached_page(page_cache.site_stamps)
def event_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    page = selectors.event_page(slug)
    return render(
        request,
        "events/event_detail.html",
        {"page": page, "event": page.event, "canonical_url": request.build_absolute_uri(page.event.get_absolute_url())},
    )


def _entity_detail(request: HtmxHttpRequest, kind: str, slug: str) -> HttpResponse:
    entity_page = selectors.entity_page(kind, slug)
    parts = page_cache.Parts(page_cache.site_stamps(), f"{kind}:{entity_page.entity.pk}")
    filters = TimelineFilter(request.GET, scope=entity_page.events, fixed=kind, parts=parts)
    context = {
        "entity_page": entity_page,
        "entity": entity_page.entity,
        "show_story": True,
        "clear_url": request.path,
    }
    if not _wants_fragment(request):
        context["whats_next_html"] = _whats_next_html(
            parts,
            lambda: selectors.whats_next(entity_page.expectations),
            show_story=True,
            all_url=reverse(f"events:{kind}_expectations", args=[entity_page.entity.slug]),
        )
    return _render_timeline(request, "events/entity_detail.html", filters, context)


@require_GET
@vary_on_headers("HX-Request")
@page_cache.cached_page(page_cache.site_stamps)
def actor_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    return _entity_detail(request, "actor", slug)


@require_GET
@vary_on_headers("HX-Request")
@page_cache.cached_page(page_cache.site_stamps)
def topic_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    return _entity_detail(request, "topic", slug)


@require_GET
@vary_on_headers("HX-Request")
@page_cache.cached_page(page_cache.site_stamps)
def place_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    return _entity_detail(request, "place", slug)
