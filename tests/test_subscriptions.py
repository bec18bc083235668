"""Subscribing: sign up at /subscribe/, confirm by the emailed link (double opt-in), change preferences,
unsubscribe by one click (RFC 8058), all without an account.

Mail goes to Django's test mailer (`mailoutbox`); mail is sent after the transaction commits, so each
request that sends runs its commit callbacks (`send` below), as a real request's commit would.
"""

import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events import tokens
from events.forms import subscriptions as subscription_forms
from events.models import Subscriber
from events.services import subscriptions
from events.services.base import ApplicationError
from tests.factories import ActorFactory, ParticipationFactory, StoryFactory, SubscriberFactory, TopicFactory

SIGN_UP = "/subscribe/"
ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def story(db):
    return StoryFactory(title="Talks with Putin in Moscow", slug="moscow-talks")


@pytest.fixture
def topic(db):
    return TopicFactory(name="Minsk agreements")


@pytest.fixture
def actor(db):
    return ActorFactory(name="Emmanuel Macron")


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    """POST as a visitor and run what the request's commit would run (sending its mail)."""

    def post(url: str, data: dict | None = None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {}, **extra)

    return post


@pytest.fixture
def sign_up(send, story):
    def sign_up(email: str = "reader@example.org", **fields):
        data = {"email": email, "stories": [story.pk], "frequency": "daily", **fields}
        return send(SIGN_UP, {name: value for name, value in data.items() if value is not None})

    return sign_up


def link(purpose: str, subscriber: Subscriber) -> str:
    """The path of a link of an email: purpose is confirm, manage or unsubscribe."""
    return reverse(f"subscribe:{purpose}", args=[tokens.make_token(subscriber, purpose)])


def page_text(response, *, without: str = "") -> str:
    """The page as a reader compares it: its nonces (new on each response) and `without` left out."""
    html = response.content.decode()
    return re.sub(r'nonce="[^"]*"', "", html.replace(without, "ADDRESS"))


def links_in(body: str) -> list[str]:
    return re.findall(r"https?://\S+", body)


# --- The sign-up page -----------------------------------------------------------------------------


def test_the_sign_up_page_offers_stories_topics_actors_and_the_three_frequencies(client, story, topic, actor):
    response = client.get(SIGN_UP)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'type="email"' in html
    assert story.title in html and topic.name in html and actor.name in html
    for label in ("Immediately", "Daily", "Weekly"):
        assert re.search(rf'<label[^>]*><input type="radio" name="frequency"[^>]*>\s*{label}\s*</label>', html)


def test_the_story_in_the_query_is_preselected(client, story):
    other = StoryFactory(title="Another story")

    html = client.get(SIGN_UP, {"story": story.slug}).content.decode()

    assert re.search(rf'<input type="checkbox" name="stories" value="{story.pk}"[^>]*checked', html)
    assert not re.search(rf'<input type="checkbox" name="stories" value="{other.pk}"[^>]*checked', html)


def test_an_unknown_story_in_the_query_preselects_nothing(client, story):
    response = client.get(SIGN_UP, {"story": "no-such-story"})

    assert response.status_code == 200
    assert not re.search(r'name="stories"[^>]*checked', response.content.decode())


def test_the_story_page_links_to_following_that_story(client, story):
    html = client.get(story.get_absolute_url()).content.decode()

    assert f'href="/subscribe/?story={story.slug}"' in html
    assert "Follow this story" in html


def test_the_sign_up_page_offers_a_bounded_choice_whatever_the_number_of_actors_and_topics(
    client, story, django_assert_max_num_queries
):
    ActorFactory.create_batch(subscription_forms.ACTOR_LIMIT + 40)
    TopicFactory.create_batch(subscription_forms.TOPIC_LIMIT + 20)

    with django_assert_max_num_queries(8):
        html = client.get(SIGN_UP).content.decode()

    assert html.count('name="actors"') == subscription_forms.ACTOR_LIMIT
    assert html.count('name="topics"') == subscription_forms.TOPIC_LIMIT


