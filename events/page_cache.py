"""Readers' pages served again from the cache, and the stamps that say when to render them afresh.

Many readers, one story, nothing changed: the common case. A page is rendered once and its bytes
kept in the cache under a key made of what it shows: the stamps of what it is drawn from (changed by
every change readers could see), today's date (overdue is computed from it), the address with its
query string (filters, cursor), the host (the page names its own absolute address), the htmx
headers that pick a fragment, and the language. A change gives a stamp a new value, so the next
reader gets a fresh page at once and no stale page can be found again; old entries expire unread.

The stamps:
- `story:<slug>`: the story's events (drafts too: harmless), their corrections, media and sources,
  and its expectations. The story page and its fragments, and the live notice, are keyed on it.
- `next:<slug>`: what the story's "what's next" panel shows: its expectations and the events named
  by one (raised or fulfilled it). Every change of an expectation bumps it with the story's stamp; a
  change of an event only when an expectation names it (or it is deleted). So a publication, the
  common change, leaves the panel as computed (see Parts).
- `choices:<slug>`: the story's filter choices (the actors, topics and places its published events
  name). After any change to its events they are computed again when it commits, and the
  stamp is bumped only if they differ from those kept: a publication that names only what is already
  on offer, most of them, leaves it (filters.recheck_story_choices). The story page is keyed on it too.
- `shared`: stories, actors, topics, places and forums, whose names every story page shows.
- `site`: any of the above anywhere, for the pages that span stories (event, actor, topic and place
  pages, the list of stories).

A stamp is bumped as soon as the change is written and again when its transaction commits: a
reader who renders in between (still seeing the old rows) stores the page under the first value,
which the second makes unreachable. Writes reach the stamps through the models' signals (the desk's
services, the admin, corrections) and through `touch_story`, which every publication calls and
which also covers bulk writes that send no signals (imports). Child rows written without their event
(a participation, a discussion point) are not watched: the desk and the admin always save the event.

Views opt in with @cached_page(stamps); tracker.middleware.PageCacheMiddleware, ahead of sessions,
CSRF and auth, serves and stores. Only anonymous readers are served from the cache, told apart by
the absence of a session cookie (no session is loaded to ask): an editor's page has a Desk link and
a logout form with a CSRF token, and is never served from nor stored into the cache. A response that
sets a cookie (a CSRF token, a session) is not stored either.

The CSP nonce: a stored page keeps the nonce its script tags were rendered with, and is served with
the CSP header for that nonce (built when it is stored). That weakens the nonce only as far as a
nonce per version of the page would: a version's nonce is fixed only after everything in it, the
query string included, is rendered, so injected markup cannot carry it, and any change of content is
a new version with a new nonce. Our scripts are external files, which `'self'` covers anyway.

A hit costs no query and at most two cache round trips: the stamps (one get_many), then the entry.
Each process keeps the last few entries it served in memory too (a key names one version, so such a
copy cannot be stale), and trusts the stamps it read for settings.PAGE_CACHE_STAMP_SECONDS (1 s by
default): a round trip to Redis costs far more than serving the page, and many readers ask within
a second. A change is seen at once by the process that made it and within that second by the
others; 0 makes every request read the stamps.
"""

import datetime
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.csp import get_nonce
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.csp import CSP, build_policy
from django.utils.http import http_date

from .models import Actor, Correction, Event, Expectation, Forum, MediaItem, Place, Source, Story, Topic

SHARED = "pc:shared"
SITE = "pc:site"
# The names already shown: changed when a story, actor, topic, place or forum is edited or deleted,
# not when one is created (no event shows it yet). Rendered event cards are keyed on it (events.cards).
NAMES = "pc:names"
# How long a rendered page is kept: a page nobody asks for again should not fill the cache.
PAGE_SECONDS = 600
# What browsers and proxies may reuse without asking (then they revalidate with the ETag). A reader
# with a page up to this old still hears of anything newer: the live notice counts from the page's own
# time, not from the poll's.
MAX_AGE = 30
STALE_WHILE_REVALIDATE = 30
# Versions kept in each process's memory besides the shared cache (pages up to a few hundred KB each).
RECENT_PAGES = 64
RECENT_POLL_STATES = 1024
# The request headers a page's content depends on besides its address (htmx picks a fragment).
KEY_HEADERS = ("HTTP_HX_REQUEST", "HTTP_HX_HISTORY_RESTORE_REQUEST", "HTTP_HX_TARGET")
# Settings a page is drawn with: a deploy that changes one (or a new RELEASE) is served fresh pages.
KEY_SETTINGS = (
    "RELEASE",
    "EMBED_ALLOWED_ORIGINS",
    "MEDIA_EMBED_PROVIDERS",
    "TIMELINE_PAGE_SIZE",
    "LIVE_NOTICE_POLL_SECONDS",
)


