"""Data out: Atom feeds, the iCalendar, the TimelineJS export, and the embeddable timeline.

Feed readers and calendars poll these URLs, so each answers GET and HEAD with an ETag and a
Last-Modified from a cheap validator (interchange.fingerprint), a conditional request with 304, and
builds its answer once per change (cached under the validator). Links and ids are built from SITE_URL,
not from the request's host, so they stay the same however the site is reached.

timeline.json carries `Access-Control-Allow-Origin: *`: it is public data, made for Knight Lab's viewer
and newsrooms' pages on other origins to load.

The embed page may be framed only by the sites EMBED_ALLOWED_ORIGINS lists; with none listed (the
default) it keeps X-Frame-Options DENY and `frame-ancestors 'none'`, as every other page does.
"""

import functools
import json
from collections.abc import Callable

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from .. import interchange
from ..models import Actor, Event, Story, Topic
from ..text import html_to_plain, render_markdown

# How long a cache or a feed reader may keep an answer before asking again (a conditional request).
MAX_AGE = 300
CACHE_SECONDS = 24 * 3600
CALENDAR_TYPE = "text/calendar; charset=utf-8"
EMBED_EVENTS = 10
EMBED_EVENTS_MAX = 50


def _answer(
    request: HttpRequest,
    *,
    key: str,
    validator: interchange.Fingerprint,
    build: Callable[[], bytes],
    content_type: str,
) -> HttpResponse:
    """304 when the client holds the current version, else the answer, built once per version."""
    last_modified = int(validator.last_modified.timestamp()) if validator.last_modified else None
    response = get_conditional_response(request, etag=validator.etag, last_modified=last_modified)
    if response is None:
        # One entry per export and language, holding its current version only: a new version
        # replaces the old.
        cache_key = f"interchange:{key}:{get_language()}"
        etag, content = cache.get(cache_key) or (None, b"")
        if etag != validator.etag:
            content = build()
            cache.set(cache_key, (validator.etag, content), CACHE_SECONDS)
        response = HttpResponse(content, content_type=content_type)
    response["ETag"] = validator.etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response


# --- Atom ----------------------------------------------------------------------------------------


class _AtomWithContent(Atom1Feed):
    """Atom with each entry's HTML in <content> (Django's writes only <summary>)."""

    def add_item_elements(self, handler, item) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content"], {"type": "html"})


class EventFeed(Feed):
    """The entries of a story, an actor or a topic: interchange.feed_entries of `events(obj)`."""

    feed_type = _AtomWithContent
    author_name = "Story Tracker"

    def events(self, obj) -> QuerySet:
        raise NotImplementedError

    def feed_path(self, obj) -> str:
        raise NotImplementedError

    def items(self, obj) -> list[Event]:
        return interchange.feed_entries(self.events(obj))

    def link(self, obj) -> str:
        return settings.SITE_URL + obj.get_absolute_url()

    def feed_url(self, obj) -> str:
        return settings.SITE_URL + self.feed_path(obj)

    def feed_guid(self, obj) -> str:
        return self.feed_url(obj)

    def item_title(self, item: Event) -> str:
        return item.title

    def item_link(self, item: Event) -> str:
        return settings.SITE_URL + item.get_absolute_url()

    def item_guid(self, item: Event) -> str:
        # The event page's address: a published event's slug never changes, so neither does the id.
        return self.item_link(item)

    def item_description(self, item: Event) -> str:
        return interchange.entry_summary(item)

    def item_pubdate(self, item: Event):
        return item.published_at

    def item_updateddate(self, item: Event):
        return item.entry_updated

    def item_categories(self, item: Event) -> list[str]:
        return [str(item.get_kind_display())]

    def item_extra_kwargs(self, item: Event) -> dict:
        return {"content": interchange.entry_html(item)}


class StoryFeed(EventFeed):
    def title(self, obj: Story) -> str:
        return obj.title

    def subtitle(self, obj: Story) -> str:
        return html_to_plain(render_markdown(obj.summary), 300)

    def events(self, obj: Story) -> QuerySet:
        return Event.objects.published().filter(story=obj)

    def feed_path(self, obj: Story) -> str:
        return reverse("events:story_feed", args=[obj.slug])


class ActorFeed(EventFeed):
    def title(self, obj: Actor) -> str:
        return _("Events involving %(name)s") % {"name": obj.name}

    def subtitle(self, obj: Actor) -> str:
        return obj.description

    def events(self, obj: Actor) -> QuerySet:
        return Event.objects.published().filter(participations__actor=obj)

    def feed_path(self, obj: Actor) -> str:
        return reverse("events:actor_feed", args=[obj.slug])