# --- Signing up -----------------------------------------------------------------------------------


def test_signing_up_makes_an_unconfirmed_subscriber_and_sends_only_the_confirmation(sign_up, story, mailoutbox):
    response = sign_up("reader@example.org")

    assert response.status_code == 200
    assert "Check your inbox: we sent a link to reader@example.org" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.confirmed_at is None and subscriber.last_digest_at is None
    assert list(subscriber.stories.all()) == [story]
    (message,) = mailoutbox
    assert message.to == ["reader@example.org"]
    assert message.subject == "Confirm your subscription to Story Tracker"
    assert "List-Unsubscribe" not in message.extra_headers
    assert "List-Unsubscribe-Post" not in message.extra_headers
    assert "List-Unsubscribe" not in message.message()
    (confirm_url,) = links_in(message.body)
    assert confirm_url.startswith(f"{django_settings.SITE_URL}/subscribe/confirm/")
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'href="{confirm_url}"' in html
    assert "<img" not in html and "<link" not in html and "<style" not in html


def test_nothing_is_sent_before_the_confirmation(sign_up):
    sign_up()

    assert not Subscriber.objects.confirmed().exists()


def test_the_address_is_kept_with_its_domain_lower_cased(sign_up):
    sign_up("  Reader.Name@Example.ORG ")

    assert Subscriber.objects.get().email == "Reader.Name@example.org"


def test_the_same_address_in_another_case_is_the_same_subscriber(sign_up):
    sign_up("reader@example.org")
    sign_up("READER@EXAMPLE.ORG")

    assert Subscriber.objects.count() == 1


def test_the_page_answers_the_same_whether_the_address_is_new_unconfirmed_confirmed_or_unsubscribed(sign_up):
    SubscriberFactory(email="waiting@example.org", confirmed_at=None)
    SubscriberFactory(email="known@example.org")
    SubscriberFactory(email="gone@example.org", unsubscribed_at=timezone.now())

    answers = {
        email: sign_up(email)
        for email in ("new@example.org", "waiting@example.org", "known@example.org", "gone@example.org")
    }

    assert {response.status_code for response in answers.values()} == {200}
    assert len({page_text(response, without=email) for email, response in answers.items()}) == 1


def test_signing_up_an_unconfirmed_address_again_replaces_its_choices_and_withdraws_the_first_link(
    sign_up, story, topic, mailoutbox
):
    sign_up("reader@example.org")
    first_link = urlsplit(links_in(mailoutbox[0].body)[0]).path

    sign_up("reader@example.org", stories=None, topics=[topic.pk], frequency="weekly")

    subscriber = Subscriber.objects.get()
    assert (list(subscriber.stories.all()), list(subscriber.topics.all())) == ([], [topic])
    assert subscriber.frequency == "weekly" and subscriber.confirmed_at is None
    assert len(mailoutbox) == 2 and mailoutbox[1].subject == "Confirm your subscription to Story Tracker"
    assert Client().get(first_link).status_code == 400
    assert Client().get(urlsplit(links_in(mailoutbox[1].body)[0]).path).status_code == 200


