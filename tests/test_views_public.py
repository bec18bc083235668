"""The readers' pages as a reader's browser (and htmx) asks for them."""

import datetime
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from events.services import publish_event
from tests.factories import (
    ActorFactory,
    CorrectionFactory,
    DiscussionPointFactory,
    EventFactory,
    ExpectationFactory,
    ParticipationFactory,
    PlaceFactory,
    PositionFactory,
    SourceFactory,
    StoryFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _event_ids(response) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(r'<article class="event-card[^"]*" data-event-id="(\d+)"', response.content.decode())
    ]


@pytest.fixture
def story():
    return StoryFactory(slug="macron-in-moscow", title="Macron in Moscow", summary="Talks on **Ukraine**.")


@pytest.fixture
def big_story():
    """200 published events, each with 4 participants, 3 topics and 2 sources, and 5 expectations."""
    story = StoryFactory()
    actors = ActorFactory.create_batch(8)
    topics = TopicFactory.create_batch(6)
    places = PlaceFactory.create_batch(3)
    for n in range(200):
        event = EventFactory(story=story, place=places[n % 3])
        for i in range(4):
            ParticipationFactory(event=event, actor=actors[(n + i) % 8], role="host" if i == 0 else "guest")
        event.topics.add(*topics[n % 3 : n % 3 + 3])
        SourceFactory.create_batch(2, event=event)
    for _ in range(5):
        ExpectationFactory(story=story, raised_by=event)
    return story


# --- The story list -------------------------------------------------------------------------------


def test_the_front_page_lists_stories_with_the_newest_development_first(client):
    older = StoryFactory(title="Older", last_development_at=timezone.now() - datetime.timedelta(days=2))
    newer = StoryFactory(title="Newer", last_development_at=timezone.now())
    content = client.get("/").content.decode()
    assert content.index(newer.title) < content.index(older.title)


def test_the_front_page_says_so_when_there_are_no_stories(client):
    assert "No stories yet" in client.get("/").content.decode()


# --- The timeline ---------------------------------------------------------------------------------


def test_a_timeline_shows_published_events_grouped_by_day_newest_first(client, story):
    first = EventFactory(story=story, start=datetime.datetime(2022, 2, 7, 15, tzinfo=datetime.UTC))
    second = EventFactory(story=story, start=datetime.datetime(2022, 2, 8, 10, tzinfo=datetime.UTC))
    EventFactory(story=story, publication="draft", published_at=None)
    response = client.get(story.get_absolute_url())
    content = response.content.decode()
    assert _event_ids(response) == [second.pk, first.pk]
    assert content.index("Tuesday, 8 February 2022") < content.index("Monday, 7 February 2022")


def test_a_timeline_card_shows_kind_date_place_people_topics_and_sources(client, story):
    place = PlaceFactory(name="Moscow", time_zone="Europe/Moscow")
    event = EventFactory(
        story=story, kind="meeting", place=place, start=datetime.datetime(2022, 2, 7, 15, tzinfo=datetime.UTC)
    )
    ParticipationFactory(event=event, actor=ActorFactory(name="Emmanuel Macron"), role="guest")
    event.topics.add(TopicFactory(name="Minsk agreements"))
    SourceFactory(event=event, outlet="Le Monde")
    content = client.get(story.get_absolute_url()).content.decode()
    for text in ("Meeting", "7 Feb 2022, 18:00 MSK", "Moscow", "Emmanuel Macron", "Minsk agreements", "Le Monde"):
        assert text in content


def test_summaries_are_rendered_from_markdown_and_sanitised(client, story):
    EventFactory(story=story, summary="**Firm** words <script>alert(1)</script> [x](javascript:alert(1))")
    content = client.get(story.get_absolute_url()).content.decode()
    assert "<strong>Firm</strong>" in content
    assert "alert(1)</script>" not in content
    assert "javascript:" not in content


def test_a_filtered_timeline_has_a_url_that_reloads_it(client, story):
    EventFactory(story=story, title="A call", kind="call")
    EventFactory(story=story, title="A meeting", kind="meeting")
    content = client.get(story.get_absolute_url(), {"kind": "call"}).content.decode()
    assert "A call" in content
    assert "A meeting" not in content
    assert '<option value="call" selected>' in content


