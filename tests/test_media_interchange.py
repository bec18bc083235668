"""Media in and out: timeline.json's `media` from each event's lead item, the import's Media columns
into media items (links: an import uploads nothing), and the JSON API's media of an event."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from events import imports, interchange
from events.media.uploads import store_upload
from events.models import Event, MediaItem, MediaKind
from events.services.imports import import_timeline
from events.services.media import MediaRow, write_media
from tests.factories import EventFactory, StoryFactory

pytestmark = pytest.mark.django_db

SITE = "https://tracker.example.org"
HEADER = ",".join(imports.COLUMNS)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def jpeg(width: int = 1200, height: int = 800) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 30, 40)).save(buffer, format="JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), "image/jpeg")


def image_row(**values) -> MediaRow:
    upload = store_upload(values.pop("file", None) or jpeg(), MediaKind.IMAGE)
    defaults = {"caption": "The long table", "credit": "Story Tracker", "alt_text": "Two men at a long white table"}
    return MediaRow(kind=MediaKind.IMAGE, upload=upload, **(defaults | values))


def link_row(url: str, **values) -> MediaRow:
    return MediaRow(kind=values.pop("kind", MediaKind.VIDEO), url=url, **values)


def slides(client, story) -> dict[str, dict]:
    data = client.get(reverse("events:story_timeline", args=[story.slug])).json()
    return {slide["unique_id"]: slide for slide in data["events"]}


# --- Out: timeline.json ---------------------------------------------------------------------------


def test_an_uploaded_image_leads_the_slide_with_absolute_addresses_alt_text_credit_and_caption(client):
    story = StoryFactory()
    event = EventFactory(story=story)
    write_media(event, [image_row(), link_row("https://www.youtube.com/watch?v=dQw4w9WgXcQ")])
    item = event.media.get(kind=MediaKind.IMAGE)

    media = slides(client, story)[event.slug]["media"]

    assert media == {
        "url": SITE + item.image.url,  # the original: it is no wider than the largest copy
        "thumbnail": SITE + item.thumbnail_small.url,
        "alt": "Two men at a long white table",
        "caption": "The long table",
        "credit": "Story Tracker",
    }
    assert media["url"].endswith(".jpg") and media["thumbnail"].endswith(".webp")


def test_an_image_wider_than_the_largest_copy_is_given_as_that_copy():
    event = EventFactory()
    write_media(event, [image_row(file=jpeg(2400, 1200))])

    media = interchange.timeline_media(event)

    assert media["url"] == SITE + event.media.get().thumbnail_large.url


def test_an_s3_address_is_kept_as_it_is():
    assert interchange.absolute_url("https://bucket.s3.amazonaws.com/images/a.jpg") == (
        "https://bucket.s3.amazonaws.com/images/a.jpg"
    )
    assert interchange.absolute_url("/media/images/a.jpg") == SITE + "/media/images/a.jpg"


def test_the_lead_item_is_the_first_by_position_whatever_its_kind(client):
    story = StoryFactory()
    event = EventFactory(story=story)
    video = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    write_media(
        event,
        [link_row(video, title="Press conference", caption="The <b>press</b>", credit="Elysée"), image_row()],
    )

    media = slides(client, story)[event.slug]["media"]

    assert media == {
        "url": video,
        "title": "Press conference",
        "caption": "The &lt;b&gt;press&lt;/b&gt;",  # plain text, escaped: TimelineJS reads HTML
        "credit": "Elysée",
    }


def test_a_page_link_is_a_quotation_card_linking_to_it_with_its_thumbnail():
    event = EventFactory()
    write_media(
        event,
        [
            link_row(
                "https://www.osce.org/permanent-council",
                kind=MediaKind.PAGE,
                title="Permanent Council",
                outlet="OSCE",
                credit="OSCE",
                thumbnail_url="https://www.osce.org/preview.jpg",
            )
        ],
    )

    assert interchange.timeline_media(event) == {
        "url": "<blockquote>Permanent Council</blockquote>",
        "link": "https://www.osce.org/permanent-council",
        "link_target": "_blank",
        "thumbnail": "https://www.osce.org/preview.jpg",
        "credit": "OSCE",
    }


def test_a_document_is_a_quotation_card_linking_to_its_pdf_on_the_site():
    from pypdf import PdfWriter

    writer, buffer = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=200, height=200)
    writer.write(buffer)
    upload = store_upload(SimpleUploadedFile("s.pdf", buffer.getvalue(), "application/pdf"), MediaKind.DOCUMENT)
    event = EventFactory()
    write_media(event, [MediaRow(kind=MediaKind.DOCUMENT, upload=upload, title="Joint statement", credit="Elysée")])

    media = interchange.timeline_media(event)

    assert media == {
        "url": "<blockquote>Joint statement</blockquote>",
        "link": SITE + event.media.get().document.url,
        "link_target": "_blank",
        "credit": "Elysée",
    }
    assert media["link"].endswith(".pdf")


def test_an_event_without_media_has_no_media_key_even_with_sources(client):
    from tests.factories import SourceFactory

    story = StoryFactory()
    event = EventFactory(story=story)
    SourceFactory(event=event, url="https://img.example.org/kremlin.jpg", outlet="AFP")

    assert "media" not in slides(client, story)[event.slug]


def test_the_export_reads_the_media_of_many_events_in_one_query(client, django_assert_max_num_queries):
    story = StoryFactory()
    for n in range(8):
        event = EventFactory(story=story)
        rows = [link_row(f"https://vimeo.com/{100000 + n}", caption=f"Clip {n}"), image_row()]
        write_media(event, rows if n % 2 else rows[::-1])
    EventFactory(story=story)  # and one without

    # The validator and the events with their lead items (plus the session and cache's own reads).
    with django_assert_max_num_queries(4):
        data = client.get(reverse("events:story_timeline", args=[story.slug])).json()

    with_media = [slide for slide in data["events"] if "media" in slide]
    assert len(with_media) == 8
    assert sum("alt" in slide["media"] for slide in with_media) == 4  # the image leads every other one


def test_a_feed_entry_shows_the_lead_picture_with_its_alt_text():
    event = EventFactory()
    write_media(event, [image_row()])
    event = Event.objects.select_related("lead_image", "place").get(pk=event.pk)

    html = interchange.entry_html(event)

    assert f'src="{SITE}{event.lead_image.thumbnail_medium.url}"' in html
    assert 'alt="Two men at a long white table"' in html
    assert "<figcaption>The long table — Story Tracker</figcaption>" in html


# --- In: the import's Media columns ---------------------------------------------------------------


def csv_text(*rows: dict[str, str]) -> str:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value

    lines = [HEADER] + [",".join(cell(row.get(column, "")) for column in imports.COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"


TWEET = (
    '<blockquote class="twitter-tweet"><p lang="en">Talks in the Kremlin go on.</p>&mdash; A reporter '
    '(@reporter) <a href="https://twitter.com/reporter/status/1490700000000000000?ref_src=twsrc">February 7, '
    '2022</a></blockquote><script async src="https://platform.twitter.com/widgets.js"></script>'
)
ROWS = (
    {
        "Year": "2022", "Month": "2", "Day": "7", "Headline": "Talks in Moscow",
        "Media": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "Media Credit": '<a href="https://x.org">Elysée</a>',
        "Media Caption": "The press <i>conference</i>", "Media Thumbnail": "https://img.example.org/thumb.jpg",
    },
    {
        "Year": "2022", "Month": "2", "Day": "8", "Headline": "Photo elsewhere",
        "Media": "https://upload.wikimedia.org/wikipedia/commons/a/ab/Kyiv.jpg", "Media Credit": "Wikimedia",
    },
    {"Year": "2022", "Month": "2", "Day": "9", "Headline": "A post", "Media": TWEET, "Media Credit": "A reporter"},
    {"Year": "2022", "Month": "2", "Day": "10", "Headline": "No media"},
)  # fmt: skip


def media_of(slug: str) -> dict[str, tuple]:
    return {
        item.event.title: (item.kind, item.url, item.outlet, item.title, item.caption, item.credit, item.thumbnail_url)
        for item in MediaItem.objects.filter(event__story__slug=slug).select_related("event")
    }


def test_csv_media_columns_become_link_items_of_the_right_kind():
    timeline = imports.read_timeline(csv_text(*ROWS).encode(), "talks.csv")
    assert timeline.errors == []

    import_timeline(timeline=timeline, story_slug="talks")

    media = media_of("talks")
    assert media["Talks in Moscow"] == (
        MediaKind.VIDEO,
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "youtube.com",
        "",
        "The press conference",
        "Elysée",
        "https://img.example.org/thumb.jpg",
    )
    # A picture elsewhere is a page card: never hotlinked, never an image of ours.
    assert media["Photo elsewhere"][:3] == (MediaKind.PAGE, timeline.events[1].media.url, "upload.wikimedia.org")
    kind, url, outlet, title, _caption, credit, _thumbnail = media["A post"]
    assert (kind, outlet, credit) == (MediaKind.SOCIAL, "twitter.com", "A reporter")
    assert url == "https://twitter.com/reporter/status/1490700000000000000?ref_src=twsrc"
    assert title.startswith("Talks in the Kremlin go on.")
    assert "No media" not in media
    assert not Event.objects.filter(story__slug="talks", lead_image__isnull=False).exists()


def test_json_media_become_link_items_with_credit_caption_and_thumbnail():
    document = {
        "events": [
            {
                "start_date": {"year": 2022, "month": 2, "day": 7},
                "text": {"headline": "Talks in Moscow"},
                "media": {
                    "url": "https://soundcloud.com/elysee/talks",
                    "caption": "The <b>briefing</b>",
                    "credit": "Elysée",
                    "thumbnail": "https://img.example.org/t.jpg",
                    "title": "Briefing",
                },
            }
        ]
    }
    timeline = imports.read_timeline(json.dumps(document).encode(), "talks.json")

    import_timeline(timeline=timeline, story_slug="talks")

    assert media_of("talks")["Talks in Moscow"] == (
        MediaKind.AUDIO,
        "https://soundcloud.com/elysee/talks",
        "soundcloud.com",
        "Briefing",
        "The briefing",
        "Elysée",
        "https://img.example.org/t.jpg",
    )


@pytest.mark.parametrize("thumbnail", ["thumb.jpg", "ftp://example.org/t.jpg", "javascript:alert(1)"])
def test_a_thumbnail_that_is_not_a_web_address_refuses_the_row_and_nothing_is_imported(thumbnail):
    rows = [ROWS[0] | {"Media Thumbnail": thumbnail}, ROWS[3]]
    timeline = imports.read_timeline(csv_text(*rows).encode(), "talks.csv")

    assert [(error.line, error.reason) for error in timeline.errors] == [
        (2, f"Media Thumbnail “{thumbnail}” is not a web address (http or https)")
    ]
    assert MediaItem.objects.count() == 0 and not Event.objects.exists()


def test_importing_the_same_file_twice_adds_no_media():
    data = csv_text(*ROWS).encode()
    import_timeline(timeline=imports.read_timeline(data, "talks.csv"), story_slug="talks")
    before = sorted(MediaItem.objects.values_list("pk", "event_id", "url"))

    result = import_timeline(timeline=imports.read_timeline(data, "talks.csv"), story_slug="talks")

    assert (result.created, result.unchanged) == (0, 4)
    assert sorted(MediaItem.objects.values_list("pk", "event_id", "url")) == before


def test_a_storys_export_imported_again_gives_back_its_link_media():
    story = StoryFactory(slug="original")
    cases = [
        link_row("https://vimeo.com/123456", title="A clip", outlet="vimeo.com", caption="Kremlin", credit="Elysée"),
        link_row(
            "https://news.example.org/talks",
            kind=MediaKind.PAGE,
            title="Marathon talks",
            outlet="news.example.org",
            credit="Reuters",
            thumbnail_url="https://news.example.org/t.jpg",
        ),
        link_row("https://twitter.com/reporter/status/1", kind=MediaKind.SOCIAL, title="A post", outlet="twitter.com"),
    ]
    for n, row in enumerate(cases):
        event = EventFactory(story=story, title=f"Development {n}")
        write_media(event, [row])
    exported = interchange.story_timeline(story, interchange.timeline_events(story))

    import_timeline(timeline=imports.read_timeline(json.dumps(exported).encode(), "t.json"), story_slug="copy")

    assert media_of("copy") == media_of("original")


def test_the_import_preview_shows_each_rows_media_kind_outlet_and_credit(editor_client):
    upload = SimpleUploadedFile("talks.csv", csv_text(*ROWS).encode())

    html = editor_client.post("/desk/imports/", {"file": upload, "new_story": "talks"}).content.decode()

    assert 'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"' in html
    assert "Video · youtube.com · credit: Elysée" in html
    assert "Social-media post · twitter.com" in html
    assert "Web page · upload.wikimedia.org" in html


# --- The API --------------------------------------------------------------------------------------


def test_the_api_gives_an_events_media_with_absolute_addresses_and_thumbnails(client):
    event = EventFactory()
    write_media(event, [image_row(), link_row("https://vimeo.com/123456", caption="A clip")])
    item = event.media.get(kind=MediaKind.IMAGE)

    image, clip = client.get(f"/api/events/{event.slug}").json()["media"]

    assert image["kind"] == "image" and image["url"] == SITE + item.image.url
    assert (image["width"], image["height"], image["alt_text"]) == (1200, 800, "Two men at a long white table")
    assert [t["width"] for t in image["thumbnails"]] == [480, 960, 1200]
    assert image["thumbnails"][0]["url"] == SITE + item.thumbnail_small.url
    assert clip | {"thumbnails": []} == {
        "kind": "video",
        "url": "https://vimeo.com/123456",
        "title": "",
        "outlet": "",
        "caption": "A clip",
        "credit": "",
        "alt_text": "",
        "taken_on": None,
        "width": None,
        "height": None,
        "thumbnails": [],
        "thumbnail_url": "",
    }