def test_signing_up_a_confirmed_address_changes_nothing_and_tells_its_owner(sign_up, story, topic, mailoutbox):
    subscriber = SubscriberFactory(email="known@example.org", frequency="weekly")
    subscriber.stories.add(story)
    before = Subscriber.objects.values().get()

    sign_up("known@example.org", stories=None, topics=[topic.pk], frequency="immediate")

    assert Subscriber.objects.values().get() == before
    assert list(subscriber.stories.all()) == [story] and not subscriber.topics.exists()
    (message,) = mailoutbox
    assert message.to == ["known@example.org"]
    assert message.subject == "Someone asked to subscribe you to Story Tracker"
    assert "already subscribed, so nothing was changed" in message.body
    manage_url = next(url for url in links_in(message.body) if "/subscribe/manage/" in url)
    assert Client().get(urlsplit(manage_url).path).status_code == 200
    # Sent after the confirmation, so it carries the one-click unsubscribe (RFC 8058).
    assert message.extra_headers["List-Unsubscribe"].startswith(f"<{django_settings.SITE_URL}/subscribe/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == ONE_CLICK


def test_signing_up_an_address_that_unsubscribed_starts_it_again_unconfirmed(sign_up, topic, mailoutbox):
    subscriber = SubscriberFactory(email="gone@example.org", unsubscribed_at=timezone.now())
    old_unsubscribe_link = link("unsubscribe", subscriber)

    sign_up("gone@example.org", stories=None, topics=[topic.pk])

    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is None and subscriber.unsubscribed_at is None
    assert list(subscriber.topics.all()) == [topic]
    assert [message.subject for message in mailoutbox] == ["Confirm your subscription to Story Tracker"]
    assert not Subscriber.objects.confirmed().exists()
    assert Client().get(old_unsubscribe_link).status_code == 400  # links from before are withdrawn


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter the email address to send the news to."),
        ("not-an-address", "Enter a whole email address, such as name@example.org."),
        ("reader@", "Enter a whole email address, such as name@example.org."),
        ("@example.org", "Enter a whole email address, such as name@example.org."),
        ("two words@example.org", "Enter a whole email address, such as name@example.org."),
        ("a" * 288 + "@example.org", "Ensure this value has at most 254 characters (it has 300)."),
    ],
    ids=["empty", "no at sign", "no domain", "no name", "a space", "300 characters"],
)
def test_a_malformed_address_is_refused_with_its_message_and_nothing_is_sent(sign_up, mailoutbox, email, message):
    response = sign_up(email)

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'value="{email}"' in html or not email  # what was typed is kept
    assert not Subscriber.objects.exists() and not mailoutbox


def test_a_sign_up_with_nothing_to_follow_is_refused(sign_up, mailoutbox):
    response = sign_up(stories=None)

    assert response.status_code == 400
    assert "Choose at least one story, topic, person, country or organisation to follow." in response.content.decode()
    assert 'value="reader@example.org"' in response.content.decode()
    assert not Subscriber.objects.exists() and not mailoutbox


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({"stories": [999_999]}, "Select a valid choice. 999999 is not one of the available choices."),
        ({"topics": ["not-a-number"]}, "“not-a-number” is not a valid value."),
        ({"actors": [999_999]}, "Select a valid choice. 999999 is not one of the available choices."),
    ],
    ids=["unknown story", "malformed topic", "unknown actor"],
)
def test_unknown_ids_in_the_choices_are_refused(sign_up, mailoutbox, choice, message):
    response = sign_up(**choice)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Subscriber.objects.exists() and not mailoutbox


@pytest.mark.parametrize("frequency", [None, "hourly"], ids=["missing", "unknown"])
def test_a_frequency_missing_or_unknown_is_refused(sign_up, mailoutbox, frequency):
    response = sign_up(frequency=frequency)

    assert response.status_code == 400
    assert not Subscriber.objects.exists() and not mailoutbox


def test_an_actor_outside_the_offer_is_refused_like_an_unknown_one(sign_up, monkeypatch, mailoutbox):
    monkeypatch.setattr(subscription_forms, "ACTOR_LIMIT", 1)
    present = ParticipationFactory().actor
    absent = ActorFactory()

    assert sign_up(actors=[absent.pk]).status_code == 400
    assert sign_up(actors=[present.pk]).status_code == 200
    assert len(mailoutbox) == 1


# --- The throttle ---------------------------------------------------------------------------------


def test_sign_ups_for_one_address_over_the_limit_answer_429_and_send_nothing(send, story, settings, mailoutbox):
    settings.SUBSCRIBE_RATE = "2/h"
    data = {"email": "target@example.org", "stories": [story.pk], "frequency": "daily"}
    answers = [send(SIGN_UP, data, REMOTE_ADDR=f"192.0.2.{n}").status_code for n in range(1, 4)]

    assert answers == [200, 200, 429]
    assert len(mailoutbox) == 2


