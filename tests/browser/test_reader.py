"""A reader in Chromium: filters, Back, endless scroll, the live notice, no JavaScript, the keyboard."""

import datetime
import itertools
import os
import re
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from events.services import publish_event
from tests.factories import (
    ActorFactory,
    EventFactory,
    ParticipationFactory,
    PlaceFactory,
    SourceFactory,
    StoryFactory,
    TopicFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CARDS = "#timeline article[data-event-id]"


def _ids(page) -> list[str]:
    return page.eval_on_selector_all(CARDS, "cards => cards.map(card => card.dataset.eventId)")


@pytest.fixture
def story():
    story = StoryFactory(slug="talks", title="Talks over Ukraine", summary="Diplomacy in **February 2022**.")
    macron = ActorFactory(name="Emmanuel Macron", slug="macron")
    moscow = PlaceFactory(name="Moscow", slug="moscow", time_zone="Europe/Moscow")
    topic = TopicFactory(name="Minsk agreements", slug="minsk")
    for n, kind in enumerate(["meeting", "call", "statement", "call", "meeting", "sanction"]):
        event = EventFactory(
            story=story,
            kind=kind,
            title=f"{kind.title()} {n}",
            place=moscow if n % 2 else None,
            start=datetime.datetime(2022, 2, 1 + n, 12, tzinfo=datetime.UTC),
        )
        ParticipationFactory(event=event, actor=macron, role="guest")
        event.topics.add(topic)
        SourceFactory(event=event, outlet="Le Monde")
    return story


def test_choosing_a_filter_swaps_the_list_pushes_the_url_and_back_restores_it(page, live_server, story):
    page.goto(live_server.url + story.get_absolute_url())
    expect(page.locator(CARDS)).to_have_count(6)
    page.evaluate("window.__sameDocument = true")

    page.select_option("#id_kind", "call")
    page.wait_for_url(re.compile(r"\?kind=call$"))
    expect(page.locator(CARDS)).to_have_count(2)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of swapping the list"

    page.go_back()
    page.wait_for_url(re.compile(r"/stories/talks/$"))
    expect(page.locator(CARDS)).to_have_count(6)
    assert page.input_value("#id_kind") == ""

    page.go_forward()
    page.wait_for_url(re.compile(r"\?kind=call$"))
    expect(page.locator(CARDS)).to_have_count(2)
    assert page.input_value("#id_kind") == "call"
    assert page.js_errors == []


def test_typing_a_search_updates_the_list(page, live_server, story):
    page.goto(live_server.url + story.get_absolute_url())
    page.fill("#id_q", "sanction")
    page.wait_for_url(re.compile(r"\?q=sanction$"))
    expect(page.locator(CARDS)).to_have_count(1)


def test_scrolling_loads_older_events_without_repeating_any(page, live_server, settings):
    settings.TIMELINE_PAGE_SIZE = 5
    story = StoryFactory(slug="long")
    same_time = datetime.datetime(2022, 2, 7, 12, tzinfo=datetime.UTC)
    for n in range(12):
        EventFactory(story=story, start=same_time if n < 6 else same_time - datetime.timedelta(days=n))
    page.goto(live_server.url + story.get_absolute_url())
    expect(page.locator(CARDS)).to_have_count(5)
    page.locator("#timeline a[rel=next]").scroll_into_view_if_needed()
    expect(page.locator(CARDS)).to_have_count(10)
    page.locator("#timeline a[rel=next]").scroll_into_view_if_needed()
    expect(page.locator(CARDS)).to_have_count(12)
    ids = _ids(page)
    assert len(set(ids)) == 12
    expect(page.locator("#timeline a[rel=next]")).to_have_count(0)
    assert page.url.endswith("/stories/long/")


def test_an_event_published_while_the_page_is_open_is_announced_and_shown_on_top(page, live_server, story, settings):
    settings.LIVE_NOTICE_POLL_SECONDS = 1
    page.goto(live_server.url + story.get_absolute_url())
    before = _ids(page)
    expect(page.locator("#live-notice")).to_have_attribute("aria-live", "polite")

    draft = EventFactory(
        story=story,
        title="Macron arrives in Kyiv",
        publication="draft",
        published_at=None,
        start=datetime.datetime(2022, 2, 3, 9, tzinfo=datetime.UTC),  # older than some events shown
    )
    publish_event(event=draft)

    notice = page.locator("#live-notice")
    expect(notice).to_contain_text("1 new development", timeout=15_000)
    assert _ids(page) == before, "the notice must not change the list by itself"

    notice.get_by_role("link", name="Show").click()
    expect(page.locator("#timeline-days > li").first).to_contain_text("Macron arrives in Kyiv")
    assert _ids(page) == [str(draft.pk), *before], "what the reader saw keeps its order below the new event"
    expect(notice).to_be_empty()
    assert page.js_errors == []


def test_the_notice_check_is_answered_304_while_nothing_changes(page, live_server, story, settings):
    settings.LIVE_NOTICE_POLL_SECONDS = 1
    statuses: list[int] = []
    page.on("response", lambda response: "/updates/" in response.url and statuses.append(response.status))
    page.goto(live_server.url + story.get_absolute_url())
    page.wait_for_timeout(2_500)
    assert statuses and set(statuses) == {304}


def test_the_notice_backs_off_after_failures(page, live_server, story, settings):
    settings.LIVE_NOTICE_POLL_SECONDS = 1
    moments: list[float] = []

    def fail(route):
        moments.append(time.monotonic())
        route.fulfill(status=503, body="down")

    page.route("**/updates/**", fail)
    page.goto(live_server.url + story.get_absolute_url())
    page.wait_for_timeout(9_000)
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    # 1 s normally; after failures 2 s, then 4 s (each within a jitter of +-25 %).
    assert len(gaps) >= 2, moments
    assert 1.4 < gaps[0] < 2.6
    assert 2.9 < gaps[1] < 5.1


def test_the_notice_checks_less_often_while_the_tab_is_hidden(page, live_server, story, settings):
    settings.LIVE_NOTICE_POLL_SECONDS = 1
    checks: list[str] = []
    page.on("request", lambda request: "/updates/" in request.url and checks.append(request.url))
    page.goto(live_server.url + story.get_absolute_url())
    page.wait_for_timeout(1_500)
    assert checks, "the notice checks every second while visible"
    page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
            Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    page.wait_for_timeout(1_200)  # a check already scheduled may still go out
    seen = len(checks)
    page.wait_for_timeout(4_000)
    assert len(checks) == seen, "a hidden tab waits 30 s or more between checks"


def test_the_timeline_works_with_javascript_disabled(browser, live_server, story, settings):
    settings.TIMELINE_PAGE_SIZE = 3
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + story.get_absolute_url())
        expect(page.locator(CARDS)).to_have_count(3)

        page.click("text=Older events")
        expect(page.locator(CARDS)).to_have_count(3)
        assert "after=" in page.url

        page.goto(live_server.url + story.get_absolute_url())
        page.select_option("#id_kind", "call")
        page.click("button:has-text('Apply filters')")
        page.wait_for_url(re.compile(r"kind=call"))
        expect(page.locator(CARDS)).to_have_count(2)

        page.click("#timeline article[data-event-id] h4 a >> nth=0")
        expect(page.locator("h1")).to_contain_text("Call")
    finally:
        context.close()


