"""The admin as an editor uses it: every page opens, search and filters find things, lists stay cheap,
and the change forms refuse to overwrite someone else's edit."""

import datetime
import threading
import time

import pytest
from django import forms
from django.contrib import admin
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from events.forms import EventAdminForm
from events.models import DigestDelivery, Event, Expectation, MediaItem, Participation, Story, UnannouncedOverdue
from tests import factories

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.model_name)
# DigestDelivery and UnannouncedOverdue rows are made by the jobs; axes's records of logins by axes itself
# (their add pages answer 403). Media are uploaded on the desk (where uploads are checked).
MADE_ELSEWHERE = (DigestDelivery, MediaItem, UnannouncedOverdue)
ADDABLE = [m for m in REGISTERED if m not in MADE_ELSEWHERE and m._meta.app_label != "axes"]


def _url(model: type, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _fields_of(form) -> dict:
    data = {}
    for name, field in form.fields.items():
        key, value = form.add_prefix(name), form[name].value()
        if isinstance(field.widget, forms.MultiWidget):
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{key}_{index}"] = "" if part is None else str(part)
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        elif value is not None:
            data[key] = str(value)
    return data


def _form_data(response) -> dict:
    """The POST an editor would send back: the change form and its inlines, as loaded."""
    data = _fields_of(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data[f"{formset.prefix}-TOTAL_FORMS"] = formset.initial_form_count()
        data[f"{formset.prefix}-INITIAL_FORMS"] = formset.initial_form_count()
        for form in formset.initial_forms:
            data.update(_fields_of(form))
    return data


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.model_name)
def test_every_changelist_answers(admin_client, model):
    assert admin_client.get(_url(model, "changelist")).status_code == 200


@pytest.mark.parametrize("model", ADDABLE, ids=lambda m: m._meta.model_name)
def test_every_add_page_answers(admin_client, model):
    assert admin_client.get(_url(model, "add")).status_code == 200


def test_every_model_of_the_app_is_registered():
    from django.apps import apps

    models = {m for m in apps.get_app_config("events").get_models() if not m.__name__.startswith("Historical")}
    assert models <= set(admin.site._registry)


def test_digest_deliveries_are_a_record_not_a_form(admin_client):
    delivery = DigestDelivery.objects.create(
        subscriber=factories.SubscriberFactory(),
        period_start=timezone.now() - datetime.timedelta(days=1),
        period_end=timezone.now(),
    )
    assert admin_client.get(_url(DigestDelivery, "add")).status_code == 403
    page = admin_client.get(_url(DigestDelivery, "change", delivery.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]


def test_the_overdue_queue_is_a_record_not_a_form(admin_client):
    queued = UnannouncedOverdue.objects.create(expectation=factories.ExpectationFactory())
    assert admin_client.get(_url(UnannouncedOverdue, "add")).status_code == 403
    page = admin_client.get(_url(UnannouncedOverdue, "change", queued.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]


def test_every_change_page_answers(admin_client):
    event = factories.EventFactory(place=factories.PlaceFactory(), forum=factories.ForumFactory())
    event.topics.add(factories.TopicFactory())
    factories.ParticipationFactory(event=event)
    factories.PositionFactory(discussion_point=factories.DiscussionPointFactory(event=event))
    factories.SourceFactory(event=event)
    factories.CorrectionFactory(event=event)
    MediaItem.objects.create(event=event, kind="page", url="https://example.org/statement")
    expectation = factories.ExpectationFactory(story=event.story, raised_by=event)
    expectation.expected_actors.add(factories.ActorFactory())
    factories.SubscriberFactory()
    for model in [m for m in ADDABLE if m._meta.app_label == "events"]:
        obj = model.objects.first()
        assert admin_client.get(_url(model, "change", obj.pk)).status_code == 200, model
    assert admin_client.get(_url(MediaItem, "change", MediaItem.objects.get().pk)).status_code == 200


def test_event_search_finds_title_and_participant(admin_client):
    talks = factories.EventFactory(title="Macron meets Putin in Moscow")
    factories.EventFactory(title="Sanctions package announced")
    factories.ParticipationFactory(event=talks, actor=factories.ActorFactory(name="Emmanuel Macron"))

    by_title = admin_client.get(_url(Event, "changelist"), {"q": "moscow"})
    by_actor = admin_client.get(_url(Event, "changelist"), {"q": "emmanuel"})

    assert list(by_title.context["cl"].result_list) == [talks]
    assert list(by_actor.context["cl"].result_list) == [talks]


def test_actor_search_finds_an_alias(admin_client):
    macron = factories.ActorFactory(name="Emmanuel Macron", aliases=["Président de la République", "Élysée"])
    factories.ActorFactory(name="Vladimir Putin", aliases=["Kremlin"])

    response = admin_client.get(_url(type(macron), "changelist"), {"q": "élysée"})

    assert list(response.context["cl"].result_list) == [macron]


def test_overdue_now_filter_follows_the_dates_not_the_job(admin_client):
    today = timezone.localdate()
    story = factories.StoryFactory()
    late_unflagged = factories.ExpectationFactory(story=story, due_on=today - datetime.timedelta(days=3))
    late_flagged = factories.ExpectationFactory(
        story=story, due_on=today - datetime.timedelta(days=5), status=Expectation.Status.OVERDUE
    )
    factories.ExpectationFactory(story=story, due_on=today + datetime.timedelta(days=3))
    factories.ExpectationFactory(story=story, due_on=None)
    factories.ExpectationFactory(
        story=story, due_on=today - datetime.timedelta(days=9), status=Expectation.Status.CANCELLED
    )

    response = admin_client.get(_url(Expectation, "changelist"), {"overdue_now": "yes"})

    assert set(response.context["cl"].result_list) == {late_unflagged, late_flagged}
    assert b"Overdue now" in response.content


def test_unreviewed_filter(admin_client):
    unreviewed = factories.ExpectationFactory()
    factories.ExpectationFactory(reviewed_at=timezone.now())

    response = admin_client.get(_url(Expectation, "changelist"), {"unreviewed": "yes"})

    assert list(response.context["cl"].result_list) == [unreviewed]


def test_event_changelist_query_count_does_not_grow_with_events(admin_client, django_assert_max_num_queries):
    story = factories.StoryFactory()
    place = factories.PlaceFactory(time_zone="Europe/Moscow")
    for event in factories.EventFactory.create_batch(50, story=story, place=place):
        factories.ParticipationFactory(event=event)

    with django_assert_max_num_queries(12):
        response = admin_client.get(_url(Event, "changelist"))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 50
    assert "MSK" in response.text


def test_expectation_changelist_query_count_does_not_grow(admin_client, django_assert_max_num_queries):
    story = factories.StoryFactory()
    fulfilling = factories.EventFactory(story=story)
    factories.ExpectationFactory.create_batch(25, story=story)
    factories.ExpectationFactory.create_batch(
        25, story=story, status=Expectation.Status.FULFILLED, fulfilled_by=fulfilling
    )

    with django_assert_max_num_queries(12):
        response = admin_client.get(_url(Expectation, "changelist"))

    assert len(response.context["cl"].result_list) == 50


def test_story_changelist_counts_events_and_expectations(admin_client):
    story = factories.StoryFactory()
    factories.EventFactory.create_batch(3, story=story)
    factories.ExpectationFactory.create_batch(2, story=story)

    response = admin_client.get(_url(Story, "changelist"))

    row = response.context["cl"].result_list[0]
    assert (row.event_total, row.expectation_total) == (3, 2)


def test_an_edit_increments_the_version(admin_client):
    event = factories.EventFactory(title="Talks in Moscow")
    factories.ParticipationFactory(event=event)
    data = _form_data(admin_client.get(_url(Event, "change", event.pk)))
    data["title"] = "Talks in Moscow end after five hours"

    response = admin_client.post(_url(Event, "change", event.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event.refresh_from_db()
    assert (event.title, event.version) == ("Talks in Moscow end after five hours", 2)
    assert event.participations.count() == 1


def test_a_stale_edit_is_refused_and_nothing_saved(admin_client):
    event = factories.EventFactory(title="Talks in Moscow")
    data = _form_data(admin_client.get(_url(Event, "change", event.pk)))
    # Meanwhile another editor saves.
    Event.objects.filter(pk=event.pk).update(title="Talks in Moscow (updated)", version=2)
    data["title"] = "My change"

    response = admin_client.post(_url(Event, "change", event.pk), data)

    assert response.status_code == 200
    [error] = response.context["adminform"].form.non_field_errors()
    assert error.startswith("This event was changed by someone else since you opened it (you opened version 1")
    assert "changed by someone else" in response.text
    event.refresh_from_db()
    assert (event.title, event.version) == ("Talks in Moscow (updated)", 2)
    assert event.history.count() == 1


def test_a_stale_expectation_edit_is_refused(admin_client):
    expectation = factories.ExpectationFactory(title="Visit to Kyiv")
    data = _form_data(admin_client.get(_url(Expectation, "change", expectation.pk)))
    Expectation.objects.filter(pk=expectation.pk).update(version=5)
    data["title"] = "Visit to Kyiv next week"

    response = admin_client.post(_url(Expectation, "change", expectation.pk), data)

    assert "This expectation was changed by someone else" in response.text
    expectation.refresh_from_db()
    assert (expectation.title, expectation.version) == ("Visit to Kyiv", 5)


def test_fulfilling_in_the_admin_needs_the_fulfilling_event(admin_client):
    expectation = factories.ExpectationFactory()
    data = _form_data(admin_client.get(_url(Expectation, "change", expectation.pk)))
    data["status"] = Expectation.Status.FULFILLED

    response = admin_client.post(_url(Expectation, "change", expectation.pk), data)

    assert "fulfilled_by" in response.context["adminform"].form.errors
    expectation.refresh_from_db()
    assert expectation.status == Expectation.Status.PENDING


def test_an_expectation_is_only_fulfilled_by_an_event_of_its_story(admin_client):
    expectation = factories.ExpectationFactory()
    elsewhere = factories.EventFactory()
    data = _form_data(admin_client.get(_url(Expectation, "change", expectation.pk)))
    data.update(status=Expectation.Status.FULFILLED, fulfilled_by=elsewhere.pk)

    response = admin_client.post(_url(Expectation, "change", expectation.pk), data)

    assert response.context["adminform"].form.errors["fulfilled_by"] == [
        "An expectation can only be fulfilled by an event of its own story."
    ]


def test_fulfilling_in_the_admin_records_the_outcome(admin_client):
    expectation = factories.ExpectationFactory()
    event = factories.EventFactory(story=expectation.story)
    data = _form_data(admin_client.get(_url(Expectation, "change", expectation.pk)))
    data.update(status=Expectation.Status.FULFILLED, fulfilled_by=event.pk)

    response = admin_client.post(_url(Expectation, "change", expectation.pk), data)

    assert response.status_code == 302
    expectation.refresh_from_db()
    assert expectation.fulfilled_by == event
    assert expectation.resolved_at is not None
    assert expectation.reviewed_at is not None
    assert expectation.version == 2


def test_adding_an_event_starts_at_version_one_as_a_draft(admin_client, admin_user):
    story = factories.StoryFactory()

    response = admin_client.post(
        _url(Event, "add"),
        {
            "story": story.pk,
            "kind": Event.Kind.CALL,
            "title": "Macron calls Biden",
            "slug": "macron-calls-biden",
            "start_0": "2022-02-06",
            "start_1": "18:00",
            "start_precision": "exact",
            "end_precision": "exact",
            "status": Event.Status.HAPPENED,
            "participations-TOTAL_FORMS": 0,
            "participations-INITIAL_FORMS": 0,
            "sources-TOTAL_FORMS": 0,
            "sources-INITIAL_FORMS": 0,
            "discussion_points-TOTAL_FORMS": 0,
            "discussion_points-INITIAL_FORMS": 0,
            "corrections-TOTAL_FORMS": 1,
            "corrections-INITIAL_FORMS": 0,
            "corrections-0-text": "First version gave the wrong hour.",
            "corrections-0-created_at_0": "2022-02-07",
            "corrections-0-created_at_1": "09:00",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get(slug="macron-calls-biden")
    assert (event.version, event.publication, event.created_by) == (1, Event.Publication.DRAFT, admin_user)
    assert event.corrections.get().created_by == admin_user
    assert event.history.get().history_type == "+"


def test_publish_action_publishes_through_the_service(admin_client):
    story = factories.StoryFactory()
    draft = factories.EventFactory(story=story, publication=Event.Publication.DRAFT, published_at=None)
    published = factories.EventFactory(story=story)
    first_published_at = published.published_at

    response = admin_client.post(
        _url(Event, "changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk, published.pk]},
        follow=True,
    )

    assert "Published 1 event. 1 already published" in response.text
    draft.refresh_from_db()
    published.refresh_from_db()
    story.refresh_from_db()
    assert draft.is_published and draft.version == 2
    assert published.published_at == first_published_at
    assert story.last_development_at == max(draft.published_at, published.published_at)


def test_mark_reviewed_action(admin_client, admin_user):
    expectation = factories.ExpectationFactory()

    admin_client.post(
        _url(Expectation, "changelist"), {"action": "mark_reviewed", "_selected_action": [expectation.pk]}
    )

    expectation.refresh_from_db()
    assert expectation.reviewed_at is not None
    assert expectation.version == 2
    assert expectation.history.first().history_user == admin_user


def test_positions_are_edited_on_the_discussion_point(admin_client):
    point = factories.DiscussionPointFactory()
    macron = factories.ActorFactory()

    response = admin_client.post(
        _url(type(point), "change", point.pk),
        {
            "event": point.event.pk,
            "title": point.title,
            "order": 0,
            "positions-TOTAL_FORMS": 1,
            "positions-INITIAL_FORMS": 0,
            "positions-0-actor": macron.pk,
            "positions-0-stance": "Pushed for de-escalation.",
        },
    )

    assert response.status_code == 302
    assert point.positions.get().actor == macron


def test_participants_inline_refuses_the_same_actor_twice(admin_client):
    event = factories.EventFactory()
    actor = factories.ActorFactory()
    data = _form_data(admin_client.get(_url(Event, "change", event.pk)))
    data.update(
        {
            "participations-TOTAL_FORMS": 2,
            "participations-0-actor": actor.pk,
            "participations-0-role": "host",
            "participations-1-actor": actor.pk,
            "participations-1-role": "guest",
        }
    )

    response = admin_client.post(_url(Event, "change", event.pk), data)

    assert response.status_code == 200
    assert not Participation.objects.filter(event=event).exists()
    event.refresh_from_db()
    assert event.version == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_saves_of_the_same_version_let_only_the_first_through():
    """The first save holds the row lock from its check to its commit; the second waits, then is refused."""
    event = factories.EventFactory(title="Talks in Moscow")
    first_checked, first_may_commit = threading.Event(), threading.Event()
    outcome = {}

    def data(title: str) -> dict:
        return {
            "story": event.story_id,
            "kind": event.kind,
            "title": title,
            "slug": event.slug,
            "start": event.start.isoformat(),
            "start_precision": event.start_precision,
            "end_precision": event.end_precision,
            "status": event.status,
            "loaded_version": 1,
        }

    def first_editor():
        try:
            with transaction.atomic():
                form = EventAdminForm(data("First editor's title"), instance=Event.objects.get(pk=event.pk))
                outcome["first_valid"] = form.is_valid()
                first_checked.set()
                first_may_commit.wait(5)
                form.save()
        finally:
            connection.close()

    def second_editor():
        try:
            first_checked.wait(5)
            with transaction.atomic():
                form = EventAdminForm(data("Second editor's title"), instance=Event.objects.get(pk=event.pk))
                outcome["second_valid"] = form.is_valid()
                outcome["second_errors"] = form.non_field_errors()
        finally:
            connection.close()

    threads = [threading.Thread(target=first_editor), threading.Thread(target=second_editor)]
    for thread in threads:
        thread.start()
    first_checked.wait(5)
    time.sleep(0.3)  # the second editor is now waiting on the row lock
    assert "second_valid" not in outcome
    first_may_commit.set()
    for thread in threads:
        thread.join(10)

    assert outcome["first_valid"] is True
    assert outcome["second_valid"] is False
    assert "changed by someone else" in outcome["second_errors"][0]
    event.refresh_from_db()
    assert (event.title, event.version) == ("First editor's title", 2)


def test_after_a_stale_refusal_saving_the_shown_form_again_goes_through(admin_client):
    event = factories.EventFactory(title="Talks in Moscow")
    data = _form_data(admin_client.get(_url(Event, "change", event.pk)))
    Event.objects.filter(pk=event.pk).update(title="Their title", version=2)
    refused = admin_client.post(_url(Event, "change", event.pk), {**data, "title": "My title"})
    shown_version = refused.context["adminform"].form["loaded_version"].value()

    again = admin_client.post(
        _url(Event, "change", event.pk), {**data, "title": "My title", "loaded_version": shown_version}
    )

    assert again.status_code == 302
    event.refresh_from_db()
    assert (event.title, event.version) == ("My title", 3)
