"""Selectors: search, keyset pagination, what lies ahead, "what's next", the notice's state."""

import datetime

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events import selectors
from events.filters import TimelineFilter
from events.models import Event, Expectation
from events.services import fulfil_expectation, publish_event
from tests.factories import EventFactory, ExpectationFactory, StoryFactory

pytestmark = pytest.mark.django_db


def _day(day: int) -> datetime.datetime:
    return datetime.datetime(2022, 2, day, 12, tzinfo=datetime.UTC)


def _filter(story, query: str = "") -> TimelineFilter:
    return TimelineFilter(QueryDict(query), scope=selectors.story_events(story))


def _walk(story, query: str = "", *, size: int) -> list[list[int]]:
    """Every page of a timeline, following the cursors, as lists of event ids."""
    pages, params = [], QueryDict(query, mutable=True)
    while True:
        page = selectors.timeline_page(TimelineFilter(params.copy(), scope=selectors.story_events(story)), size=size)
        pages.append([event.pk for event in page.events])
        if page.next_cursor is None:
            return pages
        params["after"] = str(page.next_cursor)
        assert len(pages) < 100, "pagination does not end"


# --- Search --------------------------------------------------------------------------------------


def test_search_results_come_newest_first_like_the_timeline():
    story = StoryFactory()
    EventFactory(story=story, title="Talks in Moscow", summary="The leaders met about Donbas.", start=_day(8))
    EventFactory(story=story, title="Donbas autonomy", summary="A statement.", start=_day(7))
    EventFactory(story=story, title="Unrelated", summary="Nothing to see.", start=_day(9))
    page = selectors.timeline_page(_filter(story, "q=donbas"))
    assert [event.title for event in page.events] == ["Talks in Moscow", "Donbas autonomy"]
    assert not page.ranked


def test_search_matches_word_forms():
    story = StoryFactory()
    EventFactory(story=story, title="Sanctions announced")
    assert [e.title for e in selectors.timeline_page(_filter(story, "q=sanction")).events] == ["Sanctions announced"]


def test_search_understands_quoted_phrases_and_exclusions():
    story = StoryFactory()
    EventFactory(story=story, title="Minsk agreements discussed")
    EventFactory(story=story, title="Agreements in Minsk signed")
    titles = [e.title for e in selectors.timeline_page(_filter(story, 'q="minsk agreements" -signed')).events]
    assert titles == ["Minsk agreements discussed"]


def test_search_matches_the_stored_document_through_its_gin_index():
    story = StoryFactory()
    EventFactory(story=story, title="Talks")
    queryset = selectors.search_events(Event.objects.all(), "talks")
    assert '"events_event".search_vector @@' in str(queryset.query)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "event_search_idx" in plan


def test_the_desks_prefix_search_matches_the_stored_document():
    story = StoryFactory()
    kremlin = EventFactory(story=story, title="Talks at the Kremlin")
    EventFactory(story=story, title="Visit to Kyiv")
    query = selectors.prefix_search_query("kreml")
    matches = Event.objects.alias(document=selectors.event_search_vector()).filter(document=query)
    assert list(matches) == [kremlin]


def test_search_results_paginate_newest_first_without_skipping_or_repeating():
    story = StoryFactory()
    for n in range(7):
        EventFactory(
            story=story,
            title=f"Talks {n}",
            summary="talks " * (n % 3),
            start=datetime.datetime(2022, 2, 7, 12, tzinfo=datetime.UTC),
        )
    pages = _walk(story, "q=talks", size=2)
    ids = [pk for page in pages for pk in page]
    assert len(ids) == len(set(ids)) == 7
    assert ids == sorted(ids, reverse=True)


# --- Keyset pagination ---------------------------------------------------------------------------


def test_pages_cover_every_event_once_even_when_events_share_a_start_time():
    story = StoryFactory()
    same_time = datetime.datetime(2022, 2, 7, 15, tzinfo=datetime.UTC)
    events = [EventFactory(story=story, start=same_time) for _ in range(7)]
    events += [EventFactory(story=story) for _ in range(6)]
    pages = _walk(story, size=4)
    ids = [pk for page in pages for pk in page]
    assert sorted(ids) == sorted(event.pk for event in events)
    assert len(ids) == len(set(ids))
    assert [len(page) for page in pages] == [4, 4, 4, 1]


def test_pages_run_newest_first_with_id_breaking_ties():
    story = StoryFactory()
    same_time = datetime.datetime(2022, 2, 7, 15, tzinfo=datetime.UTC)
    early = EventFactory(story=story, start=same_time - datetime.timedelta(days=1))
    first, second = EventFactory(story=story, start=same_time), EventFactory(story=story, start=same_time)
    assert _walk(story, size=1) == [[second.pk], [first.pk], [early.pk]]


