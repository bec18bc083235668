"""History of events and expectations: who changed what and when, and restoring an earlier version."""

import pytest
from django.urls import reverse

from events import services
from events.models import Event, Expectation
from tests import factories
from tests.test_admin import _form_data

pytestmark = pytest.mark.django_db


def _edit_in_admin(client, record, **changes):
    opts = record._meta
    change_url = reverse(f"admin:events_{opts.model_name}_change", args=[record.pk])
    data = _form_data(client.get(change_url))
    data.update(changes)
    response = client.post(change_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    record.refresh_from_db()
    return record


def _revert_url(record, history_id) -> str:
    return reverse(f"admin:events_{record._meta.model_name}_simple_history", args=[record.pk, history_id])


def test_an_admin_edit_records_who_when_and_what(admin_client, admin_user):
    event = factories.EventFactory(title="Talks in Moscow")

    _edit_in_admin(admin_client, event, title="Talks in Moscow last five hours")

    newest, previous = event.history.all()[:2]
    assert newest.history_user == admin_user
    assert newest.history_date > previous.history_date
    delta = newest.diff_against(previous)
    assert {change.field for change in delta.changes} >= {"title", "version"}
    title = next(change for change in delta.changes if change.field == "title")
    assert (title.old, title.new) == ("Talks in Moscow", "Talks in Moscow last five hours")


def test_an_admin_edit_of_fields_and_topics_is_one_entry(admin_client, admin_user):
    minsk, nato = factories.TopicFactory.create_batch(2)
    event = factories.EventFactory(title="Talks in Moscow")
    event.topics.set([minsk])
    rows_before = event.history.count()

    _edit_in_admin(admin_client, event, title="Talks in the Kremlin", topics=[str(nato.pk)])

    assert event.history.count() == rows_before + 1
    newest = event.history.first()
    assert newest.history_user == admin_user
    changed = {change.field for change in newest.diff_against(newest.prev_record).changes}
    assert changed >= {"title", "topics", "version"}
    assert [row.topic_id for row in newest.topics.all()] == [nato.pk]


def test_the_history_page_lists_changes_and_the_editor(admin_client, admin_user):
    event = factories.EventFactory(title="Talks in Moscow")
    _edit_in_admin(admin_client, event, title="Talks in the Kremlin")

    response = admin_client.get(reverse("admin:events_event_history", args=[event.pk]))

    assert response.status_code == 200
    assert admin_user.username in response.text
    assert "Talks in Moscow" in response.text and "Talks in the Kremlin" in response.text


def test_the_revert_page_shows_the_old_version_read_only(admin_client):
    event = factories.EventFactory(title="Talks in Moscow")
    first = event.history.get()
    _edit_in_admin(admin_client, event, title="Talks in the Kremlin")

    response = admin_client.get(_revert_url(event, first.history_id))

    assert response.status_code == 200
    assert "Talks in Moscow" in response.text
    title = response.context["adminform"].form["title"]
    assert title.field.disabled and title.value() == "Talks in Moscow"
    assert 'name="_save"' in response.text


def test_restoring_through_the_admin_brings_back_the_old_title_and_moves_the_version_on(admin_client, admin_user):
    event = factories.EventFactory(title="Talks in Moscow")
    first = event.history.get()
    _edit_in_admin(admin_client, event, title="Talks in the Kremlin")
    assert event.version == 2
    rows_before = event.history.count()

    response = admin_client.post(_revert_url(event, first.history_id), {"_save": "Revert"}, follow=True)

    event.refresh_from_db()
    assert event.title == "Talks in Moscow"
    assert event.version == 3
    assert "it is now version 3" in response.text
    assert event.history.count() > rows_before
    newest = event.history.first()
    assert newest.history_user == admin_user
    assert newest.history_change_reason.startswith("Restored the version of")
    assert (newest.title, newest.version) == ("Talks in Moscow", 3)


def test_restoring_ignores_fields_posted_with_the_revert(admin_client):
    event = factories.EventFactory(title="Talks in Moscow")
    first = event.history.get()
    _edit_in_admin(admin_client, event, title="Talks in the Kremlin")

    admin_client.post(_revert_url(event, first.history_id), {"_save": "Revert", "title": "Injected", "version": 1})

    event.refresh_from_db()
    assert (event.title, event.version) == ("Talks in Moscow", 3)


def test_an_edit_opened_before_a_restore_is_stale(admin_client):
    event = factories.EventFactory(title="Talks in Moscow")
    first = event.history.get()
    _edit_in_admin(admin_client, event, title="Talks in the Kremlin")
    change_url = reverse("admin:events_event_change", args=[event.pk])
    opened = _form_data(admin_client.get(change_url))

    admin_client.post(_revert_url(event, first.history_id), {"_save": "Revert"})
    opened["title"] = "Overwriting the restore"
    response = admin_client.post(change_url, opened)

    assert "changed by someone else" in response.text
    event.refresh_from_db()
    assert event.title == "Talks in Moscow"


def test_restoring_an_expectation_through_the_admin(admin_client):
    expectation = factories.ExpectationFactory(title="Macron to visit Kyiv")
    first = expectation.history.get()
    _edit_in_admin(admin_client, expectation, title="Macron to visit Kyiv on Tuesday")

    admin_client.post(_revert_url(expectation, first.history_id), {"_save": "Revert"})

    expectation.refresh_from_db()
    assert (expectation.title, expectation.version) == ("Macron to visit Kyiv", 3)


def test_a_version_from_another_record_is_not_restored(admin_client):
    event = factories.EventFactory(title="Talks in Moscow")
    other = factories.EventFactory(title="Sanctions")

    response = admin_client.post(_revert_url(event, other.history.get().history_id), {"_save": "Revert"}, follow=True)

    assert "was not restored" in response.text
    event.refresh_from_db()
    assert (event.title, event.version) == ("Talks in Moscow", 1)


def test_restore_brings_back_the_topics_of_an_event(admin_user):
    minsk, nato, sanctions = factories.TopicFactory.create_batch(3)
    event = factories.EventFactory()
    event.topics.set([minsk, nato])
    with_two_topics = event.history.first()
    event.topics.set([sanctions])
    event.refresh_from_db()

    restored = services.restore_version(record=event, history_id=with_two_topics.history_id, by=admin_user)

    assert set(restored.topics.all()) == {minsk, nato}
    assert set(Event.objects.get(pk=event.pk).topics.all()) == {minsk, nato}
    newest = event.history.first()
    assert {row.topic_id for row in newest.topics.all()} == {minsk.pk, nato.pk}
    assert newest.history_user == admin_user


def test_restore_brings_back_the_expected_actors_of_an_expectation(admin_user):
    macron, zelenskyy, scholz = factories.ActorFactory.create_batch(3)
    expectation = factories.ExpectationFactory()
    expectation.expected_actors.set([macron, zelenskyy])
    with_both = expectation.history.first()
    expectation.expected_actors.set([scholz])
    expectation.refresh_from_db()
    version_before = expectation.version

    restored = services.restore_version(record=expectation, history_id=with_both.history_id, by=admin_user)

    assert set(Expectation.objects.get(pk=expectation.pk).expected_actors.all()) == {macron, zelenskyy}
    assert restored.version == version_before + 1
    newest = expectation.history.first()
    assert {row.actor_id for row in newest.expected_actors.all()} == {macron.pk, zelenskyy.pk}


def test_a_restore_is_one_entry_in_the_history(admin_user):
    minsk, nato = factories.TopicFactory.create_batch(2)
    event = factories.EventFactory(title="Talks in Moscow")
    event.topics.set([minsk])
    before = event.history.first()
    event.title = "Talks in the Kremlin"
    event.save()
    event.topics.set([nato])
    rows_before = event.history.count()

    services.restore_version(record=event, history_id=before.history_id, by=admin_user)

    assert event.history.count() == rows_before + 1
    newest = event.history.first()
    assert newest.title == "Talks in Moscow"
    assert [row.topic_id for row in newest.topics.all()] == [minsk.pk]


def test_restoring_a_draft_version_of_a_published_event_updates_the_story(admin_user):
    story = factories.StoryFactory()
    event = factories.EventFactory(story=story, publication=Event.Publication.DRAFT, published_at=None)
    draft = event.history.get()
    services.publish_event(event=event, by=admin_user)
    story.refresh_from_db()
    assert story.last_development_at is not None

    services.restore_version(record=event, history_id=draft.history_id, by=admin_user)

    story.refresh_from_db()
    assert story.last_development_at is None


def test_an_editor_who_may_only_view_cannot_restore(client):
    from django.contrib.auth.models import Permission

    viewer = factories.UserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_event"))
    client.force_login(viewer)
    event = factories.EventFactory(title="Talks in Moscow")
    first = event.history.get()
    event.title = "Talks in the Kremlin"
    event.save()

    assert client.get(reverse("admin:events_event_history", args=[event.pk])).status_code == 200
    response = client.post(_revert_url(event, first.history_id), {"_save": "Revert"})

    assert response.status_code == 403
    event.refresh_from_db()
    assert event.title == "Talks in the Kremlin"


def test_an_unknown_version_is_not_found(admin_client):
    event = factories.EventFactory()

    assert admin_client.post(_revert_url(event, "latest"), {"_save": "Revert"}).status_code == 404


def test_the_expectation_history_page_shows_changed_expected_actors(admin_client):
    macron = factories.ActorFactory(name="Emmanuel Macron")
    expectation = factories.ExpectationFactory()
    expectation.expected_actors.set([macron])

    response = admin_client.get(reverse("admin:events_expectation_history", args=[expectation.pk]))

    assert response.status_code == 200
    assert "Expected actors" in response.text and "Emmanuel Macron" in response.text
