"""Domain actions: each rule refused with a clear message, each action safe to repeat."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events import services, tasks
from events.bulk import record_history
from events.models import Event, Expectation
from tests.factories import ActorFactory, EventFactory, ExpectationFactory, StoryFactory, UserFactory

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def _side_by_side(*bodies) -> None:
    """Run each body in its own thread (each with its own database connection) and wait for all."""
    threads = [threading.Thread(target=body) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_publishing_a_draft_stamps_it_and_moves_the_story_forward():
    draft = EventFactory(publication=Event.Publication.DRAFT, published_at=None)
    published = services.publish_event(event=draft)
    assert published.is_published and published.published_at
    draft.story.refresh_from_db()
    assert draft.story.last_development_at == published.published_at


def test_publishing_twice_keeps_the_first_publication_time():
    draft = EventFactory(publication=Event.Publication.DRAFT, published_at=None)
    first = services.publish_event(event=draft)
    again = services.publish_event(event=draft)
    assert again.published_at == first.published_at
    assert again.version == first.version


def test_an_edit_from_a_stale_version_is_refused_and_changes_nothing():
    event = EventFactory(title="Talks in Moscow")
    services.update_event(event=event, expected_version=1, title="Talks in the Kremlin")
    with pytest.raises(services.StaleVersionError, match="changed by someone else"):
        services.update_event(event=event, expected_version=1, title="Talks at the Élysée")
    event.refresh_from_db()
    assert event.title == "Talks in the Kremlin"
    assert event.version == 2


def test_an_edit_that_breaks_a_rule_is_refused_before_the_database():
    event = EventFactory()
    with pytest.raises(ValidationError):
        services.update_event(event=event, expected_version=1, end=event.start - datetime.timedelta(hours=1))


def test_fulfilling_links_the_event_and_records_who_did_it():
    editor = UserFactory()
    event = EventFactory()
    expectation = ExpectationFactory(story=event.story)
    services.fulfil_expectation(expectation=expectation, event=event, by=editor)
    expectation.refresh_from_db()
    assert expectation.status == Expectation.Status.FULFILLED
    assert expectation.fulfilled_by == event
    assert expectation.history.first().history_user == editor


def test_an_expectation_cannot_be_fulfilled_by_another_story_event():
    expectation = ExpectationFactory()
    with pytest.raises(services.ApplicationError, match="its own story"):
        services.fulfil_expectation(expectation=expectation, event=EventFactory(story=StoryFactory()))


def test_a_cancelled_expectation_cannot_then_be_fulfilled():
    event = EventFactory()
    expectation = services.cancel_expectation(expectation=ExpectationFactory(story=event.story))
    with pytest.raises(services.ApplicationError, match="cancelled"):
        services.fulfil_expectation(expectation=expectation, event=event)


def test_flagging_marks_only_pending_expectations_past_their_latest_date():
    late = ExpectationFactory(due_on=YESTERDAY)
    ExpectationFactory(due_on=timezone.localdate())
    ExpectationFactory(due_on=None)
    ExpectationFactory(due_on=YESTERDAY, status=Expectation.Status.CANCELLED)
    assert services.flag_overdue_expectations() == [late.pk]
    late.refresh_from_db()
    assert late.status == Expectation.Status.OVERDUE
    assert late.flagged_overdue_at is not None


def test_flagging_twice_changes_nothing_the_second_time():
    late = ExpectationFactory(due_on=YESTERDAY)
    services.flag_overdue_expectations()
    late.refresh_from_db()
    before = (late.status, late.flagged_overdue_at, late.version, late.history.count())
    assert services.flag_overdue_expectations() == []
    late.refresh_from_db()
    assert (late.status, late.flagged_overdue_at, late.version, late.history.count()) == before


def test_a_failed_announcement_is_retried_on_the_next_run():
    ExpectationFactory(due_on=YESTERDAY)
    services.flag_overdue_expectations()

    def broken_send(expectations):
        raise OSError("mail server down")

    with pytest.raises(OSError):
        services.announce_overdue(send=broken_send)
    told = []
    assert services.announce_overdue(send=told.append) == 1
    assert services.announce_overdue(send=told.append) == 0
    assert len(told) == 1


def _late_expectations(count: int, story=None) -> list[Expectation]:
    """`count` pending expectations past their latest date, each expecting one actor."""
    story = story or StoryFactory()
    actor = ActorFactory()
    late = ExpectationFactory.create_batch(count, story=story, due_on=YESTERDAY)
    Expectation.expected_actors.through.objects.bulk_create(
        Expectation.expected_actors.through(expectation=e, actor=actor) for e in late
    )
    return late


def test_flagging_costs_the_same_queries_for_10_or_200_newly_overdue(django_assert_num_queries):
    _late_expectations(10)
    with CaptureQueriesContext(connection) as ten:
        assert len(services.flag_overdue_expectations()) == 10
    _late_expectations(200)
    with django_assert_num_queries(len(ten)):
        assert len(services.flag_overdue_expectations()) == 200


def test_each_flagged_expectation_gets_its_history_record_with_the_next_version():
    late = _late_expectations(3)
    services.flag_overdue_expectations()
    for expectation in late:
        expectation.refresh_from_db()
        assert expectation.version == 2
        assert expectation.reviewed_at is None
        record = expectation.history.first()
        assert (record.history_type, record.history_change_reason) == ("~", "Flagged overdue by the scheduled check")
        assert (record.version, record.status, record.flagged_overdue_at) == (
            2,
            Expectation.Status.OVERDUE,
            expectation.flagged_overdue_at,
        )
        # As a save would, the record keeps the actors expected then.
        assert [a.actor_id for a in record.expected_actors.all()] == [a.pk for a in expectation.expected_actors.all()]
        assert expectation.history.count() == 2


def test_a_second_flagging_run_flags_nothing_and_writes_no_history():
    late = _late_expectations(5)
    services.flag_overdue_expectations()
    records = Expectation.history.count()
    assert services.flag_overdue_expectations() == []
    assert Expectation.history.count() == records
    assert {e.version for e in Expectation.objects.filter(pk__in=[e.pk for e in late])} == {2}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_flagging_runs_flag_each_expectation_once():
    late = _late_expectations(20)
    first_holds_its_rows, second_done = threading.Event(), threading.Event()
    results: dict[str, list[int]] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = services.flag_overdue_expectations()
                first_holds_its_rows.set()
                # Still uncommitted while the second run goes: its rows are locked, not yet overdue.
                second_done.wait(timeout=30)
        finally:
            connection.close()

    def second() -> None:
        try:
            first_holds_its_rows.wait(timeout=30)
            results["second"] = services.flag_overdue_expectations()
            second_done.set()
        finally:
            connection.close()

    _side_by_side(first, second)

    assert sorted(results["first"]) == sorted(e.pk for e in late)
    assert results["second"] == []
    assert services.flag_overdue_expectations() == []
    for expectation in late:
        assert expectation.history.count() == 2


def test_the_overdue_announcement_lists_50_and_counts_the_rest(mailoutbox):
    _late_expectations(60)
    services.flag_overdue_expectations()
    assert services.announce_overdue(send=tasks._mail_editors_about_overdue) == 60
    (message,) = mailoutbox
    assert message.subject == "60 expectations now overdue"
    assert message.body.count("/desk/expectations/") == tasks.OVERDUE_LISTED + 1
    assert "And 10 more." in message.body
    assert services.announce_overdue(send=tasks._mail_editors_about_overdue) == 0


def test_the_announcement_lists_the_first_by_latest_date_and_counts_the_rest():
    story = StoryFactory()
    late = [ExpectationFactory(story=story, due_on=YESTERDAY - datetime.timedelta(days=n)) for n in (1, 4, 2, 5, 3)]
    services.flag_overdue_expectations()
    told = []
    assert services.announce_overdue(send=told.append, listed=3) == 5
    (announcement,) = told
    earliest = sorted(late, key=lambda e: (e.latest_on, e.pk))[:3]
    assert [e.pk for e in announcement.listed] == [e.pk for e in earliest]
    assert announcement.listed[0].story == story  # read with the listed ones, no query per row
    assert (announcement.count, announcement.more) == (5, 2)
    assert not Expectation.objects.flagged_unannounced().exists()


def test_the_announced_are_marked_only_once_the_send_has_returned():
    _late_expectations(3)
    services.flag_overdue_expectations()
    marked_during_send = []

    def send(announcement):
        marked_during_send.append(Expectation.objects.filter(overdue_announced_at__isnull=False).count())

    assert services.announce_overdue(send=send) == 3
    assert marked_during_send == [0]
    assert Expectation.objects.filter(overdue_announced_at__isnull=False).count() == 3


def test_the_overdue_job_costs_the_same_queries_for_10_or_200_newly_overdue(django_assert_num_queries, mailoutbox):
    _late_expectations(10)
    with CaptureQueriesContext(connection) as ten:
        assert tasks.flag_overdue_expectations.run() == {"flagged": 10, "announced": 10}
    _late_expectations(200)
    with django_assert_num_queries(len(ten)):
        assert tasks.flag_overdue_expectations.run() == {"flagged": 200, "announced": 200}
    assert [m.subject for m in mailoutbox] == ["10 expectations now overdue", "200 expectations now overdue"]
    assert "And 150 more." in mailoutbox[1].body


@pytest.mark.django_db(transaction=True)
def test_an_announcement_skips_the_rows_a_concurrent_one_is_telling():
    _late_expectations(4)
    services.flag_overdue_expectations()
    first_sending, second_done = threading.Event(), threading.Event()
    results: dict[str, int] = {}

    def first() -> None:
        def send(announcement):
            first_sending.set()
            # The rows stay locked while the message goes: the other run must pass them by.
            second_done.wait(timeout=30)

        try:
            results["first"] = services.announce_overdue(send=send)
        finally:
            connection.close()

    def second() -> None:
        try:
            first_sending.wait(timeout=30)
            results["second"] = services.announce_overdue(send=lambda announcement: None)
            second_done.set()
        finally:
            connection.close()

    _side_by_side(first, second)

    assert results == {"first": 4, "second": 0}
    assert services.announce_overdue(send=lambda announcement: None) == 0


def test_bulk_history_copies_many_to_many_relations_as_a_save_would():
    # The overdue job's path where the database cannot UPDATE within a WITH (SQLite).
    late = _late_expectations(2)
    recorded = record_history(
        Expectation,
        [e.pk for e in late],
        date=timezone.now(),
        user_id=None,
        reason="Checked",
        history_type="~",
        m2m=("expected_actors",),
    )
    assert sorted(row_id for _, row_id in recorded) == sorted(e.pk for e in late)
    for expectation in late:
        record = expectation.history.first()
        assert (record.history_type, record.history_change_reason) == ("~", "Checked")
        assert [a.actor_id for a in record.expected_actors.all()] == [a.pk for a in expectation.expected_actors.all()]


def test_a_slug_already_taken_gets_a_number():
    EventFactory(slug="macron-in-moscow")
    assert services.unique_slug(Event, "Macron in Moscow") == "macron-in-moscow-2"


def test_an_expectation_fulfilled_before_its_overdue_announcement_leaves_the_queue_untold():
    from events.models import UnannouncedOverdue

    story = StoryFactory()
    late = ExpectationFactory(story=story, due_on=timezone.localdate() - datetime.timedelta(days=3))
    still = ExpectationFactory(story=story, due_on=timezone.localdate() - datetime.timedelta(days=2))
    services.flag_overdue_expectations()
    assert set(UnannouncedOverdue.objects.values_list("expectation", flat=True)) == {late.pk, still.pk}
    Expectation.objects.filter(pk=late.pk).update(status=Expectation.Status.CANCELLED)
    told = []
    assert services.announce_overdue(send=told.append) == 1
    assert [e.pk for e in told[0].listed] == [still.pk]
    assert not UnannouncedOverdue.objects.exists()
    late.refresh_from_db()
    assert late.overdue_announced_at is None
