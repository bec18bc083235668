"""Digests and alerts: what a subscriber gets for a period, and that it is sent once.

These run the pipeline in the test process with Django's in-memory outbox; tests/test_digest_worker.py
runs it in real Celery workers (concurrency, SIGKILL), tests/test_digest_smtp.py over real SMTP.
"""

import datetime
import email

import pytest
from django.core import mail
from django.utils import timezone

from events import digests, services
from events.models import DigestDelivery, Event, Story, Subscriber
from events.services import digests as pipeline
from tests.factories import (
    ActorFactory,
    CorrectionFactory,
    EventFactory,
    ExpectationFactory,
    ParticipationFactory,
    StoryFactory,
    SubscriberFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def a_day_later() -> datetime.datetime:
    """A run one day from now: a daily period that began a minute ago has ended by then."""
    return timezone.now() + DAY + datetime.timedelta(minutes=1)


def daily(*, stories=(), topics=(), actors=(), **fields) -> Subscriber:
    """A confirmed subscriber (daily unless told) whose period began a minute ago."""
    fields.setdefault("last_digest_at", timezone.now() - datetime.timedelta(minutes=1))
    fields.setdefault("frequency", Subscriber.Frequency.DAILY)
    subscriber = SubscriberFactory(**fields)
    subscriber.stories.set(stories)
    subscriber.topics.set(topics)
    subscriber.actors.set(actors)
    return subscriber


def run(kind: str = pipeline.DIGEST, now: datetime.datetime | None = None) -> dict[str, int]:
    return pipeline.send_due(kind=kind, now=now or a_day_later()).as_dict()


def sent_to(address: str) -> list[mail.EmailMultiAlternatives]:
    return [message for message in mail.outbox if message.to == [address]]


def text_of(message) -> str:
    return message.body


def html_of(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


# --- Who gets what ---------------------------------------------------------------------------------


def test_a_daily_subscriber_gets_the_new_events_of_the_story_they_follow_in_one_email():
    story = StoryFactory(title="Ukraine crisis")
    EventFactory(story=story, title="Macron meets Putin in Moscow")
    EventFactory(story=story, title="Macron meets Zelenskyy in Kyiv")
    EventFactory(title="An event of another story")
    subscriber = daily(stories=[story], email="reader@example.org")

    assert run() == {"sent": 1, "empty": 0, "skipped": 0}

    [message] = mail.outbox
    assert message.to == ["reader@example.org"]
    assert message.subject == "Your daily digest: 2 updates"
    for part in (text_of(message), html_of(message)):
        assert "Macron meets Putin in Moscow" in part
        assert "Macron meets Zelenskyy in Kyiv" in part
        assert "An event of another story" not in part
    delivery = DigestDelivery.objects.get(subscriber=subscriber)
    assert delivery.sent_at is not None and delivery.item_count == 2


def test_the_email_links_back_to_the_site_and_carries_the_one_click_unsubscribe_headers(settings):
    settings.SITE_URL = "https://tracker.example.org"
    event = EventFactory(title="Talks in the Kremlin")
    daily(stories=[event.story])

    run()

    [message] = mail.outbox
    link = f"https://tracker.example.org/events/{event.slug}/"
    assert link in text_of(message) and f'href="{link}"' in html_of(message)
    assert message.extra_headers["List-Unsubscribe"].startswith("<https://tracker.example.org/subscribe/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    delivery = DigestDelivery.objects.get()
    assert message.extra_headers["Message-ID"] == f"<digest-{delivery.pk}@tracker.example.org>"


def test_the_html_part_uses_inline_styles_and_no_external_images():
    daily(stories=[EventFactory().story])
    run()
    html = html_of(mail.outbox[0])
    assert "<img" not in html and "<link" not in html and "<style" not in html
    assert 'style="' in html


def test_nothing_is_sent_when_nothing_changed_and_the_period_moves_on():
    subscriber = daily(stories=[StoryFactory()])
    later = a_day_later()

    assert run(now=later) == {"sent": 0, "empty": 1, "skipped": 0}

    assert mail.outbox == []
    assert not DigestDelivery.objects.exists()
    subscriber.refresh_from_db()
    assert later - DAY < subscriber.last_digest_at <= later


def test_running_it_again_sends_nothing_more():
    daily(stories=[EventFactory().story])
    later = a_day_later()
    run(now=later)
    assert run(now=later) == {"sent": 0, "empty": 0, "skipped": 0}
    assert len(mail.outbox) == 1


def test_shares_of_a_run_split_the_subscribers_without_meeting():
    story = EventFactory().story
    subscribers = [daily(stories=[story]) for _ in range(7)]
    later = a_day_later()
    first = pipeline.send_due(kind=pipeline.DIGEST, now=later, share=(0, 3)).as_dict()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.email for s in subscribers if s.pk % 3 == 0)
    second = pipeline.send_due(kind=pipeline.DIGEST, now=later, share=(1, 3)).as_dict()
    third = pipeline.send_due(kind=pipeline.DIGEST, now=later, share=(2, 3)).as_dict()
    assert first["sent"] + second["sent"] + third["sent"] == 7
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.email for s in subscribers)
    assert run(now=later) == {"sent": 0, "empty": 0, "skipped": 0}


def test_the_digest_task_queues_one_run_per_share(settings, monkeypatch):
    from events import tasks

    settings.DIGEST_PARALLEL = 3
    queued = []
    monkeypatch.setattr(tasks.send_digests, "delay", lambda **kwargs: queued.append(kwargs))
    assert tasks.send_digests.run() == {"shares": 3}
    assert queued == [{"share": [0, 3]}, {"share": [1, 3]}, {"share": [2, 3]}]
    runs = []
    monkeypatch.setattr(pipeline, "send_due", lambda **kwargs: runs.append(kwargs) or pipeline.RunReport(sent=2))
    assert tasks.send_digests.run(share=[1, 3]) == {"sent": 2, "empty": 0, "skipped": 0}
    assert runs == [{"kind": pipeline.DIGEST, "share": (1, 3)}]


def test_a_run_leaves_the_session_waiting_for_the_disk_again():
    from django.db import connection

    daily(stories=[EventFactory().story])
    run()
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_a_subscriber_whose_period_has_not_ended_gets_nothing_yet():
    event = EventFactory()
    daily(stories=[event.story], last_digest_at=timezone.now() - datetime.timedelta(hours=1))
    assert run(now=timezone.now()) == {"sent": 0, "empty": 0, "skipped": 0}
    assert mail.outbox == []


def test_a_weekly_subscriber_waits_a_week():
    event = EventFactory()
    weekly = daily(stories=[event.story], frequency=Subscriber.Frequency.WEEKLY)
    assert run()["sent"] == 0
    assert run(now=timezone.now() + 7 * DAY + datetime.timedelta(minutes=1))["sent"] == 1
    assert mail.outbox[0].to == [weekly.email]
    assert mail.outbox[0].subject == "Your weekly digest: 1 update"


def test_unconfirmed_and_unsubscribed_subscribers_get_nothing():
    story = EventFactory().story
    daily(stories=[story], confirmed_at=None)
    daily(stories=[story], unsubscribed_at=timezone.now())
    assert run() == {"sent": 0, "empty": 0, "skipped": 0}
    assert mail.outbox == []


def test_an_unsubscribe_after_the_claim_stops_the_email():
    subscriber = daily(stories=[EventFactory().story])
    later = a_day_later()
    claimed, _ = pipeline.claim(frequencies=pipeline.FREQUENCIES["digest"], kind="digest", now=later)
    Subscriber.objects.filter(pk=subscriber.pk).update(unsubscribed_at=timezone.now())

    outcome = pipeline.deliver(digests.collect(claimed, now=later)[claimed[0].pk], send=mail.outbox.append)

    assert outcome == "skipped" and mail.outbox == []


def test_topics_and_actors_followed_bring_their_events_from_any_story():
    sanctions, putin = TopicFactory(name="Sanctions"), ActorFactory(name="Vladimir Putin")
    by_topic = EventFactory(title="EU sanctions package")
    by_topic.topics.add(sanctions)
    by_actor = ParticipationFactory(actor=putin, event__title="Putin speaks to Scholz").event
    EventFactory(title="Unrelated")
    subscriber = daily(topics=[sanctions], actors=[putin])

    run()

    body = text_of(sent_to(subscriber.email)[0])
    assert "EU sanctions package" in body and "Putin speaks to Scholz" in body and "Unrelated" not in body
    assert DigestDelivery.objects.get().item_count == 2
    assert by_topic and by_actor


def test_an_event_matching_several_follows_is_listed_once():
    topic, actor = TopicFactory(), ActorFactory()
    event = ParticipationFactory(actor=actor, event__title="Normandy format talks").event
    event.topics.add(topic)
    daily(stories=[event.story], topics=[topic], actors=[actor])
    run()
    assert text_of(mail.outbox[0]).count("Normandy format talks") == 1


def test_drafts_are_not_sent():
    story = StoryFactory()
    EventFactory(story=story, publication=Event.Publication.DRAFT, published_at=None)
    daily(stories=[story])
    assert run()["sent"] == 0


# --- Sections --------------------------------------------------------------------------------------


def test_an_event_edited_during_the_period_is_listed_with_what_changed():
    event = EventFactory(title="Talks in Moscow", published_at=timezone.now() - 2 * DAY)
    subscriber = daily(stories=[event.story], last_digest_at=timezone.now())
    services.update_event(event=event, expected_version=1, title="Talks in the Kremlin")

    run()

    body = text_of(sent_to(subscriber.email)[0])
    assert "UPDATED EVENTS" in body and "NEW EVENTS" not in body
    assert "Title: Talks in Moscow → Talks in the Kremlin" in body


def test_corrections_of_followed_events_are_listed():
    event = EventFactory(published_at=timezone.now() - 2 * DAY)
    daily(stories=[event.story])
    CorrectionFactory(event=event, text="The meeting lasted five hours, not six.")
    run()
    assert "The meeting lasted five hours, not six." in text_of(mail.outbox[0])


def test_fulfilled_and_newly_overdue_expectations_are_listed():
    story = StoryFactory()
    kyiv = EventFactory(story=story, title="Macron arrives in Kyiv", published_at=timezone.now() - 2 * DAY)
    visit = ExpectationFactory(story=story, title="Macron to visit Kyiv")
    services.fulfil_expectation(expectation=visit, event=kyiv)
    ExpectationFactory(story=story, title="OSCE session", due_on=timezone.localdate() - 10 * DAY)
    services.flag_overdue_expectations()
    daily(stories=[story])

    run()

    body = text_of(mail.outbox[0])
    assert "EXPECTATIONS FULFILLED" in body and "Macron to visit Kyiv" in body and "Macron arrives in Kyiv" in body
    assert "NOW OVERDUE" in body and "OSCE session" in body


def test_what_is_expected_soon_alone_sends_nothing():
    story = StoryFactory()
    ExpectationFactory(story=story, title="Scholz to visit Moscow", due_on=timezone.localdate() + 3 * DAY)
    daily(stories=[story])
    assert run()["sent"] == 0


def test_what_is_expected_soon_is_shown_beside_the_news():
    story = StoryFactory()
    ExpectationFactory(story=story, title="Scholz to visit Moscow", due_on=timezone.localdate() + 3 * DAY)
    ExpectationFactory(story=story, title="Much later", due_on=timezone.localdate() + 30 * DAY)
    EventFactory(story=story)
    daily(stories=[story])
    run()
    body = text_of(mail.outbox[0])
    assert "EXPECTED IN THE COMING DAYS" in body and "Scholz to visit Moscow" in body and "Much later" not in body
    assert DigestDelivery.objects.get().item_count == 1


def test_expectations_match_by_expected_actor():
    macron = ActorFactory(name="Emmanuel Macron")
    expectation = ExpectationFactory(title="Macron to call Biden", due_on=timezone.localdate() - 10 * DAY)
    expectation.expected_actors.add(macron)
    services.flag_overdue_expectations()
    daily(actors=[macron])
    run()
    assert "Macron to call Biden" in text_of(mail.outbox[0])


def test_each_section_is_bounded_with_the_count_of_the_rest():
    story = StoryFactory()
    events = EventFactory.create_batch(digests.SECTION_LIMIT + 5, story=story)
    daily(stories=[story])

    run()

    body = text_of(mail.outbox[0])
    assert body.count("\n* ") == digests.SECTION_LIMIT
    # The latest first: the five that started earliest are left for the site.
    earliest = sorted(events, key=lambda e: e.start)[:5]
    assert not any(f"* {e.title}\n" in body for e in earliest)
    latest = max(events, key=lambda e: e.start)
    assert body.split("\n* ")[1].startswith(f"{latest.title}\n")
    assert "And 5 more on the site" in body
    assert DigestDelivery.objects.get().item_count == digests.SECTION_LIMIT + 5


def test_collecting_costs_the_same_for_five_subscribers_or_fifty(django_assert_max_num_queries):
    story, topic, actor = StoryFactory(), TopicFactory(), ActorFactory()
    for n in range(10):
        event = EventFactory(story=story, published_at=timezone.now() - 2 * DAY if n % 2 else timezone.now())
        event.topics.add(topic)
        ParticipationFactory(event=event, actor=actor)
        services.update_event(event=event, expected_version=1, title=f"Edited {n}")
        CorrectionFactory(event=event)
    for _ in range(50):
        daily(stories=[story], topics=[topic], actors=[actor])
    later = a_day_later()
    claimed, _ = pipeline.claim(frequencies=("daily",), kind="digest", now=later, size=50)

    with django_assert_max_num_queries(20) as five:
        digests.collect(claimed[:5], now=later)
    with django_assert_max_num_queries(len(five.captured_queries)):
        collected = digests.collect(claimed, now=later)
    # Five new events, five updated ones, ten corrections.
    assert [d.item_count for d in collected.values()] == [20] * 50


# --- Periods and retries ---------------------------------------------------------------------------


def test_a_daily_digest_keeps_its_time_of_day():
    started = timezone.now() - datetime.timedelta(minutes=1)
    subscriber = daily(stories=[EventFactory().story], last_digest_at=started)
    run(now=started + DAY + datetime.timedelta(minutes=7))
    subscriber.refresh_from_db()
    assert subscriber.last_digest_at == started + DAY


def test_after_days_without_a_run_one_digest_covers_them_all():
    started = timezone.now() - datetime.timedelta(minutes=1)
    subscriber = daily(stories=[EventFactory().story], last_digest_at=started)
    assert run(now=started + 3 * DAY + datetime.timedelta(hours=5))["sent"] == 1
    subscriber.refresh_from_db()
    assert subscriber.last_digest_at == started + 3 * DAY


def test_a_retry_after_a_crash_sends_the_claimed_period_with_its_own_end():
    story = StoryFactory()
    subscriber = daily(stories=[story])
    EventFactory(story=story, title="Before the crash")
    crashed_at = a_day_later()
    pipeline.claim(frequencies=("daily",), kind="digest", now=crashed_at)
    [claimed] = DigestDelivery.objects.all()

    assert run(now=crashed_at + datetime.timedelta(hours=5))["sent"] == 1

    delivery = DigestDelivery.objects.get()
    assert delivery.pk == claimed.pk and delivery.period_end == claimed.period_end
    subscriber.refresh_from_db()
    assert subscriber.last_digest_at == claimed.period_end
    assert mail.outbox[0].extra_headers["Message-ID"].startswith(f"<digest-{claimed.pk}@")


def test_a_delivery_already_sent_is_not_sent_again_by_a_late_run():
    daily(stories=[EventFactory().story])
    later = a_day_later()
    claimed, _ = pipeline.claim(frequencies=("daily",), kind="digest", now=later)
    collected = digests.collect(claimed, now=later)
    first = pipeline.deliver(collected[claimed[0].pk], send=mail.outbox.append)
    second = pipeline.deliver(collected[claimed[0].pk], send=mail.outbox.append)
    assert (first, second) == ("sent", "skipped")
    assert len(mail.outbox) == 1


def test_a_subscriber_confirmed_without_a_period_start_counts_from_the_confirmation():
    story = EventFactory().story
    subscriber = daily(stories=[story], last_digest_at=None, confirmed_at=timezone.now() - datetime.timedelta(hours=1))
    assert run()["sent"] == 1
    assert DigestDelivery.objects.get().period_start == subscriber.confirmed_at


# --- Immediate alerts ------------------------------------------------------------------------------


def immediate(**follows) -> Subscriber:
    return daily(frequency=Subscriber.Frequency.IMMEDIATE, **follows)


def test_an_immediate_subscriber_gets_an_alert_for_a_publication():
    story = StoryFactory()
    subscriber = immediate(stories=[story])
    draft = EventFactory(
        story=story, title="Russia recognises Donbas separatists", publication="draft", published_at=None
    )
    services.publish_event(event=draft)

    report = run(kind=pipeline.ALERT, now=timezone.now() + pipeline.SETTLE + datetime.timedelta(seconds=1))

    assert report["sent"] == 1
    [message] = sent_to(subscriber.email)
    assert message.subject == "New: Russia recognises Donbas separatists"
    assert message.extra_headers["Message-ID"].startswith(f"<alert-{DigestDelivery.objects.get().pk}@")


def test_the_alert_pass_leaves_daily_subscribers_to_their_digest():
    daily(stories=[EventFactory().story])
    assert run(kind=pipeline.ALERT)["sent"] == 0


def test_the_alert_pass_writes_nothing_when_nothing_changed():
    immediate(stories=[StoryFactory()])
    EventFactory(publication=Event.Publication.DRAFT, published_at=None)
    later = timezone.now() + datetime.timedelta(minutes=1)
    Subscriber.objects.update(last_digest_at=timezone.now())
    assert run(kind=pipeline.ALERT, now=later) == {"sent": 0, "empty": 0, "skipped": 0}
    assert not DigestDelivery.objects.exists()


def test_a_burst_of_publications_queues_one_alert_run(django_capture_on_commit_callbacks):
    from tracker.celery import app

    app.control.purge()
    with app.connection_for_write() as connection:
        queued = connection.default_channel.client

        story = StoryFactory()
        for n in range(3):
            draft = EventFactory(story=story, publication="draft", published_at=None, title=f"Burst {n}")
            with django_capture_on_commit_callbacks(execute=True):
                services.publish_event(event=draft)
        assert queued.llen("celery") == 1
    app.control.purge()


# --- The quiet-story nudge ------------------------------------------------------------------------


def quiet_story(**fields) -> Story:
    long_ago = timezone.now() - datetime.timedelta(days=30)
    story = StoryFactory(**fields)
    Story.objects.filter(pk=story.pk).update(last_development_at=long_ago, created_at=long_ago)
    story.refresh_from_db()
    return story


def test_editors_are_told_once_in_one_message_about_stories_gone_quiet(settings):
    settings.EDITORS_EMAIL = ["desk@example.org"]
    quiet_story(title="Minsk talks")
    quiet_story(title="Arms control")
    StoryFactory(title="Busy story", last_development_at=timezone.now())
    quiet_story(title="Concluded story", status=Story.Status.CONCLUDED)
    from events import tasks

    assert tasks.nudge_quiet_stories() == {"nudged": 2}
    assert tasks.nudge_quiet_stories() == {"nudged": 0}

    [message] = mail.outbox
    assert message.to == ["desk@example.org"] and message.subject == "2 stories have gone quiet"
    assert "Minsk talks" in message.body and "Arms control" in message.body and "Busy" not in message.body
    assert "/desk/stories/quiet/" in message.body


def test_a_story_quiet_again_after_a_new_development_is_nudged_again():
    story = quiet_story()
    twenty_days_ago = timezone.now() - datetime.timedelta(days=20)
    assert pipeline.nudge_quiet_stories(send=lambda stories: None, now=twenty_days_ago) == 1
    Story.objects.filter(pk=story.pk).update(last_development_at=timezone.now() - datetime.timedelta(days=10))
    assert pipeline.nudge_quiet_stories(send=lambda stories: None) == 1
    assert pipeline.nudge_quiet_stories(send=lambda stories: None) == 0


def test_a_failed_nudge_is_retried_next_time():
    story = quiet_story()

    def fail(stories):
        raise OSError("mail server down")

    with pytest.raises(OSError):
        pipeline.nudge_quiet_stories(send=fail)
    story.refresh_from_db()
    assert story.quiet_nudged_at is None
    assert pipeline.nudge_quiet_stories(send=lambda stories: None) == 1


def test_a_message_parses_as_multipart_alternative():
    daily(stories=[EventFactory().story])
    run()
    parsed = email.message_from_bytes(mail.outbox[0].message().as_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.get_payload()] == ["text/plain", "text/html"]
