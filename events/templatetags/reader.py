"""Template filters and tags for the readers' pages: summaries, media and structured data.

An event's summary is shown from `summary_html`, rendered and sanitised once when the event was saved
(`stored_html`, `plain_from_html`). `markdown` and `plain` render Markdown on every call: they are for
texts that have no stored HTML (a story's summary, an actor's description).

A picture is shown from its resized copies (`thumbnail`, with the size a page writes into width and
height so that nothing moves when it loads); a video link may offer a click-to-load `video_player`.
"""

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import ngettext

from .. import cards
from ..media import links
from ..models import Actor, Event, MediaItem, MediaKind
from ..text import html_to_plain, plain_text, render_markdown

register = template.Library()

# As django.utils.html.json_script escapes, so a string cannot close the <script> element.
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}

_SCHEMA_STATUS = {
    Event.Status.SCHEDULED: "https://schema.org/EventScheduled",
    Event.Status.HAPPENED: "https://schema.org/EventScheduled",
    Event.Status.POSTPONED: "https://schema.org/EventPostponed",
    Event.Status.CANCELLED: "https://schema.org/EventCancelled",
}


@register.filter
def stored_html(html: str) -> SafeString:
    """HTML stored by render_markdown (`event.summary_html`), which nh3 sanitised when it was saved."""
    return mark_safe(html)  # noqa: S308 (nh3 sanitised it when it was saved)


@register.filter
def plain_from_html(html: str, length: int = 160) -> str:
    """Stored, sanitised HTML as plain text of at most `length` characters, rendering no Markdown."""
    return html_to_plain(html, int(length))


@register.filter
def markdown(text: str) -> SafeString:
    """A Markdown text as sanitised HTML, rendered now."""
    return render_markdown(text)


@register.filter
def plain(text: str, length: int = 160) -> str:
    """A Markdown text as plain text of at most `length` characters, rendered now."""
    return plain_text(text, int(length))


@dataclass(frozen=True)
class Rendition:
    """One resized copy of a picture: its address and its size in pixels."""

    url: str
    width: int
    height: int


@register.filter
def thumbnail(item: MediaItem | None, width: int) -> Rendition | None:
    """The smallest resized copy of a picture at least `width` pixels wide (None for anything else)."""
    size = item.thumbnail_for(int(width)) if item is not None else None
    if size is None:
        return None
    spec, width, height = size
    return Rendition(url=spec.url, width=width, height=height)


@register.filter
def absolute_url(url: str) -> str:
    """A stored file's address as one that works outside the site (Open Graph, schema.org): a
    relative one (the local storage's /media/...) is joined to SITE_URL; an absolute one is kept."""
    return urljoin(settings.SITE_URL + "/", url) if url else ""


@register.filter
def video_player(item: MediaItem) -> links.Player | None:
    """The player a video link may load here, after the reader asks, if the site allows its provider."""
    return links.player_for(item.url) if item.kind == MediaKind.VIDEO else None


@register.filter
def host(url: str) -> str:
    return links.host_of(url)


def event_schema(event: Event, url: str) -> dict[str, Any]:
    """schema.org Event data for an event page."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "url": url,
        "startDate": event.start.isoformat(),
        "eventStatus": _SCHEMA_STATUS.get(event.status, "https://schema.org/EventScheduled"),
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
    }
    if event.end:
        data["endDate"] = event.end.isoformat()
    description = html_to_plain(event.summary_html, 300)
    if description:
        data["description"] = description
    if event.place_id:
        place: dict[str, Any] = {"@type": "Place", "name": event.place.name}
        if event.place.country:
            place["address"] = {"@type": "PostalAddress", "addressCountry": event.place.country}
        if event.place.latitude is not None and event.place.longitude is not None:
            place["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": float(event.place.latitude),
                "longitude": float(event.place.longitude),
            }
        data["location"] = place
    attendees = [
        {
            "@type": "Person" if p.actor.kind == Actor.Kind.PERSON else "Organization",
            "name": p.actor.name,
        }
        for p in event.participations.all()
    ]
    if attendees:
        data["attendee"] = attendees
    if event.published_at:
        data["datePublished"] = event.published_at.isoformat()
    if picture := thumbnail(event.lead_image, 1200):
        data["image"] = absolute_url(picture.url)
    return data


@register.simple_tag(takes_context=True)
def event_json_ld(context: template.Context, event: Event, url: str) -> SafeString:
    """A <script type="application/ld+json"> carrying the CSP nonce, escaped as json_script does."""
    payload = json.dumps(event_schema(event, url), ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    nonce = context.get("csp_nonce")
    # A LazyNonce is falsy until something reads it: test for its presence, not its truth.
    if nonce is not None:
        # The payload is escaped for a script element just above, as json_script does.
        return format_html('<script type="application/ld+json" nonce="{}">{}</script>', nonce, mark_safe(payload))  # noqa: S308
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(payload))  # noqa: S308


@register.simple_tag
def event_card(event: Event, show_story: bool = False) -> SafeString:
    """The event's card as events.cards keeps it (rendered once per version of the event)."""
    return cards.card_html(event, bool(show_story))


_ROLE_HEADINGS = {
    "host": lambda count: ngettext("Host", "Hosts", count),
    "guest": lambda count: ngettext("Guest", "Guests", count),
    "mediator": lambda count: ngettext("Mediator", "Mediators", count),
    "observer": lambda count: ngettext("Observer", "Observers", count),
    "participant": lambda count: ngettext("Participant", "Participants", count),
}


@register.filter
def role_heading(participations: list) -> str:
    """ "Host" or "Hosts" (in the reader's language) over the participants of one role."""
    role = participations[0].role if participations else "participant"
    return _ROLE_HEADINGS.get(role, _ROLE_HEADINGS["participant"])(len(participations))