def test_sign_ups_from_one_client_over_the_limit_answer_429_with_the_time_to_wait(send, story, settings, mailoutbox):
    settings.SUBSCRIBE_RATE = "2/h"
    responses = [
        send(SIGN_UP, {"email": f"reader{n}@example.org", "stories": [story.pk], "frequency": "daily"})
        for n in range(3)
    ]

    assert [response.status_code for response in responses] == [200, 200, 429]
    assert "Too many sign-ups" in responses[2].content.decode()
    assert 0 < int(responses[2]["Retry-After"]) <= 3600 + 5
    assert Subscriber.objects.count() == 2 and len(mailoutbox) == 2


def test_a_client_over_its_limit_holds_back_no_other_client(send, story, settings):
    settings.SUBSCRIBE_RATE = "1/h"
    data = {"stories": [story.pk], "frequency": "daily"}
    send(SIGN_UP, {**data, "email": "a@example.org"}, REMOTE_ADDR="192.0.2.1")

    assert send(SIGN_UP, {**data, "email": "b@example.org"}, REMOTE_ADDR="192.0.2.1").status_code == 429
    assert send(SIGN_UP, {**data, "email": "c@example.org"}, REMOTE_ADDR="192.0.2.2").status_code == 200


def test_addresses_of_one_ipv6_network_count_as_one_client(send, story, settings):
    settings.SUBSCRIBE_RATE = "1/h"
    data = {"stories": [story.pk], "frequency": "daily"}

    assert send(SIGN_UP, {**data, "email": "a@example.org"}, REMOTE_ADDR="2001:db8:1:2::1").status_code == 200
    assert send(SIGN_UP, {**data, "email": "b@example.org"}, REMOTE_ADDR="2001:db8:1:2::ff").status_code == 429
    assert send(SIGN_UP, {**data, "email": "c@example.org"}, REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


def test_behind_a_proxy_each_client_is_counted_by_the_address_the_proxy_gives(send, story, settings):
    settings.SUBSCRIBE_RATE = "1/h"
    settings.AXES_CLIENT_IP_CALLABLE = "tracker.accounts.client_address_behind_proxy"

    def through_the_proxy(email: str, forwarded_for: str) -> int:
        data = {"email": email, "stories": [story.pk], "frequency": "daily"}
        return send(SIGN_UP, data, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for).status_code

    assert through_the_proxy("a@example.org", "192.0.2.1") == 200
    assert through_the_proxy("b@example.org", "192.0.2.2") == 200
    # What the client itself puts to the left of the proxy's entry proves nothing.
    assert through_the_proxy("c@example.org", "198.51.100.9, 192.0.2.1") == 429


def test_refused_forms_do_not_count_against_the_limit(send, story, settings):
    settings.SUBSCRIBE_RATE = "1/h"
    for _ in range(3):
        assert send(SIGN_UP, {"email": "not-an-address", "frequency": "daily"}).status_code == 400

    assert send(SIGN_UP, {"email": "a@example.org", "stories": [story.pk], "frequency": "daily"}).status_code == 200


def test_a_malformed_rate_setting_stops_the_site_from_starting_with_one_clear_line():
    environment = {"SECRET_KEY": "x", "SUBSCRIBE_RATE": "lots", "PATH": "/usr/bin:/bin", "VAR_DIR": "/tmp/nowhere"}
    result = subprocess.run(
        [sys.executable, "-c", "import tracker.settings"],
        cwd=Path(django_settings.BASE_DIR),
        env=environment,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "SUBSCRIBE_RATE must read like 5/h or 10/15m, not 'lots'." in result.stderr


# --- Mail that cannot be sent ---------------------------------------------------------------------


def test_a_mail_server_that_cannot_be_reached_still_answers_the_same_page(sign_up, settings, caplog):
    with socket.socket() as probe:  # a port on loopback that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
        }
    }

    response = sign_up("reader@example.org")

    assert response.status_code == 200
    assert "Check your inbox: we sent a link to reader@example.org" in response.content.decode()
    assert "Could not send confirmation_email to subscriber" in caplog.text
    assert Subscriber.objects.filter(confirmed_at=None).count() == 1


