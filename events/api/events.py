"""One published event, with everything its page shows."""

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from .. import selectors
from ..models import Event
from .errors import not_found
from .schemas import EventDetailOut, Message, slug_of

router = Router(tags=["events"])


@router.get(
    "/events/{slug:slug}",
    response={200: EventDetailOut, 304: None, 404: Message},
    url_name="event_detail",
    summary="An event",
)
def event_detail(request: HttpRequest, slug: str = slug_of("event")) -> Event:
    """A published event: participants and their roles, each side's positions on the points discussed,
    sources, corrections, what it raised and fulfilled, and the story's events before and after it."""
    try:
        page = selectors.event_page(slug)
    except Http404:
        raise not_found(_("No published event has the slug “%(slug)s”.") % {"slug": slug}) from None
    event = page.event
    event.previous, event.next = page.previous, page.next
    return event