class TopicFeed(EventFeed):
    def title(self, obj: Topic) -> str:
        return _("Events on %(name)s") % {"name": obj.name}

    def subtitle(self, obj: Topic) -> str:
        return html_to_plain(render_markdown(obj.description), 300)

    def events(self, obj: Topic) -> QuerySet:
        return Event.objects.published().filter(topics=obj)

    def feed_path(self, obj: Topic) -> str:
        return reverse("events:topic_feed", args=[obj.slug])


def _feed_answer(request: HttpRequest, feed: EventFeed, obj: Story | Actor | Topic, key: str) -> HttpResponse:
    def build() -> bytes:
        return feed.get_feed(obj, request).writeString("utf-8").encode()

    story = obj if isinstance(obj, Story) else None
    validator = interchange.fingerprint(interchange.feed_windows(feed.events(obj)), story=story)
    return _answer(request, key=key, validator=validator, build=build, content_type=_AtomWithContent.content_type)


@require_safe
def story_feed(request: HttpRequest, slug: str) -> HttpResponse:
    story = get_object_or_404(Story, slug=slug)
    return _feed_answer(request, StoryFeed(), story, f"story-feed:{story.pk}")


@require_safe
def actor_feed(request: HttpRequest, slug: str) -> HttpResponse:
    actor = get_object_or_404(Actor, slug=slug)
    return _feed_answer(request, ActorFeed(), actor, f"actor-feed:{actor.pk}")


@require_safe
def topic_feed(request: HttpRequest, slug: str) -> HttpResponse:
    topic = get_object_or_404(Topic, slug=slug)
    return _feed_answer(request, TopicFeed(), topic, f"topic-feed:{topic.pk}")


# --- iCalendar and TimelineJS --------------------------------------------------------------------


@require_safe
def story_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    """Scheduled events and pending expectations, for a calendar to subscribe to."""
    story = get_object_or_404(Story, slug=slug)
    now = timezone.now()
    today = timezone.localdate(now)

    def build() -> bytes:
        return interchange.story_calendar(story, *interchange.calendar_entries(story, now=now))

    validator = interchange.fingerprint(interchange.calendar_windows(story, now=now), story=story, day=today)
    response = _answer(
        request,
        key=f"calendar:{story.pk}",
        validator=validator,
        build=build,
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'inline; filename="{story.slug}.ics"'
    return response


@require_safe
def story_timeline(request: HttpRequest, slug: str) -> HttpResponse:
    """The story in Knight Lab TimelineJS's JSON format, its newest TIMELINE_EVENTS events."""
    story = get_object_or_404(Story, slug=slug)

    def build() -> bytes:
        data = interchange.story_timeline(story, interchange.timeline_events(story))
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    validator = interchange.fingerprint([interchange.timeline_window(story)], story=story)
    response = _answer(
        request, key=f"timeline:{story.pk}", validator=validator, build=build, content_type="application/json"
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- The embeddable timeline ---------------------------------------------------------------------


def frameable_by_embedding_sites(view: Callable) -> Callable:
    """Let the sites of EMBED_ALLOWED_ORIGINS (read per request) frame this view, and no other: its
    CSP's frame-ancestors names them and X-Frame-Options is left out. With none listed it stays DENY."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        origins = list(settings.EMBED_ALLOWED_ORIGINS)
        if not origins:
            return view(request, *args, **kwargs)
        policy = {**settings.SECURE_CSP, "frame-ancestors": origins}
        return xframe_options_exempt(csp_override(policy)(view))(request, *args, **kwargs)

    return wrapped


@require_safe
@frameable_by_embedding_sites
def story_embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The newest events of a story (`?events=` of them, 10 by default, at most 50), compact, for an
    article's page; each opens its event page in the whole window."""
    story = get_object_or_404(Story, slug=slug)
    try:
        count = int(request.GET.get("events", EMBED_EVENTS))
    except ValueError:
        count = 0
    if not 1 <= count <= EMBED_EVENTS_MAX:
        message = _("events= must be a whole number from 1 to %(max)s.") % {"max": EMBED_EVENTS_MAX}
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    events = list(
        Event.objects.published().filter(story=story).select_related("place").order_by("-start", "-id")[:count]
    )
    return render(request, "events/embed.html", {"story": story, "events": events})
