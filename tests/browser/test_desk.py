"""An editor in Chromium: log in, log developments, raise and fulfil an expectation, as readers then see."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from playwright.sync_api import expect

from events.models import Event, Expectation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(db):
    call_command("load_demo_story", verbosity=0)


def _log_in(page, live_server, next_path: str = "/desk/") -> None:
    page.goto(live_server.url + next_path)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("tracker-demo")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    expect(page).to_have_url(live_server.url + next_path)


def _pick(page, label: str, value: str, *, nth: int = 0) -> None:
    page.get_by_label(re.compile(f"^{label}")).nth(nth).select_option(label=value)


def _fill_development(page, *, title: str, date: str, time: str) -> None:
    _pick(page, "Story", "Ukraine crisis diplomacy")
    page.get_by_label(re.compile("^Title")).fill(title)
    _pick(page, "Kind", "Meeting")
    page.get_by_label(re.compile("^Date")).fill(date)
    page.get_by_label(re.compile("^Time$")).fill(time)
    _pick(page, "Precision", "Exact time")
    page.get_by_label("Time zone").fill("Europe/Berlin")


def _shot(page, name: str, tmp_path: Path) -> None:
    folder = Path(django_settings.BASE_DIR) / "docs" / "img" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    page.screenshot(path=str(folder / name), full_page=False)


def test_an_editor_logs_developments_raises_an_expectation_and_fulfils_it(page, live_server, demo, tmp_path):
    _log_in(page, live_server)
    expect(page.get_by_role("heading", name="Overdue: waiting for a decision")).to_be_visible()
    _shot(page, "desk-home.png", tmp_path)

    page.get_by_role("link", name="Log a development").first.click()
    _fill_development(page, title="Scholz and Macron talk to Putin together", date="2022-02-14", time="11:30")
    page.get_by_label(re.compile("^Summary")).fill("A *joint* call about the **Minsk** agreements.")
    expect(page.locator("#summary-preview strong")).to_have_text("Minsk")
    # Two participants: the second row comes from "Add a participant" (htmx), without a reload.
    page.get_by_label(re.compile("^Actor")).nth(0).fill("Macron")
    page.get_by_label(re.compile("^Role")).nth(0).select_option("guest")
    page.get_by_label(re.compile("^Actor")).nth(1).fill("Vladimir Putin")
    page.get_by_label(re.compile("^Role")).nth(1).select_option("host")
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Add a participant").click()
    expect(page.get_by_label(re.compile("^Actor"))).to_have_count(3)
    assert page.evaluate("window.__sameDocument") is True
    page.get_by_label(re.compile("^Actor")).nth(2).fill("Olaf Scholz")
    page.get_by_label(re.compile("^Type, if new")).nth(2).select_option("person")
    page.get_by_label(re.compile("^Source URL")).fill("https://www.lemonde.fr/international/article/2022/02/14/")
    page.get_by_label("Point discussed").fill("The Minsk agreements")
    page.get_by_label("First side", exact=True).fill("Emmanuel Macron")
    page.get_by_label("First side's position").fill("Wants them carried out in full.")
    page.get_by_label("Second side", exact=True).fill("Vladimir Putin")
    page.get_by_label("Second side's position").fill("Blames Kyiv for the delay.")
    page.get_by_label("Expected next", exact=True).fill("Scholz travels to Moscow")
    page.get_by_label("Due date").fill("2022-02-15")
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, "desk-log-a-development.png", tmp_path)
    page.get_by_role("button", name="Publish", exact=True).click()

    expect(page.locator(".message--success")).to_contain_text("Published")
    event = Event.objects.get(title="Scholz and Macron talk to Putin together")
    expect(page).to_have_url(live_server.url + f"/desk/events/{event.slug}/")
    assert event.participations.count() == 3 and event.sources.count() == 1
    assert event.discussion_points.get().positions.count() == 2
    expectation = Expectation.objects.get(title="Scholz travels to Moscow")

    page.goto(live_server.url + event.story.get_absolute_url())
    expect(page.locator(f'#timeline [data-event-id="{event.pk}"]')).to_contain_text(event.title)

    # A later event fulfils it.
    page.goto(live_server.url + "/desk/events/new/")
    _fill_development(page, title="Scholz meets Putin in the Kremlin", date="2022-02-15", time="13:00")
    page.get_by_label(re.compile("^Actor")).nth(0).fill("Olaf Scholz")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".message--success")).to_contain_text("Published")
    later = Event.objects.get(title="Scholz meets Putin in the Kremlin")

    page.goto(live_server.url + "/desk/")
    page.get_by_role("link", name="Scholz travels to Moscow").first.click()
    expect(page).to_have_url(live_server.url + f"/desk/expectations/{expectation.pk}/")
    for button in ("Fulfil", "Extend", "Cancel"):
        expect(page.get_by_role("button", name=button, exact=True)).to_be_visible()
    page.get_by_label("Find the event").fill("Kremlin")
    page.get_by_label(re.compile("Scholz meets Putin in the Kremlin")).check()
    page.get_by_role("button", name="Fulfil", exact=True).click()
    expect(page.locator(".message--success")).to_be_visible()
    expectation.refresh_from_db()
    assert (expectation.status, expectation.fulfilled_by_id) == ("fulfilled", later.pk)

    page.goto(live_server.url + event.get_absolute_url())
    raised = page.locator(".expectation", has_text="Scholz travels to Moscow")
    expect(raised.locator(".badge--fulfilled")).to_have_text("Fulfilled")
    expect(raised).to_contain_text("Fulfilled by Scholz meets Putin in the Kremlin")
    assert page.js_errors == []


def test_the_main_form_works_with_the_keyboard_alone(page, live_server, demo):
    _log_in(page, live_server, "/desk/events/new/")
    page.get_by_label(re.compile("^Story")).focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("Typed without a mouse")
    assert page.evaluate("document.activeElement.name") == "title"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "date"
    page.keyboard.type("14022022")
    # Enter in a field saves the draft (not "Add a participant", the form's first visible button).
    page.keyboard.press("Enter")
    expect(page.locator(".message--success")).to_contain_text("Saved “Typed without a mouse” as a draft")
    assert page.js_errors == []


def test_a_refused_form_says_what_to_fix_and_keeps_the_input_in_the_browser(page, live_server, demo):
    _log_in(page, live_server, "/desk/events/new/")
    page.get_by_label(re.compile("^Title")).fill("Missing its date")
    page.get_by_label(re.compile("^Actor")).nth(0).fill("Nobody we know")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#id_date_error")).to_contain_text("required")
    expect(page.get_by_label(re.compile("^Title"))).to_have_value("Missing its date")
    expect(page.locator(".row--participants").first).to_contain_text("No actor is called “Nobody we know” yet")
    assert not Event.objects.filter(title="Missing its date").exists()
