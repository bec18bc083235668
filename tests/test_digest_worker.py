"""Digests and alerts sent by real Celery workers on Redis, against the test database: each email
exactly once, with two workers at once, and through a worker killed with SIGKILL mid-run."""

import asyncio
import datetime
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.utils import timezone

from events import services, tasks
from events.models import DigestDelivery, Event, Subscriber
from tests.factories import ActorFactory, EventFactory, ParticipationFactory, StoryFactory, TopicFactory
from tracker.celery import app

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NOW = timezone.now


# --- Workers --------------------------------------------------------------------------------------


@pytest.fixture
def workers(transactional_db):
    """Start real `celery worker` processes on the suite's Redis and the test database."""
    started: list[subprocess.Popen] = []
    db = settings.DATABASES["default"]
    app.control.purge()

    def start(name: str, **env: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tracker",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--hostname",
                f"digest-{name}-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                "REDIS_URL": settings.REDIS_URL,
                "SITE_URL": "https://tracker.example.org",
                **env,
            },
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        deadline = time.monotonic() + 60
        prefix = f"digest-{name}-{os.getpid()}@"
        while not any(host.startswith(prefix) for reply in app.control.ping(timeout=0.5) for host in reply):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start")
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        app.control.purge()
        # A killed worker's unacknowledged task would come back to a later test after Redis's
        # visibility timeout: forget it.
        with app.connection_for_write() as connection:
            connection.default_channel.client.delete("unacked", "unacked_index")


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


# --- Subscribers with mixed preferences -----------------------------------------------------------


@dataclass
class Newsroom:
    """Five published events and 500 subscribers; `expected` maps each address that has news to the
    titles of its email."""

    expected: dict[str, set[str]]
    titles: set[str]


def make_newsroom(count: int = 500) -> Newsroom:
    followed, other, quiet = StoryFactory(title="Ukraine crisis"), StoryFactory(), StoryFactory()
    sanctions, putin = TopicFactory(name="Sanctions"), ActorFactory(name="Vladimir Putin")
    two_hours_ago = NOW() - datetime.timedelta(hours=2)
    in_story = {
        EventFactory(story=followed, title=f"Story event {n}", published_at=two_hours_ago).title for n in range(3)
    }
    by_topic = EventFactory(story=other, title="Sanctions event", published_at=two_hours_ago)
    by_topic.topics.add(sanctions)
    by_actor = ParticipationFactory(
        actor=putin, event__story=other, event__title="Putin event", event__published_at=two_hours_ago
    ).event
    EventFactory(story=other, title="Unfollowed event", published_at=two_hours_ago)
    frequencies = [Subscriber.Frequency.DAILY, Subscriber.Frequency.WEEKLY, Subscriber.Frequency.IMMEDIATE]
    periods = {
        "daily": datetime.timedelta(days=1),
        "weekly": datetime.timedelta(days=7),
        "immediate": datetime.timedelta(0),
    }
    subscribers, follows, expected = [], [], {}
    for n in range(count):
        frequency = frequencies[n % 3]
        due = n % 5 != 0
        # Due: one period and an hour ago, so the period ends an hour ago, after the events.
        last = NOW() - periods[frequency] - datetime.timedelta(hours=1 if due else -1, minutes=1)
        state = n % 7
        subscriber = Subscriber(
            email=f"reader{n}@example.org",
            frequency=frequency,
            confirmed_at=None if state == 0 else NOW() - datetime.timedelta(days=30),
            unsubscribed_at=NOW() - datetime.timedelta(days=1) if state == 1 else None,
            last_digest_at=last,
        )
        subscribers.append(subscriber)
        follows.append(n % 4)
    Subscriber.objects.bulk_create(subscribers)
    titles_by_follow = {0: in_story, 1: {by_topic.title}, 2: {by_actor.title}, 3: set()}
    for n, (subscriber, follow) in enumerate(zip(subscribers, follows, strict=True)):
        if follow == 0:
            subscriber.stories.add(followed)
        elif follow == 1:
            subscriber.topics.add(sanctions)
        elif follow == 2:
            subscriber.actors.add(putin)
        else:
            subscriber.stories.add(quiet)
        gets_digest = n % 7 > 1 and n % 5 != 0 and subscriber.frequency != "immediate"
        if gets_digest and titles_by_follow[follow]:
            expected[subscriber.email] = titles_by_follow[follow]
    return Newsroom(expected=expected, titles={*in_story, by_topic.title, by_actor.title, "Unfollowed event"})


