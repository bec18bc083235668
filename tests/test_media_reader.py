"""Media as readers see them: the lead picture on the timeline card, every item on the event page,
link cards that load nothing from elsewhere, click-to-load videos, Open Graph images, query budgets."""

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter

from events.media.uploads import store_upload
from events.models import Event, MediaItem
from events.services.media import MediaRow, write_media
from events.templatetags.reader import absolute_url
from tests.factories import EventFactory, StoryFactory
from tests.test_views_public import (  # noqa: F401 (big_story is a fixture)
    EVENT_PAGE_BUDGET,
    FRAGMENT_BUDGET,
    HTMX,
    TIMELINE_BUDGET,
    _event_ids,
    big_story,
)

pytestmark = pytest.mark.django_db

VIDEO_URL = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


def _jpeg(width: int = 1200, height: int = 800, name: str = "handshake.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _pdf() -> SimpleUploadedFile:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile("statement.pdf", buffer.getvalue(), content_type="application/pdf")


def _photo(upload=None, **fields) -> MediaRow:
    fields = {
        "caption": "Macron and Putin at the long table.",
        "credit": "Kremlin press service",
        "alt_text": "Two men at either end of a very long white table",
        **fields,
    }
    return MediaRow(kind="image", upload=upload or store_upload(_jpeg(), "image"), **fields)


def _video(**fields) -> MediaRow:
    fields = {"url": VIDEO_URL, "title": "The press conference", "outlet": "Élysée", "credit": "Élysée", **fields}
    return MediaRow(kind="video", **fields)


def _tags(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}\b[^>]*>", html)


def _attr(tag: str, name: str) -> str | None:
    match = re.search(rf'\s{name}="([^"]*)"', tag)
    return match.group(1) if match else None


@pytest.fixture
def event():
    return EventFactory(story=StoryFactory(slug="talks"), slug="long-table", title="Macron meets Putin")


# --- The timeline card --------------------------------------------------------------------------


def test_a_card_shows_the_lead_picture_sized_lazy_and_described(client, event):
    write_media(event, [_video(), _photo(), _photo(caption="Second picture")])
    content = client.get(event.story.get_absolute_url()).content.decode()

    card = re.search(rf'<article class="event-card[^"]*" data-event-id="{event.pk}".*?</article>', content, re.S)
    [img] = _tags(card.group(0), "img")
    assert _attr(img, "alt") == "Two men at either end of a very long white table"
    assert (_attr(img, "width"), _attr(img, "height")) == ("480", "320")
    assert _attr(img, "loading") == "lazy" and _attr(img, "decoding") == "async"
    assert _attr(img, "sizes")
    assert re.fullmatch(r"\S+\.webp 480w, \S+\.webp 960w, \S+\.webp 1200w", _attr(img, "srcset"))
    assert _attr(img, "src").startswith("/media/thumbnails/") and _attr(img, "src").endswith(".webp")
    assert "Macron and Putin at the long table." in card.group(0)
    assert "Photo: Kremlin press service" in card.group(0)
    assert "Second picture" not in card.group(0)


def test_a_card_of_an_event_without_pictures_shows_none(client, event):
    write_media(event, [_video()])
    content = client.get(event.story.get_absolute_url()).content.decode()
    assert "<img" not in content


def test_a_small_picture_offers_each_width_once(client, event):
    write_media(event, [_photo(upload=store_upload(_jpeg(600, 400), "image"))])
    content = client.get(event.story.get_absolute_url()).content.decode()
    [img] = _tags(content, "img")
    assert re.fullmatch(r"\S+ 480w, \S+ 600w", _attr(img, "srcset"))


# --- The event page -----------------------------------------------------------------------------


def test_the_event_page_shows_every_item_in_order_as_a_figure_with_its_caption_and_credit(client, event):
    document = MediaRow(
        kind="document", upload=store_upload(_pdf(), "document"), title="Joint statement", credit="Élysée"
    )
    write_media(
        event,
        [
            _photo(taken_on=datetime.date(2022, 2, 7)),
            _video(),
            document,
            _photo(caption="Leaving the Kremlin", credit="Reuters"),
        ],
    )
    content = client.get(event.get_absolute_url()).content.decode()

    figures = re.findall(r'<figure class="media media--(\w+)".*?</figure>', content, re.S)
    assert figures == ["image", "video", "document", "image"]
    blocks = re.findall(r'<figure class="media .*?</figure>', content, re.S)
    assert "<figcaption" in blocks[0] and "Macron and Putin at the long table." in blocks[0]
    assert "Photo: Kremlin press service" in blocks[0]
    assert '<time datetime="2022-02-07">7 February 2022</time>' in blocks[0]
    assert "Photo: Reuters" in blocks[3] and "Leaving the Kremlin" in blocks[3]
    first, last = _tags(blocks[0], "img")[0], _tags(blocks[3], "img")[0]
    assert _attr(first, "loading") == "eager" and _attr(last, "loading") == "lazy"
    assert (_attr(first, "width"), _attr(first, "height")) == ("960", "640")
    assert _attr(first, "alt") == "Two men at either end of a very long white table"


def test_a_document_is_a_card_linking_to_its_pdf_with_title_and_size(client, event):
    stored = store_upload(_pdf(), "document")
    write_media(event, [MediaRow(kind="document", upload=stored, title="Joint statement")])
    content = client.get(event.get_absolute_url()).content.decode()
    [link] = re.findall(r'<a class="media-card media-card--document".*?</a>', content, re.S)
    assert f'href="/media/{stored.name}"' in link and 'type="application/pdf"' in link
    assert "Joint statement" in link and re.search(r"\d+(\.\d)?\xa0(bytes|KB)", link)


def test_link_cards_show_title_outlet_and_credit_and_load_nothing_from_the_other_site(client, event, settings):
    settings.MEDIA_EMBED_PROVIDERS = []
    write_media(
        event,
        [
            _video(thumbnail_url="https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"),
            MediaRow(kind="social", url="https://bsky.app/profile/elysee.fr/post/3kx", title="Post", credit="Élysée"),
            MediaRow(kind="audio", url="https://soundcloud.com/rfi/briefing", title="RFI briefing"),
            MediaRow(kind="page", url="https://www.osce.org/statement", title="OSCE statement", outlet="OSCE"),
        ],
    )
    content = client.get(event.get_absolute_url()).content.decode()
    media = re.search(r'<section class="event-media".*?</section>', content, re.S).group(0)

    assert "<iframe" not in content and "<img" not in media and "ytimg" not in content
    assert "data-player-src" not in media
    # Nothing the browser would fetch by itself comes from another site (the canonical link and the
    # other languages' alternates are no fetch).
    fetched = [
        tag for name in ("img", "script", "source", "video", "audio", "object", "embed") for tag in _tags(content, name)
    ]
    fetched += [tag for tag in _tags(content, "link") if _attr(tag, "rel") not in ("canonical", "alternate")]
    for tag in fetched:
        for name in ("src", "href", "srcset", "data", "poster"):
            assert not (_attr(tag, name) or "").startswith(("http:", "https:", "//")), tag
    links = re.findall(r'<a class="media-card__title" href="([^"]+)" rel="([^"]+)">([^<]+)</a>', media)
    assert [(url, title) for url, _rel, title in links] == [
        (VIDEO_URL, "The press conference"),
        ("https://bsky.app/profile/elysee.fr/post/3kx", "Post"),
        ("https://soundcloud.com/rfi/briefing", "RFI briefing"),
        ("https://www.osce.org/statement", "OSCE statement"),
    ]
    assert {rel for _url, rel, _title in links} == {"noopener noreferrer nofollow"}
    assert "Élysée" in media and "Credit: Élysée" in media
    assert "soundcloud.com" in media  # the outlet, when none was given, is the site's name
    assert "OSCE" in media


def test_an_allowed_video_gets_a_click_to_load_placeholder_holding_the_player_address_only_in_data(client, event):
    write_media(event, [_video()])
    content = client.get(event.get_absolute_url()).content.decode()
    [holder] = re.findall(r'<div class="media-player"[^>]*>', content)
    assert _attr(holder, "data-player-src") == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    assert _attr(holder, "data-player-title") == "The press conference"
    assert content.count("youtube-nocookie.com") == 1
    assert "<iframe" not in content
    assert re.search(r"<button[^>]*data-load-player[^>]*>Play the video here \(loads YouTube\)</button>", content)
    # Without JavaScript the link to the video is still there.
    assert f'href="{VIDEO_URL.replace("&", "&amp;")}"' in content


# --- Open Graph ---------------------------------------------------------------------------------


def test_the_event_page_offers_its_lead_picture_to_open_graph_and_twitter_with_an_absolute_url(client, event, settings):
    settings.SITE_URL = "https://tracker.example.org"
    write_media(event, [_video(), _photo()])
    content = client.get(event.get_absolute_url()).content.decode()

    image = re.search(r'<meta property="og:image" content="([^"]+)">', content).group(1)
    assert re.fullmatch(r"https://tracker\.example\.org/media/thumbnails/\S+\.webp", image)
    assert '<meta property="og:image:width" content="1200">' in content
    assert '<meta property="og:image:height" content="800">' in content
    assert '<meta property="og:image:alt" content="Two men at either end of a very long white table">' in content
    assert '<meta name="twitter:card" content="summary_large_image">' in content
    assert f'<meta name="twitter:image" content="{image}">' in content
    assert f'"image": "{image}"' in content  # schema.org


def test_an_event_without_a_picture_has_no_open_graph_image(client, event):
    content = client.get(event.get_absolute_url()).content.decode()
    assert "og:image" not in content
    assert '<meta name="twitter:card" content="summary">' in content


def test_an_address_from_an_outside_store_is_kept_as_it_is(settings):
    settings.SITE_URL = "https://tracker.example.org"
    assert absolute_url("/media/a.webp") == "https://tracker.example.org/media/a.webp"
    assert absolute_url("https://cdn.example.net/a.webp") == "https://cdn.example.net/a.webp"


# --- Query budgets with media on every event ------------------------------------------------------


@pytest.fixture
def big_story_with_media(big_story):  # noqa: F811
    """big_story's 200 events, each with a picture (one stored file shared) and every other one with a
    video before it. Written in bulk: the pages' cost is under test here, not write_media's."""
    stored = store_upload(_jpeg(), "image")
    events = list(big_story.events.all())
    pictures = []
    for n, event in enumerate(events):
        if n % 2:
            MediaItem.objects.create(event=event, position=0, kind="video", url=VIDEO_URL, title="Press conference")
        pictures.append(
            MediaItem(
                event=event,
                position=1,
                kind="image",
                image=stored.name,
                width=stored.width,
                height=stored.height,
                caption=f"Picture {n}",
                credit="Agency",
                alt_text="A scene",
            )
        )
    MediaItem.objects.bulk_create(pictures)
    for event, picture in zip(events, pictures, strict=True):
        event.lead_image = picture
    Event.objects.bulk_update(events, ["lead_image"])
    return big_story


def test_the_timeline_with_pictures_keeps_its_query_budget(
    client, big_story_with_media, settings, django_assert_max_num_queries
):
    settings.TIMELINE_PAGE_SIZE = 200
    with django_assert_max_num_queries(TIMELINE_BUDGET):
        response = client.get(big_story_with_media.get_absolute_url())
    assert len(_event_ids(response)) == 200
    assert response.content.decode().count('loading="lazy"') == 200


def test_a_timeline_fragment_with_pictures_keeps_its_query_budget(
    client, big_story_with_media, settings, django_assert_max_num_queries
):
    settings.TIMELINE_PAGE_SIZE = 200
    actor = big_story_with_media.events.first().participants.first()
    with django_assert_max_num_queries(FRAGMENT_BUDGET):
        response = client.get(big_story_with_media.get_absolute_url(), {"actor": actor.slug}, **HTMX)
    assert len(_event_ids(response)) == 100
    assert response.content.decode().count("<img ") == 100


def test_an_older_page_with_pictures_costs_what_the_first_costs(
    client, big_story_with_media, settings, django_assert_max_num_queries
):
    settings.TIMELINE_PAGE_SIZE = 50
    first = client.get(big_story_with_media.get_absolute_url(), **HTMX).content.decode()
    link = re.search(r'hx-get="([^"]+)" hx-trigger="revealed', first).group(1).replace("&amp;", "&")
    with django_assert_max_num_queries(FRAGMENT_BUDGET):
        response = client.get(link, **HTMX)
    assert len(_event_ids(response)) == 50
    assert response.content.decode().count("<img ") == 50


def test_an_event_page_with_many_media_keeps_its_query_budget(client, big_story, django_assert_max_num_queries):  # noqa: F811
    events = list(big_story.events.order_by("start", "id"))
    event = events[100]
    stored = store_upload(_jpeg(), "image")
    rows = [
        MediaRow(kind="image", upload=stored, caption=f"Picture {n}", credit="Agency", alt_text="A scene")
        for n in range(6)
    ]
    write_media(event, [*rows, _video(), _video(url="https://vimeo.com/123456789", title="Vimeo")])
    with django_assert_max_num_queries(EVENT_PAGE_BUDGET):
        response = client.get(event.get_absolute_url())
    content = response.content.decode()
    assert content.count('<figure class="media ') == 8
    assert f'rel="prev" href="{events[99].get_absolute_url()}"' in content
    assert f'rel="next" href="{events[101].get_absolute_url()}"' in content