def test_an_htmx_filter_request_gets_only_the_list(client, story):
    EventFactory(story=story, title="A call", kind="call")
    response = client.get(story.get_absolute_url(), {"kind": "call"}, **HTMX)
    content = response.content.decode()
    assert "A call" in content
    assert "<html" not in content
    assert 'id="filters"' not in content
    assert "HX-Request" in response["Vary"]


def test_a_full_page_also_varies_on_hx_request(client, story):
    assert "HX-Request" in client.get(story.get_absolute_url())["Vary"]


def test_a_history_restore_gets_the_whole_page(client, story):
    response = client.get(story.get_absolute_url(), **HTMX, HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode()


def test_no_events_matching_the_filters_says_so_and_offers_to_clear_them(client, story):
    EventFactory(story=story, kind="meeting")
    content = client.get(story.get_absolute_url(), {"kind": "call"}).content.decode()
    assert "No events match these filters" in content
    assert f'href="{story.get_absolute_url()}">Clear filters' in content


def test_a_story_without_events_says_so(client, story):
    assert "No events have been published here yet" in client.get(story.get_absolute_url()).content.decode()


def test_a_malformed_date_is_a_400_with_the_message_on_the_form(client, story):
    response = client.get(story.get_absolute_url(), {"from_date": "2022-02-31"})
    assert response.status_code == 400
    content = response.content.decode()
    assert "Enter a real date, such as 2022-02-07." in content
    assert 'class="field field--from_date field--error"' in content


def test_a_malformed_date_in_an_htmx_request_is_a_400_fragment_with_the_message(client, story):
    response = client.get(story.get_absolute_url(), {"to_date": "soon"}, **HTMX)
    assert response.status_code == 400
    assert "These filters could not be used" in response.content.decode()


def test_an_unknown_actor_in_the_filters_is_a_400(client, story):
    assert client.get(story.get_absolute_url(), {"actor": "nobody"}).status_code == 400


def test_a_damaged_older_events_link_is_a_400(client, story):
    assert client.get(story.get_absolute_url(), {"after": "2022-99-99~x"}).status_code == 400


def test_an_old_ranked_search_results_link_is_a_400_not_an_error(client, story):
    ranked_cursor = "0.5~2022-02-07T12:00:00.000000Z~1"
    assert client.get(story.get_absolute_url(), {"after": ranked_cursor}).status_code == 400
    # Search results continue newest first, as the timeline does: the same kind of link serves both.
    plain_cursor = "2022-02-07T12:00:00.000000Z~1"
    assert client.get(story.get_absolute_url(), {"after": plain_cursor, "q": "talks"}).status_code == 200
    assert client.get(story.get_absolute_url(), {"after": ranked_cursor, "q": "talks"}).status_code == 400


def test_the_last_day_of_the_calendar_as_the_end_of_the_range_bounds_nothing(client, story):
    assert client.get(story.get_absolute_url(), {"to_date": "9999-12-31"}).status_code == 200


def test_an_unknown_story_is_a_404_with_the_sites_page(client):
    response = client.get("/stories/no-such-story/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_the_older_events_link_leads_to_the_next_page_and_keeps_the_filters(client, story, settings):
    settings.TIMELINE_PAGE_SIZE = 2
    events = [EventFactory(story=story, kind="call") for _ in range(3)]
    content = client.get(story.get_absolute_url(), {"kind": "call"}).content.decode()
    link = re.search(r'href="([^"]+)" rel="next"', content).group(1).replace("&amp;", "&")
    assert "kind=call" in link and "after=" in link
    older = client.get(link)
    assert _event_ids(older) == [events[0].pk]


def test_scrolling_asks_for_just_the_next_days(client, story, settings):
    settings.TIMELINE_PAGE_SIZE = 2
    EventFactory.create_batch(3, story=story)
    content = client.get(story.get_absolute_url()).content.decode()
    link = re.search(r'hx-get="([^"]+)" hx-trigger="revealed', content).group(1).replace("&amp;", "&")
    fragment = client.get(link, **HTMX).content.decode()
    assert fragment.lstrip().startswith("<li") or '<li class="day">' in fragment
    assert "timeline__body" not in fragment


def test_events_ahead_of_today_are_set_apart(client, story):
    EventFactory(
        story=story, title="Summit ahead", status="scheduled", start=timezone.now() + datetime.timedelta(days=5)
    )
    EventFactory(story=story, title="Talks behind")
    content = client.get(story.get_absolute_url()).content.decode()
    assert content.index("Coming up") < content.index("Summit ahead") < content.index("What has happened")
    assert content.index("What has happened") < content.index("Talks behind")


def test_whats_next_marks_an_overdue_expectation_without_the_job_having_run(client, story):
    ExpectationFactory(story=story, title="Visit to Kyiv", due_on=timezone.localdate() - datetime.timedelta(days=1))
    ExpectationFactory(story=story, title="OSCE session", due_on=timezone.localdate() + datetime.timedelta(days=3))
    content = client.get(story.get_absolute_url()).content.decode()
    overdue = content.index('<span class="badge badge--overdue">Overdue</span>')
    assert overdue < content.index("Visit to Kyiv") < content.index("OSCE session")
    assert content.count("badge--overdue") == 1


def test_whats_next_links_a_fulfilled_expectation_to_its_event(client, story):
    visit = EventFactory(story=story, title="Macron in Kyiv")
    ExpectationFactory(
        story=story, title="Expected visit", status="fulfilled", fulfilled_by=visit, resolved_at=timezone.now()
    )
    content = client.get(story.get_absolute_url()).content.decode()
    assert "Recently fulfilled" in content
    assert f'href="{visit.get_absolute_url()}" data-event-id="{visit.pk}">Macron in Kyiv' in content


# --- The live notice ---------------------------------------------------------------------------------


def _updates(client, story, since, **headers):
    return client.get(reverse("events:story_updates", args=[story.slug]), {"since": since}, **headers)


def test_the_notice_check_answers_304_while_nothing_was_published(client, story):
    EventFactory(story=story)
    first = _updates(client, story, "2022-01-01T00:00:00Z")
    assert first.status_code == 200
    again = _updates(client, story, "2022-01-01T00:00:00Z", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_the_etag_in_the_page_is_what_the_notice_check_compares(client, story):
    EventFactory(story=story)
    page = client.get(story.get_absolute_url()).content.decode()
    etag = re.search(r'data-etag="([^"]+)"', page).group(1).replace("&quot;", '"')
    since = re.search(r'data-since="([^"]+)"', page).group(1)
    assert _updates(client, story, since, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_the_notice_check_also_honours_if_modified_since(client, story):
    EventFactory(story=story)
    first = _updates(client, story, "2022-01-01T00:00:00Z")
    again = _updates(client, story, "2022-01-01T00:00:00Z", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 304


def test_a_publication_turns_the_304_into_a_notice_counting_new_developments(client, story):
    EventFactory(story=story)
    page = client.get(story.get_absolute_url()).content.decode()
    etag = re.search(r'data-etag="([^"]+)"', page).group(1).replace("&quot;", '"')
    since = re.search(r'data-since="([^"]+)"', page).group(1)
    for _ in range(2):
        publish_event(event=EventFactory(story=story, publication="draft", published_at=None))
    response = _updates(client, story, since, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert "2 new developments" in response.content.decode()
    assert response["ETag"] != etag
    assert "no-cache" in response["Cache-Control"]


def test_the_notice_counts_only_new_events_matching_the_readers_filters(client, story):
    since = (timezone.now() - datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    EventFactory(story=story, kind="call")
    EventFactory(story=story, kind="meeting")
    response = client.get(reverse("events:story_updates", args=[story.slug]), {"since": since, "kind": "call"})
    assert "1 new development<" in response.content.decode()


def test_the_notice_check_without_a_moment_is_a_400(client, story):
    assert client.get(reverse("events:story_updates", args=[story.slug]), {"since": "then"}).status_code == 400


def test_showing_new_developments_returns_them_as_a_block_for_the_top_of_the_list(client, story):
    since = timezone.now()
    EventFactory(story=story, title="Old news", published_at=since - datetime.timedelta(hours=1))
    fresh = EventFactory(story=story, title="Fresh news", published_at=since + datetime.timedelta(seconds=1))
    response = client.get(
        reverse("events:story_new_events", args=[story.slug]), {"since": since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    )
    content = response.content.decode()
    assert _event_ids(response) == [fresh.pk]
    assert 'class="day day--new"' in content
    assert "Old news" not in content


# --- An event --------------------------------------------------------------------------------------


@pytest.fixture
def talks(story):
    macron = ActorFactory(name="Emmanuel Macron", slug="macron")
    putin = ActorFactory(name="Vladimir Putin", slug="putin")
    place = PlaceFactory(name="Moscow", country="Russia", time_zone="Europe/Moscow", latitude=55.75, longitude=37.62)
    event = EventFactory(
        story=story,
        title="Macron and Putin meet in Moscow",
        slug="macron-putin-moscow",
        summary="Five hours of talks on **European security**.",
        place=place,
        start=datetime.datetime(2022, 2, 7, 15, tzinfo=datetime.UTC),
    )
    ParticipationFactory(event=event, actor=putin, role="host")
    ParticipationFactory(event=event, actor=macron, role="guest")
    point = DiscussionPointFactory(event=event, title="NATO expansion")
    PositionFactory(discussion_point=point, actor=macron, stance="Pushed for de-escalation.")
    PositionFactory(discussion_point=point, actor=putin, stance="Reiterated demands.")
    SourceFactory(event=event, outlet="Reuters", title="Macron meets Putin", published_on=datetime.date(2022, 2, 7))
    CorrectionFactory(event=event, text="The talks lasted five hours, not six.")
    return event


def test_an_event_page_shows_participants_by_role_hosts_first(client, talks):
    content = client.get(talks.get_absolute_url()).content.decode()
    roles = content[content.index('<dl class="roles">') :]
    assert roles.index("<dt>Host</dt>") < roles.index("Vladimir Putin") < roles.index("<dt>Guest</dt>")
    assert roles.index("<dt>Guest</dt>") < roles.index("Emmanuel Macron")


def test_an_event_page_shows_each_sides_position_side_by_side(client, talks):
    content = client.get(talks.get_absolute_url()).content.decode()
    positions = content[content.index('<div class="positions">') :]
    assert "Pushed for de-escalation." in positions and "Reiterated demands." in positions


def test_an_event_page_shows_sources_with_outlet_and_date_and_corrections(client, talks):
    content = client.get(talks.get_absolute_url()).content.decode()
    assert "Reuters" in content and "7 Feb 2022" in content
    assert "The talks lasted five hours, not six." in content


def test_an_event_page_shows_the_expectations_it_raised_and_the_one_it_fulfilled(client, story, talks):
    ExpectationFactory(story=story, title="Macron to visit Kyiv", raised_by=talks)
    earlier = EventFactory(story=story, start=talks.start - datetime.timedelta(days=3))
    ExpectationFactory(story=story, title="Talks in Moscow", raised_by=earlier, status="fulfilled", fulfilled_by=talks)
    content = client.get(talks.get_absolute_url()).content.decode()
    assert "What it made people expect" in content and "Macron to visit Kyiv" in content
    assert "What this fulfilled" in content and "Talks in Moscow" in content


def test_an_event_page_links_the_previous_and_next_events_of_its_story(client, story, talks):
    before = EventFactory(story=story, start=talks.start - datetime.timedelta(days=1))
    after = EventFactory(story=story, start=talks.start + datetime.timedelta(days=1))
    EventFactory(start=talks.start + datetime.timedelta(hours=1))  # another story's
    content = client.get(talks.get_absolute_url()).content.decode()
    assert f'rel="prev" href="{before.get_absolute_url()}"' in content
    assert f'rel="next" href="{after.get_absolute_url()}"' in content


def test_an_event_page_carries_schema_org_event_data_with_the_csp_nonce(client, talks):
    response = client.get(talks.get_absolute_url())
    content = response.content.decode()
    match = re.search(r'<script type="application/ld\+json" nonce="([^"]+)">(.*?)</script>', content, re.S)
    data = json.loads(match.group(2))
    assert data["@type"] == "Event"
    assert data["name"] == "Macron and Putin meet in Moscow"
    assert data["location"]["name"] == "Moscow"
    assert {a["name"] for a in data["attendee"]} == {"Emmanuel Macron", "Vladimir Putin"}
    assert f"'nonce-{match.group(1)}'" in response["Content-Security-Policy"]


def test_an_event_page_has_a_meta_description_and_open_graph_tags(client, talks):
    content = client.get(talks.get_absolute_url()).content.decode()
    assert '<meta name="description" content="Five hours of talks on European security.">' in content
    assert '<meta property="og:title" content="Macron and Putin meet in Moscow">' in content
    assert '<meta property="og:url" content="http://testserver/events/macron-putin-moscow/">' in content


def test_a_draft_event_is_a_404(client):
    draft = EventFactory(publication="draft", published_at=None)
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_an_unknown_event_is_a_404(client):
    assert client.get("/events/nothing-here/").status_code == 404


# --- Actors, topics, places -----------------------------------------------------------------------------


def test_an_actor_page_lists_the_actors_events_across_stories_and_expectations(client):
    macron = ActorFactory(name="Emmanuel Macron", slug="macron")
    mine = EventFactory(title="Macron in Moscow")
    ParticipationFactory(event=mine, actor=macron)
    EventFactory(title="Without him")
    expectation = ExpectationFactory(title="Macron to visit Kyiv")
    expectation.expected_actors.add(macron)
    response = client.get("/actors/macron/")
    content = response.content.decode()
    assert _event_ids(response) == [mine.pk]
    assert "Macron to visit Kyiv" in content
    assert mine.story.title in content
    assert 'name="actor"' not in content


def test_a_topic_page_filters_its_events_like_a_timeline(client):
    topic = TopicFactory(slug="minsk")
    call, meeting = EventFactory(kind="call"), EventFactory(kind="meeting")
    call.topics.add(topic)
    meeting.topics.add(topic)
    assert _event_ids(client.get("/topics/minsk/", {"kind": "call"})) == [call.pk]


def test_a_place_page_lists_the_events_there(client):
    moscow = PlaceFactory(slug="moscow")
    there = EventFactory(place=moscow)
    EventFactory(place=PlaceFactory())
    assert _event_ids(client.get("/places/moscow/")) == [there.pk]


def test_an_entity_page_answers_htmx_with_its_list_only(client):
    topic = TopicFactory(slug="minsk")
    EventFactory().topics.add(topic)
    response = client.get("/topics/minsk/", {"kind": "meeting"}, **HTMX)
    assert "<html" not in response.content.decode()
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("path", ["/actors/nobody/", "/topics/nothing/", "/places/nowhere/"])
def test_an_unknown_actor_topic_or_place_is_a_404(client, path):
    assert client.get(path).status_code == 404


def test_a_malformed_date_on_an_entity_page_is_a_400(client):
    ActorFactory(slug="macron")
    assert client.get("/actors/macron/", {"from_date": "2022-02-30"}).status_code == 400


# --- Pages under the CSP -------------------------------------------------------------------------------


def test_pages_carry_no_inline_script_or_style(client, talks):
    for url in ("/", talks.story.get_absolute_url(), talks.get_absolute_url(), "/actors/macron/"):
        content = client.get(url).content.decode()
        assert " style=" not in content
        assert "<style" not in content
        for tag in re.findall(r"<script[^>]*>", content):
            assert "src=" in tag or "application/ld+json" in tag, tag


def test_htmx_is_served_from_our_static_files_with_its_config(client, story):
    content = client.get(story.get_absolute_url()).content.decode()
    assert re.search(r'<script src="/static/django_htmx/htmx-2\.min\.js" defer nonce="[^"]+">', content)
    assert '"includeIndicatorStyles": false' in content
    assert '"historyRestoreAsHxRequest": false' in content


# --- Fixed query budgets with 200 events on the page ---------------------------------------------------


# Measured on PostgreSQL, each page rendered afresh (a first request: nothing in the page cache, no
# card rendered yet). The story page: the story with the notice's state, "what's next" (one UNION ALL
# of its limited lists), the upcoming and past events (one UNION ALL of the columns a list needs), the
# full rows of the events whose cards are to be rendered, their participants, topics and sources, and
# the actor, topic and place choices (one query of index probes). Exactly eight, asserted exactly.
TIMELINE_BUDGET = 8
# A fragment: the story with its state, the chosen actor, the events, their full rows, participants,
# topics, sources.
FRAGMENT_BUDGET = 7
# An event: the event, participants, topics, sources, discussion points, positions, corrections,
# media, expectations raised and fulfilled, previous and next.
EVENT_PAGE_BUDGET = 11
# An actor, topic or place page: the entity, "what's next", the events, their full rows, participants,
# topics, sources, and the two choice lists the page offers (one query).
ENTITY_PAGE_BUDGET = 8


def test_the_timeline_page_has_a_fixed_query_budget(client, big_story, settings, django_assert_num_queries):
    settings.TIMELINE_PAGE_SIZE = 200
    with django_assert_num_queries(TIMELINE_BUDGET):
        response = client.get(big_story.get_absolute_url())
    assert len(_event_ids(response)) == 200


def test_a_page_whose_cards_are_rendered_already_reads_only_what_the_list_needs(
    client, big_story, settings, django_assert_num_queries
):
    """Another variant of the page (a filter, a search, an older page): the cards come from the cache,
    so the events' full rows, participants, topics and sources are not read again, and neither are
    "what's next" and the filter's choices, kept for the story as it is (page_cache.Parts)."""
    settings.TIMELINE_PAGE_SIZE = 200
    first = client.get(big_story.get_absolute_url())
    with django_assert_num_queries(2):  # the story with its state, the events
        again = client.get(big_story.get_absolute_url() + "?kind=")
    assert _event_ids(again) == _event_ids(first)
    for start, end in (("<aside", "</aside>"), ('<form id="filters"', "</form>")):
        assert _between(again, start, end) == _between(first, start, end)


def _between(response, start: str, end: str) -> str:
    text = response.content.decode()
    begins = text.index(start)
    return text[begins : text.index(end, begins)]


def test_the_kept_parts_of_a_story_page_change_with_the_story(client, story, django_assert_num_queries):
    """A new expectation, a new actor in a published event: the next variant of the page shows them."""
    event = EventFactory(story=story)
    client.get(story.get_absolute_url())
    ExpectationFactory(story=story, title="Talks in the Normandy format")
    actor = ActorFactory(name="Olaf Scholz")
    ParticipationFactory(event=event, actor=actor)
    event.save()  # as the desk does when it changes an event's participants
    page = client.get(story.get_absolute_url() + "?kind=").content.decode()
    assert "Talks in the Normandy format" in page
    assert f'<option value="{actor.slug}">Olaf Scholz</option>' in page


def test_a_timeline_fragment_has_a_fixed_query_budget(client, big_story, settings, django_assert_max_num_queries):
    settings.TIMELINE_PAGE_SIZE = 200
    actor = big_story.events.first().participants.first()
    with django_assert_max_num_queries(FRAGMENT_BUDGET):
        response = client.get(big_story.get_absolute_url(), {"actor": actor.slug}, **HTMX)
    assert len(_event_ids(response)) == 100


def test_an_older_page_costs_what_the_first_costs(client, big_story, settings, django_assert_max_num_queries):
    settings.TIMELINE_PAGE_SIZE = 50
    first = client.get(big_story.get_absolute_url(), **HTMX).content.decode()
    link = re.search(r'hx-get="([^"]+)" hx-trigger="revealed', first).group(1).replace("&amp;", "&")
    with django_assert_max_num_queries(FRAGMENT_BUDGET):
        response = client.get(link, **HTMX)
    assert len(_event_ids(response)) == 50


def test_an_event_page_has_a_fixed_query_budget(client, big_story, django_assert_max_num_queries):
    event = big_story.events.order_by("start").last()
    for _ in range(10):
        point = DiscussionPointFactory(event=event, topic=TopicFactory())
        for participation in event.participations.all():
            PositionFactory(discussion_point=point, actor=participation.actor)
        CorrectionFactory(event=event)
    with django_assert_max_num_queries(EVENT_PAGE_BUDGET):
        response = client.get(event.get_absolute_url())
    assert response.status_code == 200


def test_the_front_page_has_a_fixed_query_budget(client, django_assert_max_num_queries):
    for story in StoryFactory.create_batch(20):
        EventFactory.create_batch(3, story=story)
    with django_assert_max_num_queries(1):
        client.get("/")


def _budget(client, url, budget, assert_max, **extra):
    with assert_max(budget):
        response = client.get(url, **extra)
    assert response.status_code in (200, 304), (url, response.status_code)
    return response


def test_a_searched_or_filtered_story_page_costs_what_the_plain_one_costs(
    client, big_story, django_assert_max_num_queries
):
    actor = big_story.events.first().participants.first()
    for query in ("?q=talks", f"?actor={actor.slug}", "?kind=meeting", "?from_date=2020-01-01&to_date=2030-01-01"):
        _budget(client, big_story.get_absolute_url() + query, TIMELINE_BUDGET + 1, django_assert_max_num_queries)


def test_the_live_notice_has_a_fixed_query_budget(client, big_story, django_assert_max_num_queries):
    url = reverse("events:story_updates", args=[big_story.slug])
    first = _budget(client, url + "?since=2022-01-01T00:00:00Z", 4, django_assert_max_num_queries)
    # Nothing new: the story and its state, or nothing at all once the validators are cached.
    _budget(
        client, url + "?since=2022-01-01T00:00:00Z", 2, django_assert_max_num_queries, HTTP_IF_NONE_MATCH=first["ETag"]
    )


def test_the_new_events_block_has_a_fixed_query_budget(client, big_story, django_assert_max_num_queries):
    url = reverse("events:story_new_events", args=[big_story.slug]) + "?since=2000-01-01T00:00:00Z"
    response = _budget(client, url, 5, django_assert_max_num_queries)
    assert len(_event_ids(response)) == 50


def test_entity_pages_have_a_fixed_query_budget(client, big_story, django_assert_max_num_queries):
    event = big_story.events.first()
    for entity in (event.participants.first(), event.topics.first(), event.place):
        _budget(client, entity.get_absolute_url(), ENTITY_PAGE_BUDGET, django_assert_max_num_queries)
        _budget(client, entity.get_absolute_url(), ENTITY_PAGE_BUDGET - 2, django_assert_max_num_queries, **HTMX)


def test_the_list_of_a_storys_expectations_has_a_fixed_query_budget(client, big_story, django_assert_max_num_queries):
    for _ in range(60):
        ExpectationFactory(story=big_story, raised_by=big_story.events.first())
    response = _budget(
        client, reverse("events:story_expectations", args=[big_story.slug]), 2, django_assert_max_num_queries
    )
    assert 'rel="next"' in response.content.decode()


@pytest.mark.parametrize(
    ("name", "budget"),
    [("story_feed", 7), ("story_calendar", 7), ("story_timeline", 6), ("story_embed", 6)],
)
def test_a_storys_feeds_and_embed_have_a_fixed_query_budget(
    client, big_story, name, budget, django_assert_max_num_queries
):
    _budget(client, reverse(f"events:{name}", args=[big_story.slug]), budget, django_assert_max_num_queries)


def test_actor_and_topic_feeds_have_a_fixed_query_budget(client, big_story, django_assert_max_num_queries):
    event = big_story.events.first()
    _budget(
        client, reverse("events:actor_feed", args=[event.participants.first().slug]), 7, django_assert_max_num_queries
    )
    _budget(client, reverse("events:topic_feed", args=[event.topics.first().slug]), 7, django_assert_max_num_queries)