def test_filters_hold_across_pages():
    story = StoryFactory()
    calls = [EventFactory(story=story, kind="call") for _ in range(5)]
    EventFactory.create_batch(5, story=story, kind="meeting")
    ids = [pk for page in _walk(story, "kind=call", size=2) for pk in page]
    assert sorted(ids) == sorted(event.pk for event in calls)


def test_an_older_page_is_fetched_by_keyset_never_by_offset():
    story = StoryFactory()
    EventFactory.create_batch(5, story=story)
    first = selectors.timeline_page(_filter(story), size=2)
    with CaptureQueriesContext(connection) as captured:
        selectors.timeline_page(_filter(story, f"after={first.next_cursor}"), size=2)
    page_query = next(q["sql"] for q in captured.captured_queries if "ORDER BY" in q["sql"] and "LIMIT 3" in q["sql"])
    assert "OFFSET" not in page_query.upper()
    assert '"events_event"."start" <' in page_query


def test_a_cursor_survives_its_round_trip_through_a_url():
    cursor = selectors.Cursor(start=datetime.datetime(2022, 2, 7, 15, 0, 0, 123456, tzinfo=datetime.UTC), id=42)
    assert selectors.Cursor.parse(str(cursor)) == cursor


def test_a_cursor_of_the_old_ranked_search_results_is_refused():
    with pytest.raises(ValueError):
        selectors.Cursor.parse("0.0607927~2022-02-07T15:00:00.123456Z~42")


def test_drafts_never_appear_in_a_timeline():
    story = StoryFactory()
    EventFactory(story=story, title="Draft", publication="draft", published_at=None)
    EventFactory(story=story, title="Published")
    assert [e.title for e in selectors.timeline_page(_filter(story)).events] == ["Published"]


# --- Ahead of today ------------------------------------------------------------------------------


def test_events_ahead_of_today_stand_apart_soonest_first():
    story = StoryFactory()
    now = timezone.now()
    later = EventFactory(story=story, title="Later", start=now + datetime.timedelta(days=10), status="scheduled")
    sooner = EventFactory(story=story, title="Sooner", start=now + datetime.timedelta(days=2), status="scheduled")
    past = EventFactory(story=story, title="Past", start=now - datetime.timedelta(days=2))
    page = selectors.timeline_page(_filter(story))
    assert page.upcoming == [sooner, later]
    assert page.events == [past]


def test_events_ahead_of_today_are_not_repeated_on_older_pages():
    story = StoryFactory()
    EventFactory(story=story, start=timezone.now() + datetime.timedelta(days=3))
    EventFactory.create_batch(3, story=story)
    first = selectors.timeline_page(_filter(story), size=2)
    second = selectors.timeline_page(_filter(story, f"after={first.next_cursor}"), size=2)
    assert len(first.upcoming) == 1
    assert second.upcoming == []


def test_events_are_grouped_by_the_sites_day():
    story = StoryFactory()
    EventFactory(story=story, start=datetime.datetime(2022, 2, 7, 23, 30, tzinfo=datetime.UTC))  # 8 Feb in Paris
    EventFactory(story=story, start=datetime.datetime(2022, 2, 7, 9, tzinfo=datetime.UTC))
    EventFactory(story=story, start=datetime.datetime(2022, 2, 7, 8, tzinfo=datetime.UTC))
    days = selectors.timeline_page(_filter(story)).days
    assert [(day, len(events)) for day, events in days] == [
        (datetime.date(2022, 2, 8), 1),
        (datetime.date(2022, 2, 7), 2),
    ]


def test_a_page_that_carries_on_with_the_previous_pages_day_says_so():
    story = StoryFactory()
    for hour in (9, 10, 11):
        EventFactory(story=story, start=datetime.datetime(2022, 2, 7, hour, tzinfo=datetime.UTC))
    first = selectors.timeline_page(_filter(story), size=2)
    second = selectors.timeline_page(_filter(story, f"after={first.next_cursor}"), size=2)
    assert first.continued_day is None
    assert second.continued_day == datetime.date(2022, 2, 7)


# --- What's next ---------------------------------------------------------------------------------


def test_an_expectation_is_overdue_as_soon_as_its_date_passes_without_waiting_for_the_job():
    story = StoryFactory()
    expectation = ExpectationFactory(story=story, due_on=datetime.date(2022, 2, 10))
    assert expectation.status == Expectation.Status.PENDING
    on_time = selectors.whats_next(selectors.story_expectations(story), today=datetime.date(2022, 2, 10))
    late = selectors.whats_next(selectors.story_expectations(story), today=datetime.date(2022, 2, 11))
    assert not on_time.open[0].overdue
    assert late.open[0].overdue
    assert late.overdue_count == 1


