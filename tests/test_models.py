"""The database refuses bad rows by itself: each constraint, tried with a row that breaks it."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from events.models import DatePrecision, Event, Expectation, Source
from tests.factories import (
    ActorFactory,
    EventFactory,
    ExpectationFactory,
    ParticipationFactory,
    PlaceFactory,
    PositionFactory,
    SourceFactory,
    StoryFactory,
    SubscriberFactory,
)

pytestmark = pytest.mark.django_db

START = datetime.datetime(2022, 2, 7, 15, tzinfo=datetime.UTC)


def refused(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_an_event_cannot_end_before_it_starts():
    refused(lambda: EventFactory(start=START, end=START - datetime.timedelta(minutes=1)))


def test_an_event_may_end_when_it_starts():
    assert EventFactory(start=START, end=START).pk


@pytest.mark.parametrize("field", ["start_precision", "end_precision"])
def test_an_event_date_precision_must_be_a_known_one(field):
    refused(lambda: EventFactory(**{field: "fortnight"}))


@pytest.mark.parametrize("field,value", [("kind", "picnic"), ("status", "rumoured"), ("publication", "leaked")])
def test_an_event_choice_field_refuses_unknown_values(field, value):
    refused(lambda: EventFactory(**{field: value}))


def test_a_published_event_must_say_when_it_was_published():
    refused(lambda: EventFactory(publication=Event.Publication.PUBLISHED, published_at=None))


def test_a_draft_needs_no_publication_time():
    assert EventFactory(publication=Event.Publication.DRAFT, published_at=None).pk


def test_event_slugs_are_unique():
    EventFactory(slug="macron-in-moscow")
    refused(lambda: EventFactory(slug="macron-in-moscow"))


def test_story_slugs_are_unique():
    StoryFactory(slug="ukraine")
    refused(lambda: StoryFactory(slug="ukraine"))


def test_an_actor_takes_part_in_an_event_once():
    participation = ParticipationFactory()
    refused(lambda: ParticipationFactory(event=participation.event, actor=participation.actor))


def test_an_actor_states_one_position_per_discussion_point():
    position = PositionFactory()
    refused(lambda: PositionFactory(discussion_point=position.discussion_point, actor=position.actor))


def test_a_fulfilled_expectation_must_name_the_event_that_fulfilled_it():
    refused(lambda: ExpectationFactory(status=Expectation.Status.FULFILLED, fulfilled_by=None))


def test_only_a_fulfilled_expectation_names_a_fulfilling_event():
    event = EventFactory()
    refused(lambda: ExpectationFactory(story=event.story, status=Expectation.Status.PENDING, fulfilled_by=event))


def test_a_fulfilled_expectation_with_its_event_is_accepted():
    event = EventFactory()
    expectation = ExpectationFactory(story=event.story, status=Expectation.Status.FULFILLED, fulfilled_by=event)
    assert expectation.fulfilled_by == event


def test_the_latest_acceptable_date_cannot_precede_the_due_date():
    refused(lambda: ExpectationFactory(due_on=datetime.date(2022, 2, 10), latest_on=datetime.date(2022, 2, 9)))


def test_an_expectation_due_precision_must_be_a_known_one():
    refused(lambda: ExpectationFactory(due_precision="soonish"))


def test_an_expectation_status_must_be_a_known_one():
    refused(lambda: ExpectationFactory(status="forgotten"))


def test_a_source_backs_exactly_one_thing():
    event = EventFactory()
    expectation = ExpectationFactory(story=event.story)
    refused(lambda: SourceFactory(event=event, expectation=expectation))
    refused(lambda: SourceFactory(event=None, expectation=None))


def test_place_coordinates_must_be_on_earth():
    refused(lambda: PlaceFactory(latitude=91, longitude=0))


def test_subscriber_emails_are_unique_whatever_their_case():
    SubscriberFactory(email="reader@example.org")
    refused(lambda: SubscriberFactory(email="Reader@Example.org"))


def test_an_actor_cannot_be_its_own_affiliation():
    actor = ActorFactory()
    actor.affiliation_id = actor.pk
    refused(actor.save)


def test_an_actor_who_took_part_in_events_cannot_be_deleted():
    participation = ParticipationFactory()
    with pytest.raises(ProtectedError):
        participation.actor.delete()


def test_an_event_that_fulfilled_an_expectation_cannot_be_deleted():
    event = EventFactory()
    ExpectationFactory(story=event.story, status=Expectation.Status.FULFILLED, fulfilled_by=event)
    with pytest.raises(RestrictedError):
        event.delete()


def test_a_story_whose_expectations_were_fulfilled_can_still_be_deleted_whole():
    event = EventFactory()
    ExpectationFactory(story=event.story, status=Expectation.Status.FULFILLED, fulfilled_by=event)
    event.story.delete()
    assert not Event.objects.exists() and not Expectation.objects.exists()


def test_deleting_a_story_takes_its_events_and_their_sources_with_it():
    source = SourceFactory()
    source.event.story.delete()
    assert not Event.objects.exists()
    assert not Source.objects.exists()


def test_the_latest_acceptable_date_follows_from_the_due_date_and_its_precision():
    by_month = ExpectationFactory(due_on=datetime.date(2022, 2, 1), due_precision=DatePrecision.MONTH)
    by_day = ExpectationFactory(due_on=datetime.date(2022, 2, 8), due_precision=DatePrecision.DAY)
    roughly = ExpectationFactory(due_on=datetime.date(2022, 2, 10), due_precision=DatePrecision.APPROXIMATE)
    assert by_month.latest_on == datetime.date(2022, 2, 28)
    assert by_day.latest_on == datetime.date(2022, 2, 8)
    assert roughly.latest_on == datetime.date(2022, 2, 17)


def test_an_open_ended_expectation_is_never_overdue():
    expectation = ExpectationFactory(due_on=None)
    assert expectation.latest_on is None
    assert not expectation.is_overdue


def test_a_pending_expectation_is_overdue_as_soon_as_its_date_passes_without_any_job():
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    expectation = ExpectationFactory(due_on=yesterday)
    assert expectation.status == Expectation.Status.PENDING
    assert expectation.is_overdue
    assert list(Expectation.objects.open().past_due(timezone.localdate())) == [expectation]


def test_an_expectation_due_today_is_not_yet_overdue():
    assert not ExpectationFactory(due_on=timezone.localdate()).is_overdue


def test_a_derived_latest_date_moves_when_the_due_date_is_postponed():
    expectation = ExpectationFactory(due_on=datetime.date(2022, 2, 1), due_precision=DatePrecision.MONTH)
    expectation = Expectation.objects.get(pk=expectation.pk)
    expectation.due_on = datetime.date(2022, 3, 1)
    expectation.full_clean()
    expectation.save()
    expectation.refresh_from_db()
    assert expectation.latest_on == datetime.date(2022, 3, 31)


def test_a_latest_date_chosen_by_an_editor_is_kept_when_the_due_date_changes():
    expectation = ExpectationFactory(due_on=datetime.date(2022, 2, 10), latest_on=datetime.date(2022, 2, 20))
    expectation = Expectation.objects.get(pk=expectation.pk)
    expectation.due_on = datetime.date(2022, 2, 12)
    expectation.save()
    expectation.refresh_from_db()
    assert expectation.latest_on == datetime.date(2022, 2, 20)


def test_removing_the_due_date_removes_a_derived_latest_date():
    expectation = Expectation.objects.get(pk=ExpectationFactory(due_on=datetime.date(2022, 2, 10)).pk)
    expectation.due_on = None
    expectation.save()
    expectation.refresh_from_db()
    assert expectation.latest_on is None
