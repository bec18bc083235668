"""deliver(): one statement locks, checks and marks (PostgreSQL), the send comes before the commit,
and the marks last only if that commit comes."""

import datetime

import psycopg
import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from events import digests
from events.models import DigestDelivery, Subscriber
from events.services import digests as pipeline
from tests.factories import EventFactory, SubscriberFactory


def claimed_digest(**fields):
    subscriber = SubscriberFactory(last_digest_at=timezone.now() - datetime.timedelta(minutes=1), **fields)
    subscriber.stories.set([EventFactory().story])
    later = timezone.now() + datetime.timedelta(days=1, minutes=1)
    claimed, _ = pipeline.claim(frequencies=("daily",), kind="digest", now=later)
    return subscriber, digests.collect(claimed, now=later)[claimed[0].pk]


def other_session():
    db = settings.DATABASES["default"]
    return psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", ["events_digestdelivery", "events_subscriber"])
def test_a_delivery_whose_row_another_session_holds_is_skipped_and_left_unsent(table):
    subscriber, digest = claimed_digest()
    row = digest.delivery.pk if table == "events_digestdelivery" else subscriber.pk
    with other_session() as other:
        other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [row])

        assert pipeline.deliver(digest, send=mail.outbox.append) == "skipped"

    assert mail.outbox == []
    assert DigestDelivery.objects.get().sent_at is None
    # Once the other session is gone, it goes.
    assert pipeline.deliver(digest, send=mail.outbox.append) == "sent"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_sent_delivery_is_marked_and_the_period_moves_on():
    subscriber, digest = claimed_digest()

    assert pipeline.deliver(digest, send=mail.outbox.append) == "sent"

    delivery = DigestDelivery.objects.get()
    assert delivery.sent_at is not None and delivery.item_count == digest.item_count == 1
    subscriber.refresh_from_db()
    assert subscriber.last_digest_at == delivery.period_end


@pytest.mark.django_db
def test_a_failed_send_leaves_the_row_unsent_and_the_period_where_it_was():
    subscriber, digest = claimed_digest()
    start = Subscriber.objects.get(pk=subscriber.pk).last_digest_at

    def broken(message):
        raise OSError("connection reset")

    with pytest.raises(OSError):
        pipeline.deliver(digest, send=broken)

    assert DigestDelivery.objects.get().sent_at is None
    assert Subscriber.objects.get(pk=subscriber.pk).last_digest_at == start
    assert pipeline.deliver(digest, send=mail.outbox.append) == "sent"


@pytest.mark.django_db
def test_a_subscriber_who_unsubscribed_or_was_never_confirmed_meanwhile_gets_nothing():
    subscriber, digest = claimed_digest()
    Subscriber.objects.filter(pk=subscriber.pk).update(confirmed_at=None)

    assert pipeline.deliver(digest, send=mail.outbox.append) == "skipped"
    assert mail.outbox == [] and DigestDelivery.objects.get().sent_at is None


@pytest.mark.django_db
def test_the_message_goes_to_the_subscriber_as_they_are_at_the_delivery():
    subscriber, digest = claimed_digest(email="old@example.org", language="en-gb")
    Subscriber.objects.filter(pk=subscriber.pk).update(email="new@example.org", language="fr")

    assert pipeline.deliver(digest, send=mail.outbox.append) == "sent"

    [message] = mail.outbox
    assert message.to == ["new@example.org"]
    assert "/fr/" in message.body
