"""Media in Chromium: an editor adds a photo, readers see it on the timeline and the event page with no
CSP violation and no layout shift; a video plays in place only when the reader asks."""

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from events.media.uploads import store_upload
from events.models import Event
from events.services.media import MediaRow, write_media
from tests.factories import EventFactory, StoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Registered before any of the page's own scripts: every CSP violation, and the page's layout shifts
# (those not caused by the reader's own input, as Core Web Vitals' CLS counts them).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.effectiveDirective + " " + e.blockedURI);
});
window.__cls = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__cls += entry.value;
}).observe({ type: "layout-shift", buffered: true });
"""


def _watched(page):
    page.add_init_script(WATCH)
    return page


def _no_shift_and_no_violation(page) -> None:
    assert page.evaluate("PerformanceObserver.supportedEntryTypes.includes('layout-shift')")
    assert page.evaluate("window.__csp") == []
    assert page.evaluate("window.__cls") < 0.01


def _loaded(image) -> None:
    """Bring a (lazy) picture into view and wait until the browser has decoded it."""
    image.scroll_into_view_if_needed()
    image.evaluate("img => img.decode()")
    assert image.evaluate("img => img.complete && img.naturalWidth") > 0


def _photo_file(tmp_path) -> str:
    image = Image.new("RGB", (1600, 1000), (214, 226, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 300, 1400, 700), fill=(11, 79, 156))
    draw.ellipse((700, 150, 900, 350), fill=(164, 22, 26))
    path = tmp_path / "long-table.jpg"
    image.save(path, "JPEG", quality=85)
    return str(path)


@pytest.fixture
def demo(db):
    call_command("load_demo_story", verbosity=0)


def test_an_editor_adds_a_photo_and_a_reader_sees_it_on_the_timeline_and_the_event_page(
    page, browser, live_server, demo, tmp_path
):
    editor = _watched(page)
    editor.goto(live_server.url + "/desk/events/new/")
    editor.get_by_label("Username").fill("editor")
    editor.get_by_label("Password").fill("tracker-demo")
    editor.get_by_role("button", name=re.compile("log in", re.I)).click()
    expect(editor).to_have_url(live_server.url + "/desk/events/new/")

    editor.get_by_label(re.compile("^Story")).select_option(label="Ukraine crisis diplomacy")
    editor.get_by_label(re.compile("^Title")).first.fill("Macron and Putin at the long table")
    editor.get_by_label(re.compile("^Kind")).first.select_option(label="Meeting")
    editor.get_by_label(re.compile("^Date")).fill("2022-03-01")
    editor.get_by_label(re.compile("^Time$")).fill("15:00")
    editor.get_by_label(re.compile("^Precision")).select_option(label="Exact time")
    editor.get_by_label("Time zone").fill("Europe/Moscow")
    editor.get_by_label(re.compile("^Summary")).fill("Five hours of talks across a six-metre table.")

    media = editor.get_by_role("group", name="Photos, video and documents")
    media.get_by_role("button", name="Add a media item").click()
    row = media.get_by_role("group", name="Media item 1")
    row.get_by_label(re.compile("^Kind of media")).select_option(label="Photo or picture")
    row.get_by_label(re.compile("^File")).set_input_files(_photo_file(tmp_path))
    row.get_by_label(re.compile("^Caption")).fill("Emmanuel Macron and Vladimir Putin in the Kremlin.")
    row.get_by_label(re.compile("^Credit")).fill("Project illustration")
    row.get_by_label(re.compile("^Alt text")).fill("Two men at either end of a very long white table")
    row.get_by_label(re.compile("^Taken or published on")).fill("2022-03-01")
    editor.get_by_role("button", name="Publish", exact=True).click()
    expect(editor.locator(".message--success")).to_contain_text("Published")
    event = Event.objects.get(title="Macron and Putin at the long table")
    assert event.lead_image is not None and event.lead_image.credit == "Project illustration"
    assert editor.evaluate("window.__csp") == []

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        reader = _watched(context.new_page())
        errors: list[str] = []
        reader.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

        reader.goto(live_server.url + event.story.get_absolute_url())
        card = reader.locator(f'#timeline article[data-event-id="{event.pk}"]')
        picture = card.locator(".event-card__picture img")
        expect(picture).to_have_attribute("alt", "Two men at either end of a very long white table")
        expect(picture).to_have_attribute("loading", "lazy")
        _loaded(picture)
        expect(card.locator("figcaption")).to_contain_text("Photo: Project illustration")
        _no_shift_and_no_violation(reader)

        reader.goto(live_server.url + event.get_absolute_url())
        figure = reader.locator("figure.media--image")
        _loaded(figure.locator("img"))
        expect(figure.locator("figcaption")).to_contain_text("Emmanuel Macron and Vladimir Putin in the Kremlin.")
        expect(figure.locator("figcaption")).to_contain_text("Photo: Project illustration")
        expect(figure.locator("figcaption time")).to_have_text("1 March 2022")
        image = reader.locator('meta[property="og:image"]').get_attribute("content")
        assert image.startswith(("http://", "https://"))
        _no_shift_and_no_violation(reader)
        assert errors == []
    finally:
        context.close()
    assert page.js_errors == []


def _photo_row() -> MediaRow:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (40, 90, 160)).save(buffer, "JPEG")
    upload = SimpleUploadedFile("scene.jpg", buffer.getvalue(), content_type="image/jpeg")
    return MediaRow(
        kind="image", upload=store_upload(upload, "image"), caption="A scene", credit="Agency", alt_text="A scene"
    )


@pytest.fixture
def video_event():
    event = EventFactory(
        story=StoryFactory(slug="talks"),
        slug="press-conference",
        start=datetime.datetime(2022, 2, 7, 20, tzinfo=datetime.UTC),
    )
    write_media(
        event,
        [
            _photo_row(),
            MediaRow(kind="video", url="https://www.youtube.com/watch?v=dQw4w9WgXcQ", title="The press conference"),
        ],
    )
    return event


def test_pressing_play_puts_the_nocookie_player_in_place_of_the_button_within_the_csp(page, live_server, video_event):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    # No internet here: the player's address answers with a stand-in, so the frame really loads
    # (a CSP refusal would stop it before any request).
    page.route(
        "https://www.youtube-nocookie.com/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>The player</p>"),
    )
    _watched(page).goto(live_server.url + video_event.get_absolute_url())
    _loaded(page.locator("figure.media--image img"))
    assert all(url.startswith(live_server.url) for url in requested), requested

    holder = page.locator(".media-player")
    expect(holder.locator("iframe")).to_have_count(0)
    holder.get_by_role("button", name="Play the video here (loads YouTube)").click()
    frame = holder.locator("iframe")
    expect(frame).to_have_attribute("src", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ")
    expect(frame).to_have_attribute("sandbox", "allow-scripts allow-same-origin allow-presentation")
    expect(frame).to_have_attribute("title", "The press conference")
    expect(page.frame_locator(".media-player iframe").locator("p")).to_have_text("The player")
    expect(holder.get_by_role("button")).to_have_count(0)
    _no_shift_and_no_violation(page)
    assert page.js_errors == []