# --- CSRF -----------------------------------------------------------------------------------------


def test_the_sign_up_confirm_and_preferences_forms_refuse_a_post_without_a_csrf_token(story):
    waiting = SubscriberFactory(confirmed_at=None)
    known = SubscriberFactory(frequency="daily")
    known.stories.add(story)
    strict = Client(enforce_csrf_checks=True)

    assert (
        strict.post(SIGN_UP, {"email": "a@example.org", "stories": [story.pk], "frequency": "daily"}).status_code == 403
    )
    assert strict.post(link("confirm", waiting)).status_code == 403
    assert strict.post(link("manage", known), {"stories": [story.pk], "frequency": "weekly"}).status_code == 403

    assert not Subscriber.objects.filter(email="a@example.org").exists()
    waiting.refresh_from_db()
    known.refresh_from_db()
    assert waiting.confirmed_at is None and known.frequency == "daily"


def test_the_sign_up_form_carries_a_csrf_token(client, story):
    assert 'name="csrfmiddlewaretoken"' in client.get(SIGN_UP).content.decode()


# --- Confirming -----------------------------------------------------------------------------------


@pytest.fixture
def waiting(story, topic):
    subscriber = SubscriberFactory(email="waiting@example.org", confirmed_at=None, frequency="weekly")
    subscriber.stories.add(story)
    subscriber.topics.add(topic)
    return subscriber


def test_opening_the_confirmation_link_shows_what_will_be_followed_and_confirms_nothing(client, waiting, story, topic):
    response = client.get(link("confirm", waiting))

    html = response.content.decode()
    assert response.status_code == 200
    assert story.title in html and topic.name in html and "Weekly" in html
    assert re.search(r'<form method="post" action="/subscribe/confirm/[^"]+/">', html)
    assert "Confirm my subscription" in html
    waiting.refresh_from_db()
    assert waiting.confirmed_at is None


def test_pressing_confirm_starts_the_subscription_from_now(send, waiting):
    before = timezone.now()

    response = send(link("confirm", waiting))

    assert response.status_code == 200
    assert "<h1>You're subscribed</h1>" in response.content.decode()
    assert "/subscribe/manage/" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.confirmed_at >= before and waiting.last_digest_at == waiting.confirmed_at
    assert list(Subscriber.objects.confirmed()) == [waiting]


def test_confirming_sends_nothing(send, waiting, mailoutbox):
    send(link("confirm", waiting))

    assert mailoutbox == []


def test_a_confirmation_replayed_says_it_is_already_confirmed_and_changes_nothing(send, client, waiting):
    confirm_link = link("confirm", waiting)
    send(confirm_link)
    waiting.refresh_from_db()
    confirmed_at = waiting.confirmed_at

    again = send(confirm_link)
    opened = client.get(confirm_link)

    for response in (again, opened):
        assert response.status_code == 200
        assert "already confirmed" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.confirmed_at == confirmed_at


def test_the_confirmation_link_taken_from_the_email_works(sign_up, mailoutbox):
    sign_up("reader@example.org")
    (url,) = links_in(mailoutbox[0].body)
    path = urlsplit(url).path
    visitor = Client()  # opened later, from the mail client: a new browser session

    assert visitor.get(path).status_code == 200
    assert visitor.post(path).status_code == 200
    assert Subscriber.objects.confirmed().get().email == "reader@example.org"


def test_a_confirmation_link_after_unsubscribing_confirms_nothing(send, client, waiting):
    confirm_link = link("confirm", waiting)
    waiting.unsubscribed_at = timezone.now()
    waiting.save()

    for response in (client.get(confirm_link), send(confirm_link)):
        assert response.status_code == 400
        assert "This address has unsubscribed since this link was sent." in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.confirmed_at is None


# --- Links that cannot be honoured ----------------------------------------------------------------

PURPOSES = ["confirm", "manage", "unsubscribe"]


