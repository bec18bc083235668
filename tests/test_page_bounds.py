"""The readers' pages stay bounded however long the story: their size, their count of event elements,
and every element that shows one event carrying `data-event-id`.

A long story of 5,000 events (and 1,000 expectations) is generated once for the module; each page is
asked for as a reader's browser (and htmx) asks. These are not timings: a page that grew with the
story would fail here long before it were slow.
"""

from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from events import selectors
from events.models import Actor, Event, Forum, Place, Story, Topic
from events.synthetic import delete_story, generate_story

pytestmark = pytest.mark.django_db

MAX_PAGE_BYTES = 150 * 1024
PAGE_SIZE = 50
HTMX = {"HTTP_HX_REQUEST": "true"}
# Cards on a first page; what's next adds its links to events (raised by, fulfilled by).
MAX_CARDS = PAGE_SIZE + selectors.UPCOMING_LIMIT
MAX_EVENT_ELEMENTS = MAX_CARDS + 2 * selectors.WHATS_NEXT_LIMIT + selectors.RECENTLY_FULFILLED_LIMIT


class _EventElements(HTMLParser):
    """The elements carrying data-event-id, event cards among them, and each link to an event page
    with whether it sits inside (or is) an element carrying data-event-id."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.event_elements = 0
        self.cards = 0
        self.event_links: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        marked = "data-event-id" in attributes
        self.event_elements += marked
        self.cards += marked and "event-card" in (attributes.get("class") or "").split()
        href = attributes.get("href") or ""
        if tag == "a" and href.startswith("/events/"):
            self.event_links.append((href, marked or any(self.stack)))
        if tag not in self.VOID:
            self.stack.append(marked)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()


def _parse(response) -> _EventElements:
    parser = _EventElements()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture(scope="module")
def long_story(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        story = generate_story(slug="page-bounds", events=5000, expectations=1000, subscribers=0)
        yield story
        delete_story(story)
        # The generated pool too (people first: they name their country as affiliation).
        Actor.objects.filter(slug__startswith="syn-", affiliation__isnull=False).delete()
        for model in (Actor, Place, Topic, Forum):
            model.objects.filter(slug__startswith="syn-").delete()


@pytest.fixture(autouse=True)
def page_size(settings):
    settings.TIMELINE_PAGE_SIZE = PAGE_SIZE


def _get(client, url: str, data: dict | None = None, **headers):
    response = client.get(url, data or {}, **headers)
    assert response.status_code == 200, url
    assert len(response.content) <= MAX_PAGE_BYTES, (url, len(response.content))
    return response


def _older_link(response) -> str:
    content = response.content.decode()
    marker = 'rel="next" hx-get="'
    start = content.index(marker) + len(marker)
    return content[start : content.index('"', start)].replace("&amp;", "&")


def test_the_story_page_is_bounded_in_size_and_event_elements(client, long_story):
    page = _parse(_get(client, long_story.get_absolute_url()))
    assert 0 < page.cards <= MAX_CARDS
    assert page.event_elements <= MAX_EVENT_ELEMENTS


def test_the_story_pages_fragments_are_bounded(client, long_story):
    first = _get(client, long_story.get_absolute_url(), **HTMX)
    assert _parse(first).cards <= MAX_CARDS
    older = _get(client, _older_link(first), **HTMX)
    assert _parse(older).cards == PAGE_SIZE
    new = _get(client, reverse("events:story_new_events", args=[long_story.slug]), {"since": "2000-01-01T00:00:00Z"})
    assert _parse(new).cards == selectors.NEW_EVENTS_LIMIT


def test_a_search_for_a_word_in_every_event_is_bounded(client, long_story):
    for headers in ({}, HTMX):
        page = _parse(_get(client, long_story.get_absolute_url(), {"q": "talks"}, **headers))
        assert 0 < page.cards <= MAX_CARDS


def test_actor_topic_and_place_pages_are_bounded(client, long_story):
    event = Event.objects.filter(story=long_story).exclude(place=None).first()
    for entity in (event.participants.first(), event.topics.first(), event.place):
        page = _parse(_get(client, entity.get_absolute_url()))
        assert 0 < page.cards <= MAX_CARDS
        assert page.event_elements <= MAX_EVENT_ELEMENTS
        assert _parse(_get(client, entity.get_absolute_url(), **HTMX)).cards <= MAX_CARDS


def test_whats_next_shows_a_few_and_links_to_every_expectation(client, long_story):
    content = _get(client, long_story.get_absolute_url()).content.decode()
    assert (
        content.count('<li class="expectation') <= 2 * selectors.WHATS_NEXT_LIMIT + selectors.RECENTLY_FULFILLED_LIMIT
    )
    all_url = reverse("events:story_expectations", args=[long_story.slug])
    assert f'href="{all_url}"' in content
    listing = _get(client, all_url).content.decode()
    assert listing.count('<li class="expectation') == selectors.EXPECTATIONS_PAGE_SIZE
    assert 'rel="next"' in listing


def test_every_link_to_an_event_sits_in_an_element_carrying_its_id(client):
    call_command("load_demo_story", stdout=StringIO())
    story = Story.objects.get(slug="ukraine-crisis-diplomacy")
    event = story.events.order_by("start").all()[1]
    actor = event.participants.first()
    pages = [
        story.get_absolute_url(),
        event.get_absolute_url(),
        actor.get_absolute_url(),
        event.topics.first().get_absolute_url(),
        reverse("events:story_expectations", args=[story.slug]),
    ]
    if event.place:
        pages.append(event.place.get_absolute_url())
    for url in pages:
        page = _parse(_get(client, url))
        assert page.event_links or url != story.get_absolute_url(), url
        unmarked = [href for href, marked in page.event_links if not marked]
        assert not unmarked, (url, unmarked)