def story_key(slug: str) -> str:
    return f"pc:story:{slug}"


def panel_key(slug: str) -> str:
    return f"pc:next:{slug}"


def choices_key(slug: str) -> str:
    return f"pc:choices:{slug}"


def story_stamps(slug: str, **_: object) -> list[str]:
    """What a story page shows: its own rows, its filter choices, and the names it shares with other stories."""
    return [SHARED, story_key(slug), choices_key(slug)]


def choices_stamps(slug: str) -> list[str]:
    """What the story's filter choices are drawn from: its published events' actors, topics and
    places (checked after each change: see recheck_choices), and their names."""
    return [SHARED, choices_key(slug)]


def panel_stamps(slug: str) -> list[str]:
    """What the story's "what's next" panel shows: its expectations, the events they name, the names."""
    return [SHARED, panel_key(slug)]


def site_stamps(**_: object) -> list[str]:
    return [SITE]


class Recent:
    """The last few values this process used, by key: a least recently used dict, safe across threads."""

    every: "list[Recent]" = []

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, Any] = OrderedDict()
        self.lock = threading.Lock()
        Recent.every.append(self)

    def get(self, key: str) -> Any:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: str, value: Any) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


recent_pages = Recent(RECENT_PAGES)
recent_poll_states = Recent(RECENT_POLL_STATES)


def forget_remembered() -> None:
    """Forget what this process remembers besides the cache (stamps, pages, cards, poll states, bumps
    not saved yet), as a process that just started: for tests and the benchmark's probe, which empty
    the cache and then must render afresh."""
    for memory in Recent.every:
        memory.clear()
    _unsaved_bumps.clear()


# --- Stamps --------------------------------------------------------------------------------------


def _new_stamp() -> tuple[float, str]:
    """When it changed (for Last-Modified) and a value never used before (for the keys)."""
    return (time.time(), secrets.token_hex(8))


recent_stamps = Recent(4096)
# Stamps whose bump the cache did not take (Redis away, tracker.cache): bumped again as soon as it
# answers, or the pages stored before the outage would be served as current after it. Kept by the
# process that made the change; one that ends meanwhile leaves those pages to expire (PAGE_SECONDS).
_unsaved_bumps: set[str] = set()


def read_stamps(keys: list[str]) -> dict[str, tuple[float, str]]:
    """The stamps' values, in one round trip or none (those read in the last PAGE_CACHE_STAMP_SECONDS).
    One lost from the cache (evicted, or never set) starts anew, which only means rendering afresh."""
    _bump_unsaved()
    now = time.monotonic()
    trust = settings.PAGE_CACHE_STAMP_SECONDS
    found = {}
    for key in keys:
        if trust > 0 and (known := recent_stamps.get(key)) is not None and now - known[1] < trust:
            found[key] = known[0]
    if missing := [key for key in keys if key not in found]:
        fetched = cache.get_many(missing)
        for key in missing:
            if key not in fetched:
                stamp = _new_stamp()
                fetched[key] = stamp if cache.add(key, stamp, timeout=None) else cache.get(key, stamp)
            recent_stamps.put(key, (fetched[key], now))
        found |= fetched
    return found


def _bump(keys: list[str]) -> None:
    stamps = {key: _new_stamp() for key in keys}
    _unsaved_bumps.update(cache.set_many(stamps, timeout=None) or ())
    now = time.monotonic()
    for key, stamp in stamps.items():
        recent_stamps.put(key, (stamp, now))


def _bump_unsaved() -> None:
    if _unsaved_bumps and getattr(cache, "reachable", True):
        keys = list(_unsaved_bumps)
        _unsaved_bumps.difference_update(keys)
        _bump(keys)


def _bump_now_and_on_commit(keys: list[str]) -> None:
    _bump(keys)
    # Robust: the change is committed by then; a cache that fails now must not turn it into an error.
    transaction.on_commit(lambda: _bump(keys), robust=True)