def test_open_expectations_come_by_due_date_with_open_ended_ones_last():
    story = StoryFactory()
    open_ended = ExpectationFactory(story=story, due_on=None)
    later = ExpectationFactory(story=story, due_on=datetime.date(2022, 3, 1))
    sooner = ExpectationFactory(story=story, due_on=datetime.date(2022, 2, 10))
    ExpectationFactory(story=story, status="cancelled")
    assert selectors.whats_next(selectors.story_expectations(story)).open == [sooner, later, open_ended]


def test_recently_fulfilled_expectations_name_the_event_that_fulfilled_them():
    story = StoryFactory()
    visit = EventFactory(story=story, title="Visit to Kyiv")
    expectation = fulfil_expectation(expectation=ExpectationFactory(story=story), event=visit)
    panel = selectors.whats_next(selectors.story_expectations(story))
    assert panel.open == []
    assert panel.recently_fulfilled == [expectation]
    assert panel.recently_fulfilled[0].fulfilled_by == visit


def test_whats_next_shows_a_few_of_each_kind_and_says_there_are_more():
    story = StoryFactory()
    today = datetime.date(2022, 3, 1)
    for n in range(12):
        ExpectationFactory(story=story, due_on=today - datetime.timedelta(days=n + 1))
        ExpectationFactory(story=story, due_on=today + datetime.timedelta(days=n))
    panel = selectors.whats_next(selectors.story_expectations(story), today=today, limit=10)
    assert len(panel.overdue) == len(panel.pending) == 10
    assert all(e.overdue for e in panel.overdue) and not any(e.overdue for e in panel.pending)
    assert panel.more_overdue and panel.more_pending
    assert [e.latest_on for e in panel.pending] == sorted(e.latest_on for e in panel.pending)


def test_whats_next_is_one_query():
    story = StoryFactory()
    ExpectationFactory(story=story)
    with CaptureQueriesContext(connection) as captured:
        selectors.whats_next(selectors.story_expectations(story))
    assert len(captured.captured_queries) == 1


def test_the_list_of_expectations_pages_by_deadline_without_skipping_or_repeating():
    story = StoryFactory()
    made = {ExpectationFactory(story=story, due_on=datetime.date(2022, 2, 1 + n % 4)).pk for n in range(7)}
    made |= {ExpectationFactory(story=story, due_on=None).pk for _ in range(2)}
    seen, after = [], None
    while True:
        page = selectors.expectation_page(selectors.story_expectations(story), after=after, size=2)
        seen += [e.pk for e in page.expectations]
        if page.next_cursor is None:
            break
        after = selectors.ExpectationCursor.parse(str(page.next_cursor))
    assert len(seen) == len(set(seen)) and set(seen) == made


# --- The live notice -----------------------------------------------------------------------------


def test_the_notice_state_changes_when_an_event_is_published():
    story = StoryFactory()
    EventFactory(story=story)
    draft = EventFactory(story=story, publication="draft", published_at=None)
    before = selectors.story_state(story)
    publish_event(event=draft)
    after = selectors.story_state(story)
    assert before.etag != after.etag
    assert after.newest_published_at == Event.objects.get(pk=draft.pk).published_at


def test_the_notice_state_changes_when_an_event_is_withdrawn():
    story = StoryFactory()
    EventFactory(story=story, published_at=timezone.now())
    older = EventFactory(story=story, published_at=timezone.now() - datetime.timedelta(hours=1))
    before = selectors.story_state(story)
    Event.objects.filter(pk=older.pk).update(publication="draft", updated_at=timezone.now())
    assert selectors.story_state(story).etag != before.etag


def test_the_notice_state_is_two_index_probes_whatever_the_size_of_the_story():
    story = StoryFactory()
    EventFactory.create_batch(3, story=story)
    with CaptureQueriesContext(connection) as captured:
        selectors.story_state(story)
    (query,) = captured.captured_queries
    assert "COUNT(" not in query["sql"].upper() and "MAX(" not in query["sql"].upper()
    assert query["sql"].count("LIMIT 1") == 2


def test_new_events_are_those_published_after_the_readers_moment_newest_first():
    story = StoryFactory()
    moment = timezone.now()
    EventFactory(story=story, published_at=moment - datetime.timedelta(minutes=1))
    first = EventFactory(story=story, published_at=moment + datetime.timedelta(seconds=1))
    second = EventFactory(story=story, published_at=moment + datetime.timedelta(seconds=2))
    assert selectors.new_events(_filter(story), since=moment) == [second, first]
    assert selectors.count_published_since(_filter(story), moment) == 2
