"""Expectations on the editors' desk: the lists, raising and editing one, and the decisions on its page
(fulfil, extend, cancel, supersede, mark reviewed), each recorded with who took it and when, each
refusal a message that changes nothing."""

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events import services
from events.desk_selectors import expectations as reads
from events.models import DatePrecision, Event, Expectation
from tests.factories import (
    ActorFactory,
    EventFactory,
    ExpectationFactory,
    PlaceFactory,
    StoryFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
HTMX = {"HX-Request": "true"}


@pytest.fixture
def editor():
    user = UserFactory(first_name="Ada", last_name="Editor")
    user.groups.add(Group.objects.get_or_create(name=settings.EDITORS_GROUP)[0])
    return user


@pytest.fixture
def client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def story():
    return StoryFactory(title="Talks on Ukraine")


@pytest.fixture
def overdue(story):
    """Raised by the Moscow talks, due on a day ten days ago: overdue by its dates."""
    raised_by = EventFactory(story=story, title="Macron and Putin meet in Moscow", start=_at(TODAY, -30))
    return ExpectationFactory(
        story=story, title="Macron travels to Kyiv", raised_by=raised_by, due_on=TODAY - datetime.timedelta(days=10)
    )


def _at(day: datetime.date, days: int) -> datetime.datetime:
    return datetime.datetime.combine(day + datetime.timedelta(days=days), datetime.time(12), datetime.UTC)


def _url(name: str, expectation: Expectation) -> str:
    return reverse(f"desk:{name}", args=[expectation.pk])


def _button(html: str, text: str) -> bool:
    return re.search(rf'<button [^>]*type="submit"[^>]*>\s*{re.escape(text)}\s*</button>', html) is not None


def _reload(expectation: Expectation) -> Expectation:
    return Expectation.objects.get(pk=expectation.pk)


def _just_now(moment: datetime.datetime) -> bool:
    return timezone.now() - datetime.timedelta(minutes=1) < moment <= timezone.now()


# --- The page of one expectation ------------------------------------------------------------------


def test_the_page_of_an_overdue_expectation_shows_overdue_and_the_fulfil_extend_and_cancel_buttons(client, overdue):
    response = client.get(_url("expectation_detail", overdue))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="badge badge--overdue">Overdue<' in html
    for text in ("Fulfil", "Extend", "Cancel", "Mark superseded", "Mark reviewed"):
        assert _button(html, text), text
    assert reverse("desk:expectation_history", args=[overdue.pk]) in html
    assert reverse("desk:expectation_edit", args=[overdue.pk]) in html


def test_every_decision_form_carries_the_version_loaded_and_a_csrf_token(client, overdue):
    html = client.get(_url("expectation_detail", overdue)).content.decode()
    assert html.count('name="loaded_version" value="1"') == 4
    assert html.count('name="csrfmiddlewaretoken"') >= 4


def test_a_resolved_expectation_offers_no_decisions(client, story):
    expectation = ExpectationFactory(
        story=story, status=Expectation.Status.CANCELLED, status_reason="Called off.", reviewed_at=timezone.now()
    )
    html = client.get(_url("expectation_detail", expectation)).content.decode()
    assert "Called off." in html
    assert not any(_button(html, text) for text in ("Fulfil", "Extend", "Cancel", "Mark reviewed"))


def test_the_page_shows_who_changed_it_and_why(client, overdue, editor):
    client.post(
        _url("expectation_extend", overdue),
        {"due_on": "2030-01-10", "due_precision": "day", "reason": "The trip moved to January.", "loaded_version": 1},
    )
    html = client.get(_url("expectation_detail", overdue)).content.decode()
    assert "Ada Editor" in html
    assert "The trip moved to January." in html


# --- Fulfil ----------------------------------------------------------------------------------------


def test_fulfilling_links_the_event_and_records_who_and_when(client, overdue, editor):
    visit = EventFactory(story=overdue.story, title="Macron in Kyiv")
    response = client.post(_url("expectation_fulfil", overdue), {"event": visit.pk, "loaded_version": 1})
    assert response.status_code == 302
    assert response["Location"] == _url("expectation_detail", overdue)
    fulfilled = _reload(overdue)
    assert fulfilled.status == Expectation.Status.FULFILLED
    assert fulfilled.fulfilled_by == visit
    assert fulfilled.resolved_at is not None
    entry = fulfilled.history.first()
    assert entry.history_user == editor
    assert entry.history_date >= fulfilled.resolved_at - datetime.timedelta(seconds=1)
    assert "Macron in Kyiv" in entry.history_change_reason
    assert "Marked fulfilled" in client.get(response["Location"]).content.decode()


def test_fulfilling_a_cancelled_expectation_is_refused_with_a_message(client, story):
    cancelled = ExpectationFactory(story=story, status=Expectation.Status.CANCELLED)
    response = client.post(
        _url("expectation_fulfil", cancelled), {"event": EventFactory(story=story).pk, "loaded_version": 1}
    )
    assert response.status_code == 400
    assert "only a pending or overdue expectation can be fulfilled" in response.content.decode()
    assert _reload(cancelled).status == Expectation.Status.CANCELLED
    assert _reload(cancelled).fulfilled_by is None


def test_fulfilling_with_an_event_of_another_story_is_refused(client, overdue):
    foreign = EventFactory(story=StoryFactory())
    response = client.post(_url("expectation_fulfil", overdue), {"event": foreign.pk, "loaded_version": 1})
    assert response.status_code == 400
    assert Expectation.FOREIGN_FULFILMENT in response.content.decode()
    assert _reload(overdue).status == Expectation.Status.PENDING


def test_fulfilling_again_with_another_event_is_refused_and_keeps_the_first(client, overdue):
    first, second = EventFactory(story=overdue.story), EventFactory(story=overdue.story)
    client.post(_url("expectation_fulfil", overdue), {"event": first.pk, "loaded_version": 1})
    response = client.post(_url("expectation_fulfil", overdue), {"event": second.pk, "loaded_version": 2})
    assert response.status_code == 400
    assert "is fulfilled; only a pending or overdue expectation" in response.content.decode()
    assert _reload(overdue).fulfilled_by == first


def test_fulfilling_again_with_the_same_event_is_harmless(client, overdue):
    visit = EventFactory(story=overdue.story)
    client.post(_url("expectation_fulfil", overdue), {"event": visit.pk, "loaded_version": 1})
    response = client.post(_url("expectation_fulfil", overdue), {"event": visit.pk, "loaded_version": 1})
    assert response.status_code == 302
    assert _reload(overdue).version == 2


@pytest.mark.parametrize("event", ["", "999999", "not-a-number"], ids=["missing", "unknown", "malformed"])
def test_fulfilling_without_a_known_event_is_a_form_error(client, overdue, event):
    response = client.post(_url("expectation_fulfil", overdue), {"event": event, "loaded_version": 1})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="fulfil_event_error"' in html
    assert "Choose the event that fulfilled it." in html or "does not exist" in html
    assert _reload(overdue).status == Expectation.Status.PENDING


# --- Finding the event that fulfilled it ----------------------------------------------------------


def test_the_fulfil_search_finds_events_of_the_same_story_only(client, overdue):
    mine = EventFactory(story=overdue.story, title="Macron lands in Kyiv")
    draft = EventFactory(
        story=overdue.story, title="Macron in Kyiv, draft", publication=Event.Publication.DRAFT, published_at=None
    )
    other = EventFactory(story=StoryFactory(), title="Macron in Kyiv, another story")
    html = client.get(_url("expectation_detail", overdue), {"q": "Kyiv"}).content.decode()
    assert f'name="event" id="fulfil_event_{mine.pk}" value="{mine.pk}"' in html
    assert f'value="{draft.pk}"' in html
    assert "Draft</span>" in html
    assert f'value="{other.pk}"' not in html


def test_the_fulfil_search_also_matches_words_of_the_summary(client, overdue):
    event = EventFactory(story=overdue.story, title="A visit", summary="Macron met Zelenskyy in the capital.")
    html = client.get(_url("expectation_detail", overdue), {"q": "Zelenskyy"}).content.decode()
    assert f'value="{event.pk}"' in html


def test_an_htmx_search_gets_just_the_list_of_choices(client, overdue):
    event = EventFactory(story=overdue.story, title="Macron lands in Kyiv")
    response = client.get(_url("expectation_detail", overdue), {"q": "kyiv"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="event-choices"')
    assert "<html" not in html and "Extend" not in html
    assert f'value="{event.pk}"' in html
    assert "HX-Request" in response["Vary"]


def test_without_a_search_the_choices_are_the_events_after_the_one_that_raised_it(client, overdue):
    before = EventFactory(story=overdue.story, start=_at(TODAY, -40))
    after = EventFactory(story=overdue.story, start=_at(TODAY, -5))
    html = client.get(_url("expectation_detail", overdue)).content.decode()
    assert f'value="{after.pk}"' in html
    assert f'value="{before.pk}"' not in html
    assert f'value="{overdue.raised_by_id}"' not in html


def test_the_search_input_is_labelled_and_searches_as_the_editor_types(client, overdue):
    html = client.get(_url("expectation_detail", overdue)).content.decode()
    assert '<label for="fulfil_q">Find the event</label>' in html
    assert 'hx-trigger="input changed delay:300ms, search"' in html
    assert f'hx-get="{_url("expectation_detail", overdue)}"' in html
    assert _button(html, "Find")


# --- Extend ----------------------------------------------------------------------------------------


def test_extending_moves_the_due_date_and_records_the_reason_who_and_when(client, story, editor):
    expectation = ExpectationFactory(story=story, due_on=datetime.date(2022, 2, 10))
    response = client.post(
        _url("expectation_extend", expectation),
        {"due_on": "2022-02-20", "due_precision": "day", "reason": "Postponed by the Élysée.", "loaded_version": 1},
    )
    assert response.status_code == 302
    extended = _reload(expectation)
    assert (extended.due_on, extended.latest_on) == (datetime.date(2022, 2, 20), datetime.date(2022, 2, 20))
    assert extended.status_reason == "Postponed by the Élysée."
    entry = extended.history.first()
    assert entry.history_user == editor and _just_now(entry.history_date)
    assert entry.history_change_reason == "Extended from 10 Feb 2022 to 20 Feb 2022: Postponed by the Élysée."


def test_extending_an_overdue_expectation_to_a_future_date_makes_it_pending_again(client, story):
    flagged = ExpectationFactory(
        story=story,
        due_on=TODAY - datetime.timedelta(days=3),
        status=Expectation.Status.OVERDUE,
        flagged_overdue_at=timezone.now(),
        overdue_announced_at=timezone.now(),
    )
    new_date = TODAY + datetime.timedelta(days=30)
    client.post(
        _url("expectation_extend", flagged),
        {"due_on": new_date.isoformat(), "due_precision": "day", "reason": "A new date.", "loaded_version": 1},
    )
    extended = _reload(flagged)
    assert extended.status == Expectation.Status.PENDING
    assert extended.flagged_overdue_at is None and extended.overdue_announced_at is None


def test_extending_without_a_latest_date_lets_it_follow_the_precision(client, story):
    expectation = ExpectationFactory(story=story, due_on=datetime.date(2022, 2, 10))
    client.post(
        _url("expectation_extend", expectation),
        {"due_on": "2022-03-01", "due_precision": "month", "reason": "In March now.", "loaded_version": 1},
    )
    assert _reload(expectation).latest_on == datetime.date(2022, 3, 31)


def test_extending_to_an_earlier_date_is_refused_with_a_message(client, story):
    expectation = ExpectationFactory(story=story, due_on=datetime.date(2022, 2, 10))
    response = client.post(
        _url("expectation_extend", expectation),
        {"due_on": "2022-02-01", "due_precision": "day", "reason": "Sooner.", "loaded_version": 1},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "before the current one" in html
    assert 'value="2022-02-01"' in html and "Sooner." in html
    assert _reload(expectation).due_on == datetime.date(2022, 2, 10)
    assert _reload(expectation).version == 1


def test_extending_a_cancelled_expectation_is_refused(client, story):
    cancelled = ExpectationFactory(story=story, status=Expectation.Status.CANCELLED)
    response = client.post(
        _url("expectation_extend", cancelled),
        {"due_on": "2030-01-01", "due_precision": "day", "reason": "Later.", "loaded_version": 1},
    )
    assert response.status_code == 400
    assert "only a pending or overdue expectation can be extended" in response.content.decode()
    assert _reload(cancelled).due_on == cancelled.due_on


def test_extending_without_a_reason_is_a_form_error_in_the_reason_row(client, overdue):
    response = client.post(
        _url("expectation_extend", overdue), {"due_on": "2030-01-01", "due_precision": "day", "loaded_version": 1}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-describedby="extend_reason_error"' in html
    assert "Give the reason for the new due date." in html
    assert _reload(overdue).due_on == overdue.due_on


def test_the_extend_form_offers_the_due_precisions_but_an_exact_time(client, overdue):
    html = client.get(_url("expectation_detail", overdue)).content.decode()
    assert '<label for="extend_due_on">New due date' in html
    assert '<input type="date" name="due_on"' in html
    assert '<label for="extend_due_precision">Due precision' in html
    assert 'value="month"' in html and 'value="exact"' not in html


# --- Cancel, supersede, review -------------------------------------------------------------------


def test_cancelling_records_the_reason_who_and_when(client, overdue, editor):
    response = client.post(
        _url("expectation_cancel", overdue), {"reason": "The trip was called off.", "loaded_version": 1}
    )
    assert response.status_code == 302
    cancelled = _reload(overdue)
    assert cancelled.status == Expectation.Status.CANCELLED
    assert cancelled.status_reason == "The trip was called off."
    assert cancelled.resolved_at is not None
    entry = cancelled.history.first()
    assert (entry.history_user, entry.history_change_reason) == (editor, "Cancelled: The trip was called off.")
    assert _just_now(entry.history_date)


def test_the_mark_superseded_button_supersedes(client, overdue, editor):
    client.post(
        _url("expectation_cancel", overdue),
        {"reason": "Replaced by the Paris summit.", "outcome": "supersede", "loaded_version": 1},
    )
    superseded = _reload(overdue)
    assert superseded.status == Expectation.Status.SUPERSEDED
    entry = superseded.history.first()
    assert (entry.history_user, entry.history_change_reason) == (editor, "Superseded: Replaced by the Paris summit.")
    assert _just_now(entry.history_date) and _just_now(superseded.resolved_at)


def test_cancelling_without_a_reason_is_refused_and_changes_nothing(client, overdue):
    response = client.post(_url("expectation_cancel", overdue), {"reason": "  ", "loaded_version": 1})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the reason for closing it." in html
    assert 'aria-describedby="cancel_reason_helptext cancel_reason_error"' in html
    assert _reload(overdue).status == Expectation.Status.PENDING


def test_cancelling_a_fulfilled_expectation_is_refused(client, overdue):
    client.post(
        _url("expectation_fulfil", overdue), {"event": EventFactory(story=overdue.story).pk, "loaded_version": 1}
    )
    response = client.post(_url("expectation_cancel", overdue), {"reason": "Too late.", "loaded_version": 2})
    assert response.status_code == 400
    assert "is already fulfilled" in response.content.decode()
    assert _reload(overdue).status == Expectation.Status.FULFILLED


def test_marking_reviewed_records_who_and_when(client, overdue, editor):
    response = client.post(_url("expectation_review", overdue), {"loaded_version": 1})
    assert response.status_code == 302
    reviewed = _reload(overdue)
    assert reviewed.reviewed_at is not None
    entry = reviewed.history.first()
    assert entry.history_user == editor
    assert entry.history_date >= reviewed.reviewed_at


def test_a_resolved_but_unreviewed_expectation_offers_mark_reviewed(client, story):
    expectation = ExpectationFactory(story=story, status=Expectation.Status.SUPERSEDED, reviewed_at=None)
    assert _button(client.get(_url("expectation_detail", expectation)).content.decode(), "Mark reviewed")


# --- A decision on a version someone else changed ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("expectation_fulfil", {}),
        ("expectation_extend", {"due_on": "2030-05-01", "due_precision": "day", "reason": "My own reason"}),
        ("expectation_cancel", {"reason": "My own reason"}),
        ("expectation_review", {}),
    ],
)
def test_a_decision_on_a_stale_version_is_refused_with_what_changed_and_the_input_kept(client, overdue, name, data):
    # Another editor moved it on meanwhile: this editor's page still has version 1.
    services.extend_expectation(
        expectation=overdue,
        due_on=TODAY + datetime.timedelta(days=60),
        due_precision=DatePrecision.DAY,
        reason="Their reason",
        expected_version=1,
    )
    if name == "expectation_fulfil":
        data = {"event": EventFactory(story=overdue.story).pk}
    response = client.post(_url(name, overdue), {**data, "loaded_version": 1})
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed by someone else" in html
    assert "Their reason" in html
    if "reason" in data:
        assert "My own reason" in html
    after = _reload(overdue)
    assert after.version == 2
    assert after.status == Expectation.Status.PENDING
    assert after.status_reason == "Their reason"


def test_after_a_stale_refusal_the_form_carries_the_new_version(client, overdue):
    services.cancel_expectation(expectation=overdue, reason="x", expected_version=1)
    Expectation.objects.filter(pk=overdue.pk).update(status=Expectation.Status.PENDING, resolved_at=None)
    response = client.post(_url("expectation_cancel", overdue), {"reason": "Mine", "loaded_version": 1})
    assert response.status_code == 409
    assert 'name="loaded_version" value="2"' in response.content.decode()


# --- CSRF --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["expectation_fulfil", "expectation_extend", "expectation_cancel", "expectation_review", "expectation_edit"]
)
def test_a_decision_posted_without_a_csrf_token_is_refused(editor, overdue, name):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    response = strict.post(_url(name, overdue), {"reason": "No token", "loaded_version": 1})
    assert response.status_code == 403
    assert _reload(overdue).version == 1


def test_raising_posted_without_a_csrf_token_is_refused(editor, story):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    response = strict.post(reverse("desk:expectation_new"), {"story": story.pk, "title": "No token"})
    assert response.status_code == 403
    assert not Expectation.objects.filter(title="No token").exists()


# --- The lists ---------------------------------------------------------------------------------------


@pytest.fixture
def sixty(story):
    """60 expectations of every kind: overdue, due soon, later, unreviewed, resolved."""
    other = StoryFactory()
    for n in range(60):
        ExpectationFactory(
            story=story if n % 2 else other,
            due_on=TODAY + datetime.timedelta(days=n - 30),
            status=Expectation.Status.FULFILLED if n % 7 == 0 else Expectation.Status.PENDING,
            fulfilled_by=EventFactory(story=story if n % 2 else other) if n % 7 == 0 else None,
            reviewed_at=None if n % 3 else timezone.now(),
        )


@pytest.mark.parametrize("show", ["overdue", "due", "unreviewed", "open", "resolved"])
def test_each_list_costs_the_same_few_queries_with_sixty_expectations(
    client, sixty, story, show, django_assert_max_num_queries
):
    with django_assert_max_num_queries(7):
        response = client.get(reverse("desk:expectation_list"), {"show": show})
    assert response.status_code == 200
    with django_assert_max_num_queries(7):
        assert client.get(reverse("desk:expectation_list"), {"show": show, "story": story.slug}).status_code == 200


def test_the_overdue_list_shows_the_most_overdue_first_marked_overdue(client, story):
    late = ExpectationFactory(story=story, title="Late", due_on=TODAY - datetime.timedelta(days=2))
    later = ExpectationFactory(story=story, title="Very late", due_on=TODAY - datetime.timedelta(days=20))
    ExpectationFactory(story=story, title="Not yet", due_on=TODAY + datetime.timedelta(days=2))
    html = client.get(reverse("desk:expectation_list"), {"show": "overdue"}).content.decode()
    assert html.index(later.title) < html.index(f">{late.title}<")
    assert "Not yet" not in html
    assert html.count('class="badge badge--overdue">Overdue<') == 2
    assert _url("expectation_detail", late) in html


def test_the_due_list_shows_what_is_due_in_the_coming_fourteen_days_soonest_first(client, story):
    ExpectationFactory(story=story, title="In ten days", due_on=TODAY + datetime.timedelta(days=10))
    ExpectationFactory(story=story, title="Tomorrow", due_on=TODAY + datetime.timedelta(days=1))
    ExpectationFactory(story=story, title="Next month", due_on=TODAY + datetime.timedelta(days=40))
    ExpectationFactory(story=story, title="Yesterday", due_on=TODAY - datetime.timedelta(days=1))
    html = client.get(reverse("desk:expectation_list"), {"show": "due"}).content.decode()
    assert html.index("Tomorrow") < html.index("In ten days")
    assert "Next month" not in html and "Yesterday" not in html


def test_a_list_of_one_story_leaves_the_others_out(client, story):
    ExpectationFactory(story=story, title="Ours")
    ExpectationFactory(title="Theirs")
    html = client.get(reverse("desk:expectation_list"), {"story": story.slug}).content.decode()
    assert "Ours" in html and "Theirs" not in html


def test_the_list_is_paginated_by_fifty(client, story):
    for n in range(55):
        ExpectationFactory(story=story, title=f"Item {n:02}", due_on=TODAY + datetime.timedelta(days=n + 1))
    first = client.get(reverse("desk:expectation_list")).content.decode()
    assert len(re.findall(r'href="/desk/expectations/\d+/"', first)) == 50
    assert 'rel="next"' in first
    second = client.get(reverse("desk:expectation_list"), {"page": 2}).content.decode()
    assert len(re.findall(r'href="/desk/expectations/\d+/"', second)) == 5


@pytest.mark.parametrize("query", [{"show": "everything"}, {"story": "no-such-story"}])
def test_an_unknown_list_is_a_400_with_a_message(client, query):
    response = client.get(reverse("desk:expectation_list"), query)
    assert response.status_code == 400
    assert "This list cannot be shown" in response.content.decode()


def test_the_front_page_reads_take_a_limit_and_cost_one_query(sixty, django_assert_num_queries):
    with django_assert_num_queries(1):
        overdue = reads.overdue_expectations(TODAY, limit=3)
        [e.story.title for e in overdue]
    assert len(overdue) == 3 and all(e.overdue for e in overdue)
    assert [e.latest_on for e in overdue] == sorted(e.latest_on for e in overdue)
    with django_assert_num_queries(1):
        soon = reads.due_soon(TODAY, days=7, limit=10)
        [e.story.title for e in soon]
    assert soon and all(e.latest_on >= TODAY and e.due_on <= TODAY + datetime.timedelta(days=7) for e in soon)
    with django_assert_num_queries(1):
        waiting = reads.unreviewed(limit=5)
        [e.story.title for e in waiting]
    assert len(waiting) == 5 and all(e.reviewed_at is None for e in waiting)


# --- Raising one ------------------------------------------------------------------------------------


def test_raising_from_an_event_preselects_its_story_and_raised_by(client, story):
    event = EventFactory(story=story, title="Macron and Putin meet in Moscow")
    response = client.get(reverse("desk:expectation_new"), {"event": event.slug})
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf'<option value="{story.pk}" selected>', html)
    assert f'type="hidden" name="raised_by" value="{event.slug}"' in html
    assert "Macron and Putin meet in Moscow" in html


def test_raising_from_an_event_records_it_with_its_story_and_who_raised_it(client, story, editor):
    event = EventFactory(story=story)
    actor, topic, place = ActorFactory(), TopicFactory(), PlaceFactory()
    response = client.post(
        reverse("desk:expectation_new") + f"?event={event.slug}",
        {
            "title": "Macron travels to Kyiv",
            "expected_actors": [actor.pk],
            "topics": [topic.pk],
            "place": place.pk,
            "due_on": "2022-02-01",
            "due_precision": "month",
        },
    )
    expectation = Expectation.objects.get(title="Macron travels to Kyiv")
    assert response.status_code == 302
    assert response["Location"] == _url("expectation_detail", expectation)
    assert (expectation.story, expectation.raised_by, expectation.place) == (story, event, place)
    assert expectation.latest_on == datetime.date(2022, 2, 28)
    assert expectation.reviewed_at is not None
    assert list(expectation.topics.all()) == [topic]
    entry = expectation.history.get()
    assert entry.history_user == editor and entry.history_type == "+"
    assert [row.actor for row in entry.expected_actors.all()] == [actor]
    assert "Raised “Macron travels to Kyiv”" in client.get(response["Location"]).content.decode()


def test_raising_in_a_story_preselects_it(client, story):
    html = client.get(reverse("desk:expectation_new"), {"story": story.slug}).content.decode()
    assert re.search(rf'<option value="{story.pk}" selected>', html)
    assert '<label for="id_raised_by">Raised by' in html


def test_raising_open_ended_gives_no_due_date(client, story):
    client.post(
        reverse("desk:expectation_new"), {"story": story.pk, "title": "Diplomacy steps up", "due_precision": "day"}
    )
    expectation = Expectation.objects.get(title="Diplomacy steps up")
    assert (expectation.due_on, expectation.latest_on) == (None, None)


def test_a_refused_raise_keeps_the_input_and_puts_each_message_in_its_row(client, story):
    response = client.post(
        reverse("desk:expectation_new"),
        {"story": story.pk, "title": "", "description": "Kept text", "due_on": "not a date", "due_precision": "day"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Kept text" in html
    assert 'value="not a date"' in html
    assert 'aria-describedby="id_title_helptext id_title_error"' in html
    assert 'aria-describedby="id_due_on_helptext id_due_on_error"' in html
    assert not Expectation.objects.exists()


def test_raising_with_an_unknown_or_foreign_event_address_is_a_form_error(client, story):
    foreign = EventFactory(story=StoryFactory())
    for address, message in [("no-such-event", "No event has the address"), (foreign.slug, "another story")]:
        response = client.post(
            reverse("desk:expectation_new"),
            {"story": story.pk, "title": "Something", "raised_by": address, "due_precision": "day"},
        )
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not Expectation.objects.exists()


def test_the_raised_by_address_may_be_the_event_page_address(client, story):
    event = EventFactory(story=story)
    client.post(
        reverse("desk:expectation_new"),
        {
            "story": story.pk,
            "title": "Something",
            "raised_by": f"http://testserver/events/{event.slug}/",
            "due_precision": "day",
        },
    )
    assert Expectation.objects.get(title="Something").raised_by == event


# --- Editing one ------------------------------------------------------------------------------------


def _edit_data(expectation: Expectation, **changes) -> dict:
    data = {
        "story": expectation.story_id,
        "title": expectation.title,
        "description": expectation.description,
        "due_on": expectation.due_on.isoformat() if expectation.due_on else "",
        "due_precision": expectation.due_precision,
        "latest_on": "",
        "loaded_version": expectation.version,
    }
    return {**data, **changes}


def test_editing_saves_and_records_who(client, overdue, editor):
    response = client.post(_url("expectation_edit", overdue), _edit_data(overdue, title="Macron flies to Kyiv"))
    assert response.status_code == 302
    edited = _reload(overdue)
    assert (edited.title, edited.version) == ("Macron flies to Kyiv", 2)
    assert edited.history.first().history_user == editor
    assert edited.slug == overdue.slug


def test_the_edit_form_shows_the_raising_event_by_its_address(client, overdue):
    html = client.get(_url("expectation_edit", overdue)).content.decode()
    assert f'value="{overdue.raised_by.slug}"' in html
    assert 'name="loaded_version" value="1"' in html
    assert 'name="status"' not in html


def test_an_edit_of_a_stale_version_is_refused_with_the_typed_values_kept(client, overdue):
    services.update_expectation(expectation=overdue, expected_version=1, title="Their title")
    response = client.post(_url("expectation_edit", overdue), _edit_data(overdue, title="My title", loaded_version=1))
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed by someone else" in html and "Their title" in html
    assert 'value="My title"' in html
    assert _reload(overdue).title == "Their title"


def test_a_refused_edit_keeps_the_input(client, overdue):
    response = client.post(
        _url("expectation_edit", overdue),
        _edit_data(overdue, title="Kept", due_on="2022-02-10", latest_on="2022-02-01"),
    )
    assert response.status_code == 400
    assert 'value="Kept"' in response.content.decode()
    assert _reload(overdue).title == "Macron travels to Kyiv"


def test_a_fulfilled_expectation_cannot_be_moved_to_another_story(client, overdue):
    client.post(
        _url("expectation_fulfil", overdue), {"event": EventFactory(story=overdue.story).pk, "loaded_version": 1}
    )
    fulfilled = _reload(overdue)
    response = client.post(_url("expectation_edit", fulfilled), _edit_data(fulfilled, story=StoryFactory().pk))
    assert response.status_code == 400
    assert "stays in the story of the event that fulfilled it" in response.content.decode()
    assert _reload(overdue).story == overdue.story