def story_changed(
    story_id: int | None = None,
    *,
    slug: str | None = None,
    event_id: int | None = None,
    panel: bool = True,
    events: bool = False,
) -> None:
    """Something readers see of a story changed: its pages are rendered afresh from now on. `panel`:
    whether its "what's next" panel may have changed too (say False only when it cannot have);
    `events`: whether its events did (their actors, topics and places are the filter's choices)."""
    if slug is None:
        stories = Story.objects.all()
        if story_id is not None:
            stories = stories.filter(pk=story_id)
        elif event_id is not None:
            stories = stories.filter(events=event_id)
        else:
            return
        slug = stories.values_list("slug", flat=True).first()
    _bump_now_and_on_commit([SITE] + ([story_key(slug)] + ([panel_key(slug)] if panel else []) if slug else []))
    if events and slug:
        transaction.on_commit(lambda: recheck_choices(slug), robust=True)


def recheck_choices(slug: str) -> None:
    """Once a change to the story's events commits (what every reader then sees): readers who render
    before that store the old choices under the stamp this bumps if the change made new ones, which
    makes those, and the pages drawn with them, unreachable. Not before the commit: no other reader
    sees the change then, and a check per save would cost the writer a query for each."""
    from .filters import recheck_story_choices  # the filters use this module's Parts

    recheck_story_choices(slug)


def shared_changed(*story_slugs: str, created: bool = False) -> None:
    """A name every story page may show changed (a story, an actor, a topic, a place, a forum)."""
    _bump_now_and_on_commit([SHARED, SITE, *([] if created else [NAMES]), *(story_key(slug) for slug in story_slugs)])


def _event_story_slug(event: Event) -> str | None:
    return event.story.slug if Event.story.is_cached(event) else None


def _named_by_an_expectation(event: Event) -> bool:
    return Expectation.objects.filter(Q(raised_by=event.pk) | Q(fulfilled_by=event.pk)).exists()


def _on_event(sender: type, instance: Event, created: bool = False, **kwargs: Any) -> None:
    # A new event is named by no expectation yet; a deleted one was unnamed by the delete itself
    # (raised_by is SET_NULL, without signals), so the panel is bumped then without asking.
    deleted = kwargs.get("signal") is post_delete
    panel = deleted or (not created and _named_by_an_expectation(instance))
    # A draft never published is in no reader's list, now or before: the choices stay as they are.
    in_choices = instance.is_published or instance.published_at is not None or deleted
    story_changed(instance.story_id, slug=_event_story_slug(instance), panel=panel, events=in_choices)


def _on_story_row(sender: type, instance: Expectation, **kwargs: Any) -> None:
    story_changed(instance.story_id)


def _on_event_row(sender: type, instance: Correction | MediaItem, **kwargs: Any) -> None:
    story_changed(event_id=instance.event_id)


def _on_source(sender: type, instance: Source, **kwargs: Any) -> None:
    if instance.event_id is not None:
        story_changed(event_id=instance.event_id)
    elif instance.expectation_id is not None:
        story_changed(Expectation.objects.filter(pk=instance.expectation_id).values_list("story_id", flat=True).first())


def _on_m2m(sender: type, instance: Any, action: str, **kwargs: Any) -> None:
    if action.startswith("post_") and isinstance(instance, Event | Expectation):
        # An event's topics are not in the panel, but among the filter's choices.
        is_event = isinstance(instance, Event)
        story_changed(instance.story_id, panel=not is_event, events=is_event)


def _on_shared(sender: type, instance: Any, created: bool = False, **kwargs: Any) -> None:
    shared_changed(*([instance.slug] if isinstance(instance, Story) else []), created=created)


# Connected here rather than in AppConfig.ready: this module is imported by the services and the
# views, so every process that writes or serves a page has them. dispatch_uid keeps them single.
for _model in (Event, Expectation):
    post_save.connect(_on_event if _model is Event else _on_story_row, sender=_model, dispatch_uid=f"pc-{_model}")
    post_delete.connect(_on_event if _model is Event else _on_story_row, sender=_model, dispatch_uid=f"pc-d-{_model}")
for _model in (Correction, MediaItem):
    post_save.connect(_on_event_row, sender=_model, dispatch_uid=f"pc-{_model}")
    post_delete.connect(_on_event_row, sender=_model, dispatch_uid=f"pc-d-{_model}")
post_save.connect(_on_source, sender=Source, dispatch_uid="pc-source")
for _through in (Event.topics.through, Expectation.expected_actors.through, Expectation.topics.through):
    m2m_changed.connect(_on_m2m, sender=_through, dispatch_uid=f"pc-m2m-{_through}")
for _model in (Story, Actor, Topic, Place, Forum):
    post_save.connect(_on_shared, sender=_model, dispatch_uid=f"pc-{_model}")
    post_delete.connect(_on_shared, sender=_model, dispatch_uid=f"pc-d-{_model}")


# --- Pages ---------------------------------------------------------------------------------------


def digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def _last_modified(stamps: Iterable[tuple[float, str]], today: datetime.date) -> int:
    """The newest stamp, in whole seconds, and no earlier than today's start (overdue changes then).

    A second is coarse: a client that revalidates with If-Modified-Since alone might keep a copy
    taken within the second before a change. Browsers and proxies send the ETag too, which wins."""
    midnight = timezone.make_aware(datetime.datetime.combine(today, datetime.time()))
    return max(int(max((at for at, _ in stamps), default=0)), int(midnight.timestamp()))


def _is_anonymous(request: HttpRequest) -> bool:
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


def _pin_csp(request: HttpRequest, response: HttpResponse) -> None:
    """The CSP headers for the nonce the page was rendered with, set now so that the CSP middleware
    keeps them and a stored copy carries them."""
    nonce = get_nonce(request)
    sentinel = object()
    for header, config, default in (
        (CSP.HEADER_ENFORCE, "_csp_config", settings.SECURE_CSP),
        (CSP.HEADER_REPORT_ONLY, "_csp_ro_config", settings.SECURE_CSP_REPORT_ONLY),
    ):
        value = getattr(response, config, sentinel)
        value = default if value is sentinel else value
        if value and header not in response:
            response.headers[str(header)] = build_policy(value, str(nonce) if nonce else None)


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    # No cookie: a CSRF token or a session set for this visitor is not every reader's.
    return response.status_code == 200 and not response.streaming and not response.cookies


