"""Event cards rendered once per version of the event, kept in the cache and shared by every list.

A timeline page is some seventy cards, and rendering them is most of a fresh page's cost (a card's
participants, topics and sources are three prefetches and a few hundred template nodes). A card shows
only its event and the rows around it, so its HTML is kept under a key made of what it is drawn from:
the event's id, version and `updated_at` (every save changes it: the desk, the admin and the media
service all save the event when its participants, topics, sources or pictures change), the `names`
stamp of the page cache (an actor, topic, place or story renamed or deleted; a new one is on no card
yet), the language and the settings that shape it. A change of any gives a new key, so a stale card
cannot be found again; old ones expire.

So a page rendered afresh after a publication renders one new card and takes the rest from the
cache, and a filter, a search or an older page reuses the cards other pages rendered. A list reads
only the few columns it needs of its events; the events whose cards are missing are the only ones
read in full, with their participants, topics and sources (selectors.card_events).
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.template.loader import get_template
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from . import page_cache, selectors
from .models import Event

TEMPLATE = "includes/event_card.html"
# A card nobody shows for a day is let go; a busy story's cards are shown far more often than that.
CARD_SECONDS = 24 * 3600
# Cards kept in each process's memory as well (a few KB each): a key names one version, never stale.
RECENT_CARDS = 2048

_recent = page_cache.Recent(RECENT_CARDS)


def _variant(show_story: bool) -> str:
    """What every card of a list shares in its key: the shared names' stamp, language and settings."""
    names = page_cache.read_stamps([page_cache.NAMES])[page_cache.NAMES]
    return page_cache.digest(
        names[1],
        translation.get_language(),
        show_story,
        [getattr(settings, name, None) for name in page_cache.KEY_SETTINGS],
        settings.MEDIA_URL,
    )[:16]


def card_key(event: Event, variant: str) -> str:
    return f"card:{variant}:{event.pk}:{event.version}:{event.updated_at.timestamp():.6f}"


def attach_cards(events: Iterable[Event], *, show_story: bool) -> None:
    """Give each event its rendered card as `card_html`: from this process's memory, then the cache
    (one round trip), else rendered now (prefetching only those events) and stored."""
    events = list(events)
    if not events:
        return
    variant = _variant(show_story)
    keys = {card_key(event, variant): event for event in events}
    found = {key: html for key in keys if (html := _recent.get(key)) is not None}
    if wanted := [key for key in keys if key not in found]:
        shared = cache.get_many(wanted)
        for key, html in shared.items():
            _recent.put(key, html)
        found |= shared
    missing = {key: event for key, event in keys.items() if key not in found}
    if missing:
        # A list's events may carry only what the list needs (selectors.timeline_page): the cards
        # to render are drawn from their full rows, read now; one deleted since shows no card.
        full = {event.pk: event for event in missing.values() if not event.get_deferred_fields()}
        selectors.prefetch_cards(list(full.values()))
        if partial := [event.pk for event in missing.values() if event.pk not in full]:
            full |= selectors.card_events(partial)
        template = get_template(TEMPLATE)
        rendered = {
            key: template.render({"event": full[event.pk], "show_story": show_story})
            for key, event in missing.items()
            if event.pk in full
        }
        cache.set_many(rendered, timeout=CARD_SECONDS)
        for key, html in rendered.items():
            _recent.put(key, html)
        found |= rendered
    for key, event in keys.items():
        event.card_html = mark_safe(found.get(key, ""))  # noqa: S308 - our own template's output


def card_html(event: Event, show_story: bool) -> SafeString:
    """The event's card: attached by attach_cards, or rendered now for a list that was not prepared."""
    html = getattr(event, "card_html", None)
    if html is None:
        attach_cards([event], show_story=show_story)
        html = event.card_html
    return html
