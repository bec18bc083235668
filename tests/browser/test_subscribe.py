"""A reader in Chromium follows the demo story by email: signs up from the story page, finds the
confirmation in the mail folder, confirms, changes to Weekly, unsubscribes."""

import email
import re
from email import policy
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from events import demo_story
from events.models import Story, Subscriber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mail_folder(tmp_path: Path, settings, live_server) -> Path:
    """The demo's one-file-per-message mail, where the test runner put locmem; links to the live server."""
    settings.MAILERS = {
        "default": {"BACKEND": "events.mail.OneFilePerMessageBackend", "OPTIONS": {"file_path": str(tmp_path)}}
    }
    settings.SITE_URL = live_server.url
    return tmp_path


def messages_in(folder: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(folder.glob("*.eml"))]


def test_a_reader_subscribes_to_the_demo_story_confirms_changes_to_weekly_and_unsubscribes(
    page, live_server, mail_folder
):
    call_command("load_demo_story", verbosity=0)
    story = Story.objects.get(slug=demo_story.STORY["slug"])

    page.goto(live_server.url + story.get_absolute_url())
    page.get_by_role("link", name="Follow this story").click()
    expect(page.get_by_role("checkbox", name=story.title)).to_be_checked()
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("radio", name="Immediately").check()
    page.get_by_role("button", name="Subscribe").click()

    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.frequency, subscriber.confirmed_at) == (
        "reader@example.org",
        "immediate",
        None,
    )
    assert list(subscriber.stories.all()) == [story]
    (message,) = messages_in(mail_folder)
    assert message["To"] == "reader@example.org" and message["List-Unsubscribe"] is None
    confirm_url = re.search(r"http://\S+/subscribe/confirm/\S+/", message.get_body(("plain",)).get_content())[0]

    page.goto(confirm_url)
    expect(page.get_by_text(story.title)).to_be_visible()
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is None  # opening the link confirms nothing
    page.get_by_role("button", name="Confirm my subscription").click()

    expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible()
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is not None and subscriber.last_digest_at == subscriber.confirmed_at
    assert len(messages_in(mail_folder)) == 1  # confirming sends nothing

    page.get_by_role("link", name="Your preferences").click()
    expect(page.get_by_role("radio", name="Immediately")).to_be_checked()
    page.get_by_role("radio", name="Weekly").check()
    page.get_by_role("button", name="Save preferences").click()

    expect(page.get_by_text("Your preferences are saved.")).to_be_visible()
    expect(page.get_by_role("radio", name="Weekly")).to_be_checked()
    subscriber.refresh_from_db()
    assert subscriber.frequency == "weekly" and list(subscriber.stories.all()) == [story]

    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None
    assert not Subscriber.objects.confirmed().exists()
    assert len(messages_in(mail_folder)) == 1  # no farewell
    assert page.js_errors == []


def test_a_refused_sign_up_keeps_what_was_typed_and_says_what_is_missing(page, live_server, mail_folder):
    call_command("load_demo_story", verbosity=0)

    page.goto(live_server.url + "/subscribe/")
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Subscribe").click()

    expect(
        page.get_by_text("Choose at least one story, topic, person, country or organisation to follow.")
    ).to_be_visible()
    expect(page.get_by_label("Email address")).to_have_value("reader@example.org")
    assert not Subscriber.objects.exists() and messages_in(mail_folder) == []
    # Chromium logs the page's own 400 on the console; nothing else may be there.
    assert [error for error in page.js_errors if "status of 400" not in error] == []
