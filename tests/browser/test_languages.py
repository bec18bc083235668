"""A French reader in Chromium: the page comes in French, the switcher takes it to Ukrainian and back,
and the live notice and the list's announcements speak the page's language. Also takes the README's
French and Ukrainian screenshots (`make screenshots`)."""

import datetime
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation.trans_real import DjangoTranslation
from playwright.sync_api import expect

from events.services import publish_event
from tests.factories import EventFactory, StoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def said(language: str, singular: str, plural: str | None = None, count: int = 1) -> str:
    with translation.override(language):
        text = ngettext(singular, plural, count) % {"count": count} if plural else gettext(singular)
    assert text != (singular % {"count": count} if plural else singular), f"not translated into {language}"
    return text


@pytest.fixture
def story():
    story = StoryFactory(slug="talks", title="Talks over Ukraine", language="en-gb")
    for n, kind in enumerate(["meeting", "call", "statement"]):
        EventFactory(
            story=story, kind=kind, title=f"Talks {n}", start=datetime.datetime(2022, 2, 1 + n, 12, tzinfo=datetime.UTC)
        )
    return story


def test_a_french_reader_gets_french_switches_to_ukrainian_and_back(browser, live_server, story, settings):
    settings.LIVE_NOTICE_POLL_SECONDS = 1
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(live_server.url + story.get_absolute_url())

        # Accept-Language: fr-FR sends the reader from the English address to the French one.
        assert page.url == f"{live_server.url}/fr/stories/talks/"
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.locator("#timeline-heading")).to_have_text(said("fr", "Timeline"))
        expect(page.locator("h1")).to_have_attribute("lang", "en-gb")  # the story is written in English

        # The switcher: Ukrainian, kept for the next visit, then French again.
        page.get_by_role("link", name="Українська").click()
        page.wait_for_url(f"{live_server.url}/uk/stories/talks/")
        expect(page.locator("html")).to_have_attribute("lang", "uk")
        expect(page.locator("#timeline-heading")).to_have_text(said("uk", "Timeline"))
        page.goto(live_server.url + story.get_absolute_url())
        assert page.url == f"{live_server.url}/uk/stories/talks/", "the choice outranks the browser's French"
        page.get_by_role("link", name="Français").click()
        page.wait_for_url(f"{live_server.url}/fr/stories/talks/")
        expect(page.locator("html")).to_have_attribute("lang", "fr")

        # A filter: the list's announcement for screen readers comes from the JavaScript catalog.
        page.locator("#id_kind").select_option("call")
        script = DjangoTranslation("fr", domain="djangojs")  # reader.js's catalog
        shown = script.ngettext("%(count)s event shown.", "%(count)s events shown.", 1) % {"count": 1}
        assert shown != "1 event shown."
        expect(page.locator("#timeline-status")).to_have_text(shown)
        page.goto(f"{live_server.url}/fr/stories/talks/")

        # The live notice, in French.
        draft = EventFactory(story=story, title="Macron arrives in Kyiv", publication="draft", published_at=None)
        publish_event(event=draft)
        notice = page.locator("#live-notice")
        expect(notice).to_contain_text(
            said("fr", "%(count)s new development", "%(count)s new developments", 1), timeout=15_000
        )
        notice.get_by_role("link", name=said("fr", "Show")).click()
        expect(page.locator("#timeline-days > li").first).to_contain_text("Macron arrives in Kyiv")
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("language", ["fr", "uk"])
def test_the_demo_story_in_french_and_ukrainian(browser, live_server, tmp_path, language):
    """The README's screenshots of the demo timeline in French and Ukrainian."""
    from django.core.management import call_command

    from events.models import Story

    call_command("load_demo_story", verbosity=0)
    story = Story.objects.order_by("id").first()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1, locale=language)
    try:
        page = context.new_page()
        page.goto(live_server.url + story.get_absolute_url())
        assert page.url.startswith(f"{live_server.url}/{language}/")
        expect(page.locator("#timeline article[data-event-id]").first).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", language)
        folder = Path(django_settings.BASE_DIR) / "docs" / "img" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"timeline-{language}.png"), full_page=False)
    finally:
        context.close()