def cached_page(stamps: Callable[..., list[str]]) -> Callable:
    """Mark a reader's page as drawn from `stamps(**view_kwargs)`: PageCacheMiddleware then serves it
    to anonymous readers from the cache while they are unchanged, with ETag and Last-Modified. An
    editor's copy (it has a Desk link) is for them alone, checked anew each time."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if not _is_anonymous(request):
                patch_vary_headers(response, ["Cookie"])
                patch_cache_control(response, private=True, no_cache=True)
            return response

        # functools.wraps carries it to the decorators applied after this one (require_GET, ...).
        wrapper.page_cache_stamps = stamps
        return wrapper

    return decorator


@dataclass(frozen=True)
class Lookup:
    """Where an anonymous reader's page is kept, and its validators."""

    key: str
    etag: str
    last_modified: int

    @classmethod
    def of(cls, request: HttpRequest) -> "Lookup | None":
        """None unless this is an anonymous GET of a page marked with @cached_page."""
        if request.method != "GET" or not _is_anonymous(request):
            return None
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return None
        stamps = getattr(match.func, "page_cache_stamps", None)
        if stamps is None:
            return None
        values = read_stamps(stamps(**match.kwargs))
        today = timezone.localdate()
        variant = digest(
            sorted(values.items()),
            today.isoformat(),
            request.scheme,
            request.get_host(),
            request.get_full_path(),
            [request.META.get(name, "") for name in KEY_HEADERS],
            [getattr(settings, name, None) for name in KEY_SETTINGS],
            # LocaleMiddleware, if it comes, goes before PageCacheMiddleware.
            translation.get_language(),
        )
        return cls(f"pc:page:{variant}", f'W/"{variant}"', _last_modified(values.values(), today))

    def cached(self, request: HttpRequest) -> HttpResponse | None:
        """A 304 if the reader's copy is this version, the stored page if there is one, else None."""
        response = get_conditional_response(request, etag=self.etag, last_modified=self.last_modified)
        if response is None:
            entry = recent_pages.get(self.key)
            if entry is None and (entry := cache.get(self.key)) is not None:
                recent_pages.put(self.key, entry)
            if entry is None:
                return None
            response = HttpResponse(entry["content"], status=entry["status"], headers=entry["headers"])
        return self.validators(response)

    def keep(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """Store a page just rendered (as the stack below made it: Vary, X-Frame-Options, ...)."""
        _pin_csp(request, response)
        if _storable(request, response):
            headers = {name: value for name, value in response.items() if name.lower() != "set-cookie"}
            entry = {"content": response.content, "status": response.status_code, "headers": headers}
            cache.set(self.key, entry, PAGE_SECONDS)
            recent_pages.put(self.key, entry)
        return self.validators(response) if response.status_code == 200 else response

    def validators(self, response: HttpResponse) -> HttpResponse:
        response["ETag"] = self.etag
        response["Last-Modified"] = http_date(self.last_modified)
        patch_cache_control(response, public=True, max_age=MAX_AGE, stale_while_revalidate=STALE_WHILE_REVALIDATE)
        # Cookie: an editor gets another page (for the Desk link), so shared caches must not mix them.
        # HX-Request: the key holds it (a fragment or the page), and a 304 repeats its 200's Vary.
        patch_vary_headers(response, ["Cookie", "HX-Request"])
        return response


# --- Parts of pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parts:
    """What every variant of a page shares, computed once per version of its stamps.

    The story page's "what's next" panel and its filter form's choices are the same for the plain page,
    each filter, each search and each older page, and change only with the story: kept in the shared
    cache under the stamps they are drawn from (and today's date: overdue is decided from it), they
    are computed by the first render after a change, not by every one; under stamps of their own
    (panel_stamps, choices_stamps), not even after a publication. Keyed and invalidated as the pages
    are (see this module's docstring: a change bumps the stamps before and after it commits).
    Only the shared cache keeps them, not each process's memory: after a change in another process,
    this one would trust the stamps it read for up to PAGE_CACHE_STAMP_SECONDS, and a whole page is
    never stored under old stamps for longer than that either. `owner` names what they describe
    (f"story:{pk}"), the stamps alone do not: the site stamp covers every actor page.
    """

    stamps: list[str]
    owner: str

    def key(self, name: str, *parts: object) -> str:
        values = read_stamps(self.stamps)
        return f"pc:part:{name}:{digest(sorted(values.items()), timezone.localdate().isoformat(), self.owner, parts)}"

    def get(self, name: str, compute: Callable[[], Any], *parts: object) -> Any:
        key = self.key(name, *parts)
        value = cache.get(key)
        if value is None:
            value = compute()
            cache.set(key, value, PAGE_SECONDS)
        return value

    def recheck(self, name: str, compute: Callable[[], Any], *parts: object, stamp: str) -> bool:
        """Compute the part again; when it differs from the one kept (or none is), bump `stamp` (one
        of self.stamps) and keep the new one under it. Whether it was bumped."""
        kept = cache.get(self.key(name, *parts))
        value = compute()
        if kept == value:
            return False
        _bump([stamp])
        cache.set(self.key(name, *parts), value, PAGE_SECONDS)
        return True


# --- The live notice -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PollState:
    """The live notice's validators, as kept in the cache: the ETag and Last-Modified of the story's
    publications (selectors.story_state)."""

    etag: str
    last_modified: int | None

    @classmethod
    def of(cls, state: Any) -> "PollState":
        newest = state.newest_published_at
        # HTTP dates have whole seconds; the ETag (which our script sends) tells apart two
        # publications within one second.
        return cls(etag=state.etag, last_modified=int(newest.timestamp()) if newest else None)

    def headers(self, response: HttpResponse) -> HttpResponse:
        response["ETag"] = self.etag
        if self.last_modified is not None:
            response["Last-Modified"] = _http_date(self.last_modified)
        # Revalidate every time: a cache may keep the answer, never serve it unchecked.
        if "Cache-Control" in response:
            patch_cache_control(response, no_cache=True, private=True)
        else:
            response["Cache-Control"] = "no-cache, private"
        return response


# Every poll of a story answers with the same few dates until its next publication.
_http_date = lru_cache(maxsize=256)(http_date)


def poll_state(slug: str) -> tuple[str, PollState | None]:
    """Where the story's validators are kept under its current stamps, and them if they are there.
    One cache round trip (two when this process has not seen this version yet), no query."""
    values = read_stamps(story_stamps(slug))
    key = f"pc:poll:{slug}:{digest(sorted(values.items()))}"
    state = recent_poll_states.get(key)
    if state is None and (state := cache.get(key)) is not None:
        recent_poll_states.put(key, state)
    return key, state


def remember_poll_state(key: str, state: PollState) -> None:
    cache.set(key, state, PAGE_SECONDS)
    recent_poll_states.put(key, state)


def poll_not_modified(request: HttpRequest, state: PollState) -> HttpResponse | None:
    """304 if the reader's copy is current, else None. The live notice's script sends back the very
    ETag it was given: that is answered at once, anything else by Django's rules (RFC 9110's
    order of the preconditions, weak comparison, lists, dates)."""
    meta = request.META
    if (
        meta.get("HTTP_IF_NONE_MATCH") == state.etag
        and request.method in ("GET", "HEAD")
        and "HTTP_IF_MATCH" not in meta
        and "HTTP_IF_UNMODIFIED_SINCE" not in meta
    ):
        return state.headers(HttpResponseNotModified())
    response = get_conditional_response(request, etag=state.etag, last_modified=state.last_modified)
    return state.headers(response) if response is not None else None
