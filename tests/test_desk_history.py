"""The desk's history: every version with who and what changed, a diff of any two, restore, corrections."""

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import Correction, Event, Expectation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    user = factories.UserFactory(username="amelie", first_name="Amélie", last_name="Durand")
    user.groups.add(Group.objects.get_or_create(name=settings.EDITORS_GROUP)[0])
    return user


@pytest.fixture
def client(editor):
    client = Client()
    client.force_login(editor)
    return client


def _history_url(record) -> str:
    if isinstance(record, Event):
        return reverse("desk:event_history", args=[record.slug])
    return reverse("desk:expectation_history", args=[record.pk])


def _restore_url(record, history_id: int) -> str:
    if isinstance(record, Event):
        return reverse("desk:event_restore", args=[record.slug, history_id])
    return reverse("desk:expectation_restore", args=[record.pk, history_id])


def _edit(event: Event, by, **changes) -> Event:
    return services.update_event(event=event, expected_version=event.version, by=by, **changes)


def _text(response) -> str:
    """The page's text without tags and with spaces collapsed, as a reader sees it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# --- The list of versions --------------------------------------------------------------------------


def test_the_event_history_lists_versions_newest_first_with_who_and_what_changed(client, editor):
    event = factories.EventFactory(title="Talks in Moscow", kind=Event.Kind.MEETING)
    event = _edit(event, editor, title="Talks in the Kremlin", kind=Event.Kind.VISIT)

    response = client.get(_history_url(event))

    assert response.status_code == 200
    text = _text(response)
    assert text.index("Version 2") < text.index("Version 1")
    assert "by Amélie Durand" in text
    assert "Title was Talks in Moscow → now Talks in the Kremlin" in text
    assert "Kind was Meeting → now Visit" in text
    assert "Created." in text


def test_a_version_without_an_editor_is_the_systems_or_the_scheduled_checks(client):
    expectation = factories.ExpectationFactory(due_on=timezone.localdate() - datetime.timedelta(days=3))
    services.flag_overdue_expectations()

    text = _text(client.get(_history_url(expectation)))

    assert "by the scheduled check" in text
    assert "Flagged overdue by the scheduled check" in text
    assert "Status was Pending → now Overdue" in text
    assert "by the system" in text


def test_the_expectation_history_names_fields_as_the_desk_does(client, editor):
    macron = factories.ActorFactory(name="Emmanuel Macron")
    created = factories.ExpectationFactory(due_on=datetime.date(2030, 2, 8), due_precision="day")
    expectation = Expectation.objects.get(pk=created.pk)
    expectation.due_on = datetime.date(2030, 3, 1)
    expectation.due_precision = "month"
    expectation.save()
    expectation.expected_actors.set([macron])

    text = _text(client.get(_history_url(expectation)))

    assert "Due date was 8 Feb 2030 → now Mar 2030" in text
    assert "Due date precision was Day → now Month" in text
    assert "Latest acceptable date was 8 Feb 2030 → now 31 Mar 2030" in text
    assert "Expected actors was — → now Emmanuel Macron" in text


def test_an_event_date_is_shown_as_on_the_desk_at_its_precision_and_topics_by_name(client, editor):
    minsk = factories.TopicFactory(name="Minsk agreements")
    event = factories.EventFactory(start=datetime.datetime(2022, 2, 7, 15, tzinfo=datetime.UTC))
    event.topics.set([minsk])
    _edit(event, editor, start=datetime.datetime(2022, 2, 1, 12, tzinfo=datetime.UTC), start_precision="month")

    text = _text(client.get(_history_url(event)))

    assert "Date was 7 Feb 2022, 16:00 CET → now Feb 2022" in text
    assert "Date precision was Exact time → now Month" in text
    assert "Topics was — → now Minsk agreements" in text


def test_a_summary_change_is_shown_line_by_line(client, editor):
    event = factories.EventFactory(summary="Five hours of talks.\n\nNo agreement.")
    _edit(event, editor, summary="Five hours of talks.\n\nA road map was agreed.")

    response = client.get(_history_url(event))

    html = response.content.decode()
    assert re.search(r"<del[^>]*>.*No agreement\.</del>", html)
    assert re.search(r"<ins[^>]*>.*A road map was agreed\.</ins>", html)
    assert html.count("Five hours of talks.") == 1


def test_the_history_links_to_the_public_page_the_desk_edit_page_and_the_corrections(client):
    event = factories.EventFactory()
    expectation = factories.ExpectationFactory()

    event_page = client.get(_history_url(event)).content.decode()
    expectation_page = client.get(_history_url(expectation)).content.decode()

    assert f'href="{event.get_absolute_url()}"' in event_page
    assert f'href="{reverse("desk:event_edit", args=[event.slug])}"' in event_page
    assert f'href="{reverse("desk:event_correction", args=[event.slug])}"' in event_page
    assert f'href="{reverse("desk:expectation_detail", args=[expectation.pk])}"' in expectation_page


def test_an_htmx_request_gets_the_history_fragment(client):
    event = factories.EventFactory()

    response = client.get(_history_url(event), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="history"')
    assert "HX-Request" in response["Vary"]


def test_the_history_is_paged_fifty_versions_at_a_time(client, editor):
    event = factories.EventFactory(title="Version 1 title")
    for n in range(2, 56):
        event = _edit(event, editor, title=f"Version {n} title")

    ids = {row.version: f'id="version-{row.history_id}"' for row in event.history.all()}

    first = client.get(_history_url(event)).content.decode()
    second = client.get(_history_url(event) + "?page=2").content.decode()

    assert ids[55] in first and ids[6] in first and ids[5] not in first
    assert ids[5] in second and ids[1] in second and ids[6] not in second
    assert len(re.findall(r'<li class="history-version[ "]', first)) == 50
    # The oldest version of the first page still shows what it changed from the one before it.
    assert "Title was Version 5 title → now Version 6 title" in _text(client.get(_history_url(event)))


@pytest.mark.parametrize("versions", [3, 60])
def test_the_event_history_costs_the_same_whatever_its_number_of_versions(
    client, editor, versions, django_assert_max_num_queries
):
    topics = factories.TopicFactory.create_batch(3)
    places = factories.PlaceFactory.create_batch(2)
    event = factories.EventFactory()
    for n in range(versions):
        event = _edit(event, editor, title=f"Talks, take {n}", place=places[n % 2])
        event.topics.set(topics[: n % 3 + 1])

    with django_assert_max_num_queries(10):
        response = client.get(_history_url(event))

    assert response.status_code == 200


@pytest.mark.parametrize("versions", [3, 60])
def test_the_expectation_history_costs_the_same_whatever_its_number_of_versions(
    client, editor, versions, django_assert_max_num_queries
):
    actors = factories.ActorFactory.create_batch(3)
    expectation = factories.ExpectationFactory()
    for n in range(versions):
        expectation.title = f"Macron to visit Kyiv, take {n}"
        expectation.raised_by = factories.EventFactory(story=expectation.story) if n % 10 == 0 else None
        expectation.save()
        expectation.expected_actors.set(actors[: n % 3 + 1])

    with django_assert_max_num_queries(10):
        response = client.get(_history_url(expectation))

    assert response.status_code == 200


# --- The diff between two chosen versions -----------------------------------------------------------


def test_the_diff_between_two_chosen_versions(client, editor):
    event = factories.EventFactory(title="Talks in Moscow", status=Event.Status.SCHEDULED)
    first = event.history.get()
    event = _edit(event, editor, title="Talks in the Kremlin")
    event = _edit(event, editor, status=Event.Status.HAPPENED)
    third = event.history.first()

    response = client.get(_history_url(event), {"from": first.history_id, "to": third.history_id})

    assert response.status_code == 200
    comparison = _text(response).split("From version 1 to version 3", 1)[1].split("Versions, newest first")[0]
    assert "Title was Talks in Moscow → now Talks in the Kremlin" in comparison
    assert "Status was Scheduled → now Happened" in comparison
    assert f'<option value="{first.history_id}" selected>' in response.content.decode()


def test_the_compare_form_has_two_labelled_selects(client, editor):
    event = _edit(factories.EventFactory(), editor, title="Changed")

    html = client.get(_history_url(event)).content.decode()

    assert '<label for="compare-from">From version</label>' in html
    assert '<select id="compare-from" name="from"' in html
    assert '<label for="compare-to">To version</label>' in html


@pytest.mark.parametrize("query", [{"from": "first", "to": "2"}, {"from": "1"}, {"from": "", "to": ""}])
def test_a_diff_of_ids_that_are_not_versions_is_refused(client, query):
    event = factories.EventFactory()

    response = client.get(_history_url(event), query)

    assert response.status_code == 400
    assert "Choose two versions to compare" in response.content.decode()


def test_a_diff_with_a_version_of_another_record_is_refused(client):
    event = factories.EventFactory()
    other = factories.EventFactory()
    other_version = other.history.get().history_id

    response = client.get(_history_url(event), {"from": event.history.get().history_id, "to": other_version})

    assert response.status_code == 400
    assert f"There is no version {other_version} in the history of this event." in response.content.decode()


# --- Restoring -------------------------------------------------------------------------------------


def test_restoring_makes_a_new_version_equal_to_the_old_one_and_records_who(client, editor):
    minsk, nato, sanctions = factories.TopicFactory.create_batch(3)
    event = factories.EventFactory(title="Talks in Moscow", summary="Five hours.")
    event.topics.set([minsk, nato])
    old = event.history.first()
    event.refresh_from_db()
    event = _edit(event, editor, title="Talks in the Kremlin", summary="Six hours.")
    event.topics.set([sanctions])
    rows_before = event.history.count()

    response = client.post(_restore_url(event, old.history_id), {"loaded_version": event.version}, follow=True)

    assert response.redirect_chain[-1] == (_history_url(event), 302)
    assert "it is now version 3" in response.content.decode()
    event.refresh_from_db()
    assert (event.title, event.summary, event.version) == ("Talks in Moscow", "Five hours.", 3)
    assert set(event.topics.all()) == {minsk, nato}
    assert event.history.count() == rows_before + 1
    newest = event.history.first()
    assert newest.history_user == editor
    assert newest.history_change_reason.startswith("Restored the version of")


def test_restoring_an_expectation_brings_back_its_expected_actors(client, editor):
    macron, zelenskyy = factories.ActorFactory.create_batch(2)
    expectation = factories.ExpectationFactory(title="Macron to visit Kyiv")
    expectation.expected_actors.set([macron])
    old = expectation.history.first()
    expectation.refresh_from_db()
    expectation.title = "Zelenskyy to visit Paris"
    expectation.version += 1
    expectation.save()
    expectation.expected_actors.set([zelenskyy])

    response = client.post(_restore_url(expectation, old.history_id), {"loaded_version": expectation.version})

    assert response.status_code == 302
    expectation.refresh_from_db()
    assert expectation.title == "Macron to visit Kyiv"
    assert list(expectation.expected_actors.all()) == [macron]
    assert expectation.history.first().history_user == editor


def test_only_older_versions_offer_a_restore_button(client, editor):
    event = _edit(factories.EventFactory(), editor, title="Changed")

    html = client.get(_history_url(event)).content.decode()

    assert html.count("Restore this version") == 1
    assert f'action="{_restore_url(event, event.history.last().history_id)}"' in html
    assert f'name="loaded_version" value="{event.version}"' in html


def test_restoring_an_unknown_version_is_refused_and_changes_nothing(client, editor):
    event = _edit(factories.EventFactory(title="Talks in Moscow"), editor, title="Talks in the Kremlin")
    other = factories.EventFactory()
    rows_before = event.history.count()

    response = client.post(_restore_url(event, other.history.get().history_id), {"loaded_version": event.version})

    assert response.status_code == 400
    assert "Nothing was restored" in response.content.decode()
    assert "is not in the history of" in response.content.decode()
    event.refresh_from_db()
    assert (event.title, event.version, event.history.count()) == ("Talks in the Kremlin", 2, rows_before)


def test_restoring_over_a_version_changed_meanwhile_is_refused_and_says_what_changed(client, editor):
    event = factories.EventFactory(title="Talks in Moscow")
    first = event.history.get()
    event = _edit(event, editor, title="Talks in the Kremlin")
    seen = event.version
    _edit(event, editor, title="Talks in the Kremlin last five hours")

    response = client.post(_restore_url(event, first.history_id), {"loaded_version": seen})

    assert response.status_code == 409
    text = _text(response)
    assert "changed by someone else" in text
    assert "Title is now “Talks in the Kremlin last five hours”" in text
    event.refresh_from_db()
    assert (event.title, event.version) == ("Talks in the Kremlin last five hours", 3)


def test_a_restore_without_the_version_seen_is_refused(client, editor):
    event = factories.EventFactory(title="Talks in Moscow")
    first = event.history.get()
    event = _edit(event, editor, title="Talks in the Kremlin")

    response = client.post(_restore_url(event, first.history_id), {})

    assert response.status_code == 400
    event.refresh_from_db()
    assert event.title == "Talks in the Kremlin"


def test_restoring_a_version_that_breaks_a_rule_now_is_refused(client, editor):
    raised_by = factories.EventFactory()
    expectation = factories.ExpectationFactory(story=raised_by.story, raised_by=raised_by, title="Macron to Kyiv")
    with_raised_by = expectation.history.get()
    raised_by.delete()
    expectation.refresh_from_db()

    response = client.post(
        _restore_url(expectation, with_raised_by.history_id), {"loaded_version": expectation.version}
    )

    assert response.status_code == 400
    assert "Nothing was restored" in response.content.decode()
    expectation.refresh_from_db()
    assert expectation.raised_by is None


def test_a_restore_keeps_the_current_address(client, editor):
    event = factories.EventFactory(slug="talks-in-moscow")
    first = event.history.get()
    event = _edit(event, editor, slug="talks-in-the-kremlin")

    client.post(_restore_url(event, first.history_id), {"loaded_version": event.version})

    event.refresh_from_db()
    assert event.slug == "talks-in-the-kremlin"


# --- Corrections -----------------------------------------------------------------------------------


def test_the_corrections_page_shows_the_form_and_the_corrections_so_far(client):
    event = factories.EventFactory()
    factories.CorrectionFactory(event=event, text="The meeting lasted five hours, not six.")

    response = client.get(reverse("desk:event_correction", args=[event.slug]))

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<label for="id_text"[^>]*>Correction', html)
    assert "Add correction" in html
    assert "The meeting lasted five hours, not six." in html


def test_a_correction_is_added_recorded_with_who_and_shown_on_the_public_page(client, editor):
    event = factories.EventFactory()
    version = event.version

    response = client.post(
        reverse("desk:event_correction", args=[event.slug]), {"text": "The talks lasted five hours, not six."}
    )

    assert response.status_code == 302
    assert response["Location"] == _history_url(event)
    correction = Correction.objects.get(event=event)
    assert correction.created_by == editor
    assert abs(correction.created_at - timezone.now()) < datetime.timedelta(minutes=1)
    event.refresh_from_db()
    assert event.version == version
    public = Client().get(event.get_absolute_url()).content.decode()
    local = timezone.localtime(correction.created_at)
    text = '<span lang="en-gb">The talks lasted five hours, not six.</span>'
    assert f"{local.day} {local:%b %Y}</time>: {text}" in public


def test_the_editor_is_told_the_correction_was_added(client):
    event = factories.EventFactory()

    response = client.post(reverse("desk:event_correction", args=[event.slug]), {"text": "A fix."}, follow=True)

    assert "Correction added" in response.content.decode()


def test_an_empty_correction_is_refused_with_the_input_kept(client):
    event = factories.EventFactory()

    response = client.post(reverse("desk:event_correction", args=[event.slug]), {"text": "   "})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Write the correction readers will see." in html
    assert re.search(r"<textarea[^>]*name=\"text\"[^>]*>\s*   </textarea>", html)
    assert not Correction.objects.exists()


def test_a_correction_is_plain_text(client):
    event = factories.EventFactory()

    client.post(reverse("desk:event_correction", args=[event.slug]), {"text": "<b>Five</b> hours"})

    public = Client().get(event.get_absolute_url()).content.decode()
    assert "&lt;b&gt;Five&lt;/b&gt; hours" in public
    assert "<b>Five</b>" not in public


def test_the_corrections_page_costs_the_same_with_many_corrections(client, django_assert_max_num_queries):
    event = factories.EventFactory()
    factories.CorrectionFactory.create_batch(60, event=event, created_by=factories.UserFactory())

    with django_assert_max_num_queries(8):
        response = client.get(reverse("desk:event_correction", args=[event.slug]))

    assert response.status_code == 200


# --- Who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["desk:event_restore", "desk:event_correction"])
def test_posts_require_the_csrf_token(editor, url_name):
    event = factories.EventFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    args = [event.slug, event.history.get().history_id] if url_name == "desk:event_restore" else [event.slug]

    response = client.post(reverse(url_name, args=args), {"loaded_version": 1, "text": "A fix."})

    assert response.status_code == 403
    assert not Correction.objects.exists()
    assert event.history.count() == 1


def test_the_history_is_for_editors_only(client):
    event = factories.EventFactory()
    outsider = Client()
    outsider.force_login(factories.UserFactory())

    assert Client().get(_history_url(event)).status_code == 302
    assert outsider.get(_history_url(event)).status_code == 403
    assert outsider.post(reverse("desk:event_correction", args=[event.slug]), {"text": "x"}).status_code == 403


def test_restoring_takes_only_a_post(client):
    event = factories.EventFactory()

    assert client.get(_restore_url(event, event.history.get().history_id)).status_code == 405


def test_the_expectation_history_is_found_by_its_id(client):
    expectation = factories.ExpectationFactory(title="Macron to visit Kyiv")

    response = client.get(_history_url(expectation))

    assert response.status_code == 200
    assert "History of “Macron to visit Kyiv”" in response.content.decode()
    assert client.get(reverse("desk:expectation_history", args=[expectation.pk + 1000])).status_code == 404
    assert Expectation.objects.count() == 1
