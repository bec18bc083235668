"""The timeline's filters, one behaviour each, on PostgreSQL."""

import datetime

import pytest
from django.http import QueryDict

from events import selectors
from events.filters import TimelineFilter
from tests.factories import (
    ActorFactory,
    EventFactory,
    ParticipationFactory,
    PlaceFactory,
    StoryFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


def _at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2022, 2, day, hour, tzinfo=datetime.UTC)


def _filter(story, query: str = "", **kwargs) -> TimelineFilter:
    return TimelineFilter(QueryDict(query), scope=selectors.story_events(story), **kwargs)


def _titles(filters: TimelineFilter) -> set[str]:
    assert filters.is_valid(), filters.errors
    return set(filters.qs.values_list("title", flat=True))


@pytest.fixture
def story():
    return StoryFactory()


def test_actor_filter_keeps_only_events_the_actor_took_part_in(story):
    macron = ActorFactory(slug="macron")
    talks = EventFactory(story=story, title="Talks")
    EventFactory(story=story, title="Sanctions")
    ParticipationFactory(event=talks, actor=macron)
    assert _titles(_filter(story, "actor=macron")) == {"Talks"}


def test_topic_filter_keeps_only_events_on_the_topic(story):
    minsk = TopicFactory(slug="minsk")
    talks = EventFactory(story=story, title="Talks")
    EventFactory(story=story, title="Drills")
    talks.topics.add(minsk)
    assert _titles(_filter(story, "topic=minsk")) == {"Talks"}


def test_kind_filter_keeps_only_events_of_that_kind(story):
    EventFactory(story=story, title="Call", kind="call")
    EventFactory(story=story, title="Meeting", kind="meeting")
    assert _titles(_filter(story, "kind=call")) == {"Call"}


def test_place_filter_keeps_only_events_at_the_place(story):
    moscow = PlaceFactory(slug="moscow")
    EventFactory(story=story, title="Kremlin talks", place=moscow)
    EventFactory(story=story, title="Kyiv visit", place=PlaceFactory())
    assert _titles(_filter(story, "place=moscow")) == {"Kremlin talks"}


def test_date_range_includes_both_of_its_days_in_the_sites_zone(story):
    EventFactory(story=story, title="Before", start=_at(6, 22))  # 23:00 on the 6th in Paris
    EventFactory(story=story, title="First day", start=_at(6, 23))  # 00:00 on the 7th in Paris
    EventFactory(story=story, title="Last day", start=_at(8, 22))  # 23:00 on the 8th in Paris
    EventFactory(story=story, title="After", start=_at(8, 23))
    assert _titles(_filter(story, "from_date=2022-02-07&to_date=2022-02-08")) == {"First day", "Last day"}


def test_filters_combine(story):
    macron = ActorFactory(slug="macron")
    wanted = EventFactory(story=story, title="Wanted", kind="call")
    other_kind = EventFactory(story=story, title="Other kind", kind="meeting")
    ParticipationFactory(event=wanted, actor=macron)
    ParticipationFactory(event=other_kind, actor=macron)
    assert _titles(_filter(story, "actor=macron&kind=call")) == {"Wanted"}


def test_only_actors_topics_and_places_of_the_page_are_offered(story):
    inside, outside = ActorFactory(), ActorFactory()
    ParticipationFactory(event=EventFactory(story=story), actor=inside)
    ParticipationFactory(event=EventFactory(), actor=outside)
    offered = list(_filter(story).form.fields["actor"].queryset)
    assert offered == [inside]


def test_an_unknown_actor_slug_is_a_form_error(story):
    filters = _filter(story, "actor=nobody")
    assert not filters.is_valid()
    assert "actor" in filters.errors


def test_a_malformed_date_is_a_form_error_with_a_readable_message(story):
    filters = _filter(story, "from_date=2022-02-31")
    assert not filters.is_valid()
    assert filters.errors["from_date"] == ["Enter a real date, such as 2022-02-07."]


def test_a_range_ending_before_it_starts_is_a_form_error(story):
    filters = _filter(story, "from_date=2022-02-08&to_date=2022-02-07")
    assert not filters.is_valid()
    assert "to_date" in filters.errors


def test_a_damaged_cursor_is_a_form_error(story):
    filters = _filter(story, "after=yesterday~abc")
    assert not filters.is_valid()
    assert "after" in filters.errors


def test_an_unknown_kind_is_a_form_error(story):
    assert not _filter(story, "kind=coup").is_valid()


def test_a_page_about_an_actor_offers_no_actor_filter(story):
    filters = _filter(story, fixed="actor")
    assert "actor" not in filters.form.fields
    assert "actor" not in filters.filters


def test_the_cursor_is_not_counted_as_an_active_filter(story):
    assert not _filter(story, "after=2022-02-07T12:00:00.000000Z~3").is_active
    assert _filter(story, "kind=call").is_active


def test_on_a_database_without_full_text_search_every_word_must_appear(story, monkeypatch):
    from events import filters as filters_module

    monkeypatch.setattr(filters_module.connection, "vendor", "sqlite")
    EventFactory(story=story, title="Macron meets Putin", summary="In Moscow.")
    EventFactory(story=story, title="Macron in Kyiv", summary="Meets Zelenskyy.")
    EventFactory(story=story, title="Putin alone", summary="")
    assert _titles(_filter(story, "q=macron moscow")) == {"Macron meets Putin"}
    assert "rank" not in _filter(story, "q=macron").qs.query.annotations