def read(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def text_part(message: EmailMessage) -> str:
    # Over SMTP, lines end with CRLF.
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def assert_each_got_exactly_its_news(messages: list[EmailMessage], newsroom: Newsroom) -> None:
    recipients = Counter(message["To"] for message in messages)
    assert set(recipients) == set(newsroom.expected), "someone with news got nothing, or someone without got mail"
    assert max(recipients.values()) == 1, f"sent twice: {[r for r, n in recipients.items() if n > 1]}"
    for message in messages:
        body = text_part(message)
        shown = {title for title in newsroom.titles if f"* {title}\n" in body}
        assert shown == newsroom.expected[message["To"]], message["To"]
        assert message["List-Unsubscribe"].startswith("<https://tracker.example.org/subscribe/unsubscribe/")


# --- The tests ------------------------------------------------------------------------------------


def test_a_run_for_500_subscribers_sends_one_correct_email_to_each_who_has_news_and_a_second_run_nothing(
    workers, tmp_path
):
    newsroom = make_newsroom()
    workers("one", MAIL_DIR=str(tmp_path))

    first = tasks.send_digests.delay().get(timeout=300)
    second = tasks.send_digests.delay().get(timeout=300)

    files = sorted(tmp_path.glob("*.eml"))
    assert first["sent"] == len(newsroom.expected) == len(files)
    assert second == {"sent": 0, "empty": 0, "skipped": 0}
    assert_each_got_exactly_its_news([read(f) for f in files], newsroom)
    assert DigestDelivery.objects.filter(sent_at__isnull=False).count() == len(newsroom.expected)
    assert not DigestDelivery.objects.filter(sent_at__isnull=True).exists()


def test_two_workers_running_it_at_once_send_each_email_once(workers, tmp_path):
    newsroom = make_newsroom()
    workers("left", MAIL_DIR=str(tmp_path))
    workers("right", MAIL_DIR=str(tmp_path))

    runs = [tasks.send_digests.delay(), tasks.send_digests.delay()]
    reports = [run.get(timeout=300) for run in runs]

    assert sum(r["sent"] for r in reports) == len(newsroom.expected)
    assert_each_got_exactly_its_news([read(f) for f in tmp_path.glob("*.eml")], newsroom)


class StallingMailbox:
    """An SMTP server that stops answering at its `stall_at`th message, either before accepting it
    (the worker dies with the message undelivered) or after keeping it (dies before it hears "250")."""

    def __init__(self, stall_at: int, *, keep_stalled: bool) -> None:
        self.stall_at = stall_at
        self.keep_stalled = keep_stalled
        self.messages: list[EmailMessage] = []
        self.stalled = threading.Event()
        self.stalling = True

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if self.stalling and len(self.messages) + 1 == self.stall_at:
            self.stalling = False
            if self.keep_stalled:
                self.messages.append(message)
            self.stalled.set()
            await asyncio.sleep(3600)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def stalling_smtp():
    controllers = []

    def start(stall_at: int, *, keep_stalled: bool) -> tuple[StallingMailbox, str]:
        mailbox = StallingMailbox(stall_at, keep_stalled=keep_stalled)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(mailbox, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return mailbox, f"smtp://127.0.0.1:{port}"

    yield start
    for controller in controllers:
        controller.stop(no_assert=True)


def kill_mid_run_then_finish(workers, mailbox: StallingMailbox, smtp_url: str) -> None:
    worker = workers("doomed", SMTP_URL=smtp_url)
    tasks.send_digests.delay()
    assert mailbox.stalled.wait(timeout=120), "the run never reached the stalling message"
    kill(worker)
    workers("restarted", SMTP_URL=smtp_url)
    # Beat's next run (Redis would give the killed worker's task back only after its visibility timeout).
    assert tasks.send_digests.delay().get(timeout=300)["sent"] > 0


def test_a_worker_killed_before_the_server_accepted_a_message_is_finished_by_the_next_with_none_missing_or_twice(
    workers, stalling_smtp
):
    newsroom = make_newsroom()
    mailbox, smtp_url = stalling_smtp(stall_at=len(newsroom.expected) // 2, keep_stalled=False)

    kill_mid_run_then_finish(workers, mailbox, smtp_url)

    assert_each_got_exactly_its_news(mailbox.messages, newsroom)
    assert DigestDelivery.objects.filter(sent_at__isnull=False).count() == len(newsroom.expected)


def test_a_worker_killed_after_the_server_accepted_a_message_resends_only_that_one_with_the_same_message_id(
    workers, stalling_smtp
):
    newsroom = make_newsroom()
    mailbox, smtp_url = stalling_smtp(stall_at=len(newsroom.expected) // 2, keep_stalled=True)

    kill_mid_run_then_finish(workers, mailbox, smtp_url)

    counts = Counter(message["Message-ID"] for message in mailbox.messages)
    twice = [message_id for message_id, n in counts.items() if n > 1]
    assert len(twice) == 1 and counts[twice[0]] == 2
    assert set(Counter(m["To"] for m in mailbox.messages)) == set(newsroom.expected)
    assert len(mailbox.messages) == len(newsroom.expected) + 1


def test_a_burst_of_publications_reaches_an_immediate_subscriber_in_one_email_within_the_window(
    workers, tmp_path, settings
):
    settings.ALERT_BATCH_SECONDS = 2
    story = StoryFactory()
    subscriber = Subscriber.objects.create(
        email="now@example.org",
        frequency=Subscriber.Frequency.IMMEDIATE,
        confirmed_at=NOW(),
        last_digest_at=NOW() - datetime.timedelta(minutes=1),
    )
    subscriber.stories.add(story)
    drafts = [EventFactory(story=story, title=f"Burst {n}", publication="draft", published_at=None) for n in range(3)]
    workers("alerts", MAIL_DIR=str(tmp_path))

    published = time.monotonic()
    for draft in drafts:
        services.publish_event(event=draft)
    deadline = published + 120
    while not list(tmp_path.glob("*.eml")) and time.monotonic() < deadline:
        time.sleep(0.5)
    arrived = time.monotonic() - published
    time.sleep(3)

    [path] = tmp_path.glob("*.eml")
    message = read(path)
    assert arrived < 120
    assert message["To"] == "now@example.org" and message["Subject"] == "3 new developments"
    assert all(f"* Burst {n}\n" in text_part(message) for n in range(3))
    assert Event.objects.published().count() == 3
