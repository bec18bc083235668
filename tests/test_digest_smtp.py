"""Digests delivered through a real SMTP server on loopback (aiosmtpd): what a mail client receives."""

import datetime
import email
import email.policy
import re
import socket
import threading
from email.message import Message
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.utils import timezone

from events.models import DigestDelivery, Subscriber
from events.services import digests as pipeline
from tests.factories import EventFactory, StoryFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

REFUSED = "bounces@example.org"


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts and refuses one address at RCPT."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], Message]] = []
        self.sessions: set[int] = set()
        # Each message as it came over the wire.
        self.raw: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.sessions.add(id(session))
            self.raw.append(envelope.content)
            self.received.append(
                (
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    email.message_from_bytes(envelope.content, policy=email.policy.default),
                )
            )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [message for _, rcpt, message in self.received if rcpt == [address]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1, and the site's default mailer pointed at it."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 10},
        }
    }
    settings.SITE_URL = "https://tracker.example.org"
    try:
        yield mailbox
    finally:
        controller.stop()


def due_subscriber(**fields) -> Subscriber:
    story = fields.pop("story", None) or StoryFactory()
    subscriber = SubscriberFactory(last_digest_at=timezone.now() - datetime.timedelta(minutes=1), **fields)
    subscriber.stories.add(story)
    return subscriber


def a_day_later() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=1, minutes=1)


def parts(message: Message) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def test_a_digest_arrives_with_both_parts_its_headers_and_links_to_the_site(smtp):
    story = StoryFactory(title="Ukraine crisis")
    event = EventFactory(story=story, title="Macron meets Putin in Moscow")
    subscriber = due_subscriber(story=story, email="reader@example.org")

    assert pipeline.send_due(kind="digest", now=a_day_later()).sent == 1

    [(sender, recipients, message)] = smtp.received
    assert recipients == ["reader@example.org"] and "tracker@localhost" in sender
    assert message["Subject"] == "Your daily digest: 1 update"
    assert message.get_content_type() == "multipart/alternative"
    delivery = DigestDelivery.objects.get(subscriber=subscriber)
    assert message["Message-ID"] == f"<digest-{delivery.pk}@tracker.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(
        r"<(https://tracker\.example\.org/subscribe/unsubscribe/[^>]+/)>", message["List-Unsubscribe"]
    )
    assert unsubscribe
    # As it was sent: on one line, not folded into encoded words, or mail clients find no URL in it.
    [raw] = smtp.raw
    assert f"\r\nList-Unsubscribe: <{unsubscribe[1]}>\r\n".encode() in raw
    body = parts(message)
    link = f"https://tracker.example.org/events/{event.slug}/"
    assert "Macron meets Putin in Moscow" in body["text/plain"] and link in body["text/plain"]
    assert f'href="{link}"' in body["text/html"]
    assert "<img" not in body["text/html"] and "<style" not in body["text/html"]
    assert unsubscribe.group(1) in body["text/plain"]


def test_many_digests_go_through_one_smtp_connection(smtp):
    story = StoryFactory()
    EventFactory(story=story)
    for _ in range(12):
        due_subscriber(story=story)

    assert pipeline.send_due(kind="digest", now=a_day_later(), batch_size=5).sent == 12

    assert len(smtp.received) == 12
    assert len(smtp.sessions) == 1


def test_one_click_unsubscribe_with_one_post_stops_every_later_email(smtp):
    story = StoryFactory()
    EventFactory(story=story)
    subscriber = due_subscriber(story=story, email="leaving@example.org")
    later = a_day_later()
    pipeline.send_due(kind="digest", now=later)
    [message] = smtp.to("leaving@example.org")
    path = urlsplit(message["List-Unsubscribe"].strip("<>")).path

    # What a mail client sends (RFC 8058): one POST, no cookie, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None
    EventFactory(story=story)
    assert pipeline.send_due(kind="digest", now=later + datetime.timedelta(days=2)).sent == 0
    assert pipeline.send_due(kind="alert", now=later + datetime.timedelta(days=2)).sent == 0
    assert len(smtp.to("leaving@example.org")) == 1


def test_an_address_the_server_refuses_does_not_hold_up_the_others_and_is_tried_again(smtp):
    story = StoryFactory()
    EventFactory(story=story)
    refused = due_subscriber(story=story, email=REFUSED)
    due_subscriber(story=story, email="first@example.org")
    due_subscriber(story=story, email="second@example.org")
    later = a_day_later()

    report = pipeline.send_due(kind="digest", now=later)

    assert (report.sent, report.skipped) == (2, 1)
    assert len(smtp.to("first@example.org")) == 1 and len(smtp.to("second@example.org")) == 1
    assert DigestDelivery.objects.get(subscriber=refused).sent_at is None
    # The next run tries it again (and only it).
    assert pipeline.send_due(kind="digest", now=later).as_dict() == {"sent": 0, "empty": 0, "skipped": 1}
    assert len(smtp.received) == 2


def test_with_the_mail_server_down_nothing_is_recorded_and_a_retry_sends_everything_once(smtp, settings):
    story = StoryFactory()
    EventFactory(story=story)
    for n in range(3):
        due_subscriber(story=story, email=f"reader{n}@example.org")
    working = settings.MAILERS
    settings.MAILERS = {"default": {**working["default"], "OPTIONS": {"host": "127.0.0.1", "port": free_port()}}}
    later = a_day_later()

    with pytest.raises(OSError):
        pipeline.send_due(kind="digest", now=later)
    assert not DigestDelivery.objects.filter(sent_at__isnull=False).exists()

    settings.MAILERS = working
    assert pipeline.send_due(kind="digest", now=later).sent == 3
    assert pipeline.send_due(kind="digest", now=later).sent == 0
    assert sorted(rcpt[0] for _, rcpt, _ in smtp.received) == [f"reader{n}@example.org" for n in range(3)]
