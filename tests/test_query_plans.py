"""The story page's SQL uses the indexes meant for it, so that its cost does not grow with the story.

A story of 5,000 events (analysed, as `generate_story` leaves it) is enough for PostgreSQL to prefer
its indexes where they matter; `enable_seqscan` is left alone. For each way a reader asks for the
page, every query it makes is explained (EXPLAIN (FORMAT JSON)) and none may read events or
participations by a sequential scan; the indexes each one is meant to use must appear.
"""

import json
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import selectors
from events.filters import TimelineFilter
from events.models import Actor, Event, Forum, Place, Topic
from events.synthetic import delete_story, generate_story

pytestmark = pytest.mark.django_db

WATCHED = {"events_event", "events_participation"}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(scope="module")
def long_story(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        # Another story beside it, as in any newsroom: a story's index then beats one over all events.
        other = generate_story(slug="query-plans-other", events=3000, expectations=100, subscribers=0)
        story = generate_story(slug="query-plans", events=5000, expectations=1000, subscribers=0)
        yield story
        delete_story(story)
        delete_story(other)
        Actor.objects.filter(slug__startswith="syn-", affiliation__isnull=False).delete()
        for model in (Actor, Place, Topic, Forum):
            model.objects.filter(slug__startswith="syn-").delete()


@pytest.fixture(autouse=True)
def page_size(settings):
    settings.TIMELINE_PAGE_SIZE = 50


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _explain(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        (document,) = cursor.fetchone()
    document = json.loads(document) if isinstance(document, str) else document
    return list(_nodes(document[0]["Plan"]))


def _plans_of(client, url: str, data: dict | None = None, **headers) -> list[tuple[str, list[dict]]]:
    """Every query the page makes, with its plan's nodes."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data or {}, **headers)
    assert response.status_code in (200, 304)
    return [
        (q["sql"], _explain(q["sql"]))
        for q in captured.captured_queries
        if q["sql"].lstrip().startswith(("SELECT", "("))
    ]


def _check(plans: list[tuple[str, list[dict]]], *expected_indexes: str) -> None:
    used = set()
    for sql, nodes in plans:
        for node in nodes:
            assert not (node["Node Type"] == "Seq Scan" and node.get("Relation Name") in WATCHED), sql
            if "Index Name" in node:
                used.add(node["Index Name"])
    missing = set(expected_indexes) - used
    assert not missing, (missing, sorted(used))


def test_the_first_page_walks_the_timeline_index(client, long_story):
    plans = _plans_of(client, long_story.get_absolute_url())
    _check(
        plans,
        "event_timeline_idx",
        "event_story_published_idx",
        "event_story_updated_idx",
        "expectation_story_open_idx",
    )


def test_an_older_page_is_a_range_of_the_timeline_index(client, long_story):
    events = Event.objects.filter(story=long_story).published().order_by("-start", "-id")
    deep = events[2500]
    cursor = selectors.Cursor.of(deep)
    _check(_plans_of(client, long_story.get_absolute_url(), {"after": str(cursor)}, **HTMX), "event_timeline_idx")


@pytest.mark.parametrize("kind", ["actor", "topic", "place"])
def test_a_page_filtered_by_an_actor_topic_or_place_reads_no_table_whole(client, long_story, kind):
    event = Event.objects.filter(story=long_story).exclude(place=None).first()
    entity = {"actor": event.participants.first(), "topic": event.topics.first(), "place": event.place}[kind]
    _check(_plans_of(client, long_story.get_absolute_url(), {kind: entity.slug}, **HTMX))


def test_a_page_filtered_by_kind_or_dates_walks_the_timeline(client, long_story):
    _check(_plans_of(client, long_story.get_absolute_url(), {"kind": "meeting"}, **HTMX))
    _check(
        _plans_of(client, long_story.get_absolute_url(), {"from_date": "2020-01-01", "to_date": "2024-12-31"}, **HTMX),
        "event_timeline_idx",
    )


def test_a_search_for_a_common_word_walks_the_timeline_newest_first(client, long_story):
    _check(_plans_of(client, long_story.get_absolute_url(), {"q": "talks"}, **HTMX), "event_timeline_idx")


def test_a_search_for_a_rare_word_matches_the_stored_document_and_reads_no_table_whole(client, long_story):
    # From the GIN index or along the timeline, as the planner finds cheaper for the words' statistics
    # (tests/test_selectors.py shows the GIN index serving the stored document).
    plans = _plans_of(client, long_story.get_absolute_url(), {"q": "zanzibarian"}, **HTMX)
    assert any('"events_event".search_vector @@' in sql for sql, _ in plans)
    _check(plans)


def test_the_filter_choices_are_index_probes(long_story):
    filters = TimelineFilter({}, scope=selectors.story_events(long_story))
    with CaptureQueriesContext(connection) as captured:
        choices = filters._choices
    assert choices["actor"] and choices["topic"] and choices["place"]
    (query,) = captured.captured_queries
    # A topic's or place's probe may come from either side, as the planner finds cheaper (at a
    # million events: event_topics_topic_event_idx, event_place_start_idx); none reads a table whole.
    _check([(query["sql"], _explain(query["sql"]))], "participation_actor_event_idx")


def test_the_live_notice_counts_along_the_publication_index(client, long_story):
    newest = Event.objects.filter(story=long_story).published().order_by("-published_at")[10].published_at
    since = newest.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    url = reverse("events:story_updates", args=[long_story.slug])
    _check(_plans_of(client, url, {"since": since}), "event_story_published_idx")


def test_the_desks_unreviewed_list_walks_its_partial_index(long_story):
    from events.desk_selectors.expectations import unreviewed_queryset

    with CaptureQueriesContext(connection) as captured:
        list(unreviewed_queryset()[:10])
    nodes = _explain(captured.captured_queries[-1]["sql"])
    assert "expectation_unreviewed_idx" in {node.get("Index Name") for node in nodes}
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "events_expectation"]