def _tampered(subscriber: Subscriber, purpose: str) -> str:
    token = tokens.make_token(subscriber, purpose)
    return token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_answers_400_with_the_reason_and_changes_nothing(send, client, waiting, purpose, method):
    url = reverse(f"subscribe:{purpose}", args=[_tampered(waiting, purpose)])

    response = client.get(url) if method == "get" else send(url, {"frequency": "daily"})

    assert response.status_code == 400
    assert "This link is not valid: it may have been cut short or changed." in response.content.decode()
    assert "/subscribe/" in response.content.decode()  # the way to sign up again
    waiting.refresh_from_db()
    assert waiting.confirmed_at is None and waiting.unsubscribed_at is None


@pytest.mark.parametrize("purpose", PURPOSES)
def test_an_expired_link_answers_400_and_changes_nothing(send, waiting, monkeypatch, purpose):
    url = link(purpose, waiting)
    monkeypatch.setitem(tokens.MAX_AGE, purpose, -1)  # links of this purpose now expire at once

    response = send(url, {"frequency": "daily"})

    assert response.status_code == 400
    assert "This link has expired." in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.confirmed_at is None and waiting.unsubscribed_at is None


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_withdrawn_link_answers_400_and_changes_nothing(send, waiting, purpose):
    url = link(purpose, waiting)
    tokens.revoke_links(waiting)

    response = send(url, {"frequency": "daily"})

    assert response.status_code == 400
    assert "This link is no longer valid" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.confirmed_at is None and waiting.unsubscribed_at is None


def test_a_link_made_for_another_purpose_is_refused(send, waiting):
    url = reverse("subscribe:unsubscribe", args=[tokens.make_token(waiting, "confirm")])

    assert send(url).status_code == 400
    waiting.refresh_from_db()
    assert waiting.unsubscribed_at is None


def test_an_absurd_token_answers_400_not_500(client):
    assert client.get(reverse("subscribe:confirm", args=["x" * 5000])).status_code == 400


# --- Preferences ----------------------------------------------------------------------------------


@pytest.fixture
def subscriber(story, topic):
    subscriber = SubscriberFactory(email="known@example.org", frequency="daily")
    subscriber.stories.add(story)
    subscriber.topics.add(topic)
    return subscriber


def test_the_preferences_page_shows_the_current_choices(client, subscriber, story, topic, actor):
    response = client.get(link("manage", subscriber))

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf'name="stories" value="{story.pk}"[^>]*checked', html)
    assert re.search(rf'name="topics" value="{topic.pk}"[^>]*checked', html)
    assert not re.search(rf'name="actors" value="{actor.pk}"[^>]*checked', html)
    assert re.search(r'name="frequency" value="daily"[^>]*checked', html)
    assert "Save preferences" in html
    assert re.search(r'<form method="post" action="/subscribe/unsubscribe/[^"]+/">', html)


def test_opening_the_preferences_page_changes_nothing(client, subscriber):
    before = Subscriber.objects.values().get()

    client.get(link("manage", subscriber))

    assert Subscriber.objects.values().get() == before


def test_saving_preferences_replaces_the_choices_and_frequency(send, client, subscriber, actor):
    url = link("manage", subscriber)

    response = send(url, {"actors": [actor.pk], "frequency": "weekly"})

    assert response.status_code == 303
    assert response["Location"] == urlsplit(url).path + "?saved=1"
    assert "Your preferences are saved." in client.get(response["Location"]).content.decode()
    subscriber.refresh_from_db()
    assert subscriber.frequency == "weekly"
    assert list(subscriber.actors.all()) == [actor]
    assert not subscriber.stories.exists() and not subscriber.topics.exists()


def test_preferences_with_nothing_to_follow_are_refused_and_nothing_changes(send, subscriber, story):
    response = send(link("manage", subscriber), {"frequency": "weekly"})

    assert response.status_code == 400
    assert "Choose at least one story, topic, person, country or organisation to follow." in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.frequency == "daily" and list(subscriber.stories.all()) == [story]


