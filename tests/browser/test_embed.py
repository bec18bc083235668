"""The embeddable timeline in a partner's article, in Chromium: framed where EMBED_ALLOWED_ORIGINS lists
the partner's site, refused by the browser everywhere else.

The "article" is a page served by a small local HTTP server: another origin than the live server's."""

import http.server
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils.html import escape
from playwright.sync_api import expect

from tests.factories import EventFactory, StoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class _Article(http.server.BaseHTTPRequestHandler):
    """/article.html?src=URL: a page with an <iframe> of URL."""

    def do_GET(self) -> None:
        source = parse_qs(urlsplit(self.path).query).get("src", [""])[0]
        body = f'<!doctype html><title>Article</title><iframe src="{escape(source)}" title="Timeline"></iframe>'
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture(scope="module")
def partner_site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Article)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def embed_url(live_server) -> str:
    story = StoryFactory(slug="talks")
    EventFactory.create_batch(3, story=story)
    return live_server.url + reverse("events:story_embed", args=[story.slug])


def test_a_listed_site_shows_the_embedded_timeline(page, settings, partner_site, embed_url):
    settings.EMBED_ALLOWED_ORIGINS = [partner_site]

    page.goto(f"{partner_site}/article.html?src={embed_url}")

    expect(page.frame_locator("iframe").locator("[data-event-id]")).to_have_count(3)
    assert page.js_errors == []


def test_a_site_not_listed_is_refused_by_the_browser(page, settings, partner_site, embed_url):
    settings.EMBED_ALLOWED_ORIGINS = ["https://news.example.org"]

    page.goto(f"{partner_site}/article.html?src={embed_url}")
    page.wait_for_load_state("load")

    expect(page.frame_locator("iframe").locator("[data-event-id]")).to_have_count(0)
    assert any("frame-ancestors" in error for error in page.js_errors), page.js_errors