def test_keyboard_alone_reaches_every_filter_and_link_with_a_visible_focus(page, live_server, story):
    page.goto(live_server.url + story.get_absolute_url())
    wanted = set(
        page.eval_on_selector_all(
            "#filters input:not([type=hidden]), #filters select, #filters button, main a[href], header a[href]",
            "elements => elements.map(e => e.id || e.getAttribute('href') + '|' + e.textContent.trim())",
        )
    )
    reached: set[str] = set()
    invisible_focus: list[str] = []
    for _ in range(200):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
                const e = document.activeElement;
                if (!e || e === document.body) return null;
                const style = getComputedStyle(e);
                return {
                    key: e.id || e.getAttribute('href') + '|' + e.textContent.trim(),
                    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
                };
            }"""
        )
        if focused is None:
            continue
        if focused["key"] in reached and focused["key"] == "#main|Skip to content":
            break
        reached.add(focused["key"])
        if not focused["outline"]:
            invisible_focus.append(focused["key"])
    assert wanted <= reached, f"not reachable by keyboard: {wanted - reached}"
    assert invisible_focus == []


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 1000), ("phone", 390, 844)])
def test_the_demo_timeline_fits_the_screen_at_desktop_and_phone_width(
    browser, live_server, tmp_path, name, width, height
):
    """Also takes the README's screenshots: `make screenshots` writes them into docs/img/."""
    from django.core.management import call_command

    from events.models import Story

    call_command("load_demo_story", verbosity=0)
    story = Story.objects.order_by("id").first()
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(live_server.url + story.get_absolute_url())
        expect(page.locator(CARDS).first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
        folder = Path(django_settings.BASE_DIR) / "docs" / "img" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"timeline-{name}.png"), full_page=False)
    finally:
        context.close()