def test_the_preferences_of_an_unsubscribed_address_cannot_be_changed(send, client, subscriber):
    subscriber.unsubscribed_at = timezone.now()
    subscriber.save()
    url = link("manage", subscriber)

    assert "You are unsubscribed" in client.get(url).content.decode()
    assert send(url, {"frequency": "weekly", "stories": []}).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.frequency == "daily" and subscriber.confirmed_at and not Subscriber.objects.confirmed().exists()


def test_a_story_followed_but_no_longer_among_the_newest_stays_on_the_preferences_page(client, subscriber, story):
    for n in range(subscription_forms.STORY_LIMIT + 1):
        StoryFactory(last_development_at=timezone.now(), title=f"Newer story {n}")

    html = client.get(link("manage", subscriber)).content.decode()

    assert re.search(rf'name="stories" value="{story.pk}"[^>]*checked', html)


# --- Unsubscribing --------------------------------------------------------------------------------


def test_opening_the_unsubscribe_link_shows_a_button_and_changes_nothing(client, subscriber):
    response = client.get(link("unsubscribe", subscriber))

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<form method="post" action="/subscribe/unsubscribe/[^"]+/">', html)
    assert ">Unsubscribe</button>" in html
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is None


def test_the_one_click_post_of_a_mail_client_unsubscribes_without_csrf_token_or_cookie(subscriber, mailoutbox):
    mail_client = Client(enforce_csrf_checks=True)

    response = mail_client.post(
        link("unsubscribe", subscriber), ONE_CLICK, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None
    assert not Subscriber.objects.confirmed().exists()  # what digests and alerts are sent to
    assert mailoutbox == []  # no farewell


def test_the_one_click_post_sent_again_answers_200_and_keeps_the_first_time(subscriber):
    mail_client = Client(enforce_csrf_checks=True)
    url = link("unsubscribe", subscriber)
    mail_client.post(url, ONE_CLICK, content_type="application/x-www-form-urlencoded")
    subscriber.refresh_from_db()
    first = subscriber.unsubscribed_at

    again = mail_client.post(url, ONE_CLICK, content_type="application/x-www-form-urlencoded")

    assert again.status_code == 200 and "You are unsubscribed" in again.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at == first


def test_the_unsubscribe_button_of_the_preferences_page_unsubscribes(client, subscriber):
    html = client.get(link("manage", subscriber)).content.decode()
    action = re.search(r'<form method="post" action="(/subscribe/unsubscribe/[^"]+/)">', html)[1]

    assert client.post(action).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None


def test_the_email_links_pages_are_not_cached_nor_indexed(client, subscriber):
    for purpose in PURPOSES:
        response = client.get(link(purpose, subscriber))
        assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
        assert '<meta name="robots" content="noindex">' in response.content.decode()


# --- The services -----------------------------------------------------------------------------------


def test_the_subscribe_service_refuses_a_sign_up_with_nothing_to_follow(db):
    with pytest.raises(ApplicationError):
        subscriptions.subscribe(email="a@example.org", frequency="daily")
    assert not Subscriber.objects.exists()


def test_the_subscribe_service_says_what_it_did(story, django_capture_on_commit_callbacks):
    SubscriberFactory(email="known@example.org")
    with django_capture_on_commit_callbacks(execute=False):
        outcomes = [
            subscriptions.subscribe(email=email, stories=[story], frequency="daily")
            for email in ("new@example.org", "new@example.org", "known@example.org")
        ]

    assert outcomes == [subscriptions.SignUp.NEW, subscriptions.SignUp.RESENT, subscriptions.SignUp.ALREADY_CONFIRMED]


def test_the_unsubscribe_service_says_whether_it_changed_anything(subscriber):
    assert subscriptions.unsubscribe(subscriber=subscriber) is True
    assert subscriptions.unsubscribe(subscriber=subscriber) is False


@pytest.mark.django_db(transaction=True)
def test_two_sign_ups_of_one_new_address_at_once_make_one_subscriber():
    story = StoryFactory()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sign_up() -> None:
        try:
            barrier.wait(timeout=5)
            subscriptions.subscribe(email="race@example.org", stories=[story], frequency="daily")
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Subscriber.objects.filter(email="race@example.org").count() == 1
