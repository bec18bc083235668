"""The read-only JSON API at /api/ as a client sees it: what it answers, how it pages, how it refuses,
how it revalidates, and the OpenAPI document that describes all of it."""

import datetime
import re
from html.parser import HTMLParser

import jsonschema_rs
import pytest
import schemathesis
from django.db import transaction
from django.utils import timezone

from events.models import DatePrecision, Expectation, MediaItem
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

UTC = datetime.UTC


def _at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2022, 2, day, hour, tzinfo=UTC)


@pytest.fixture
def story():
    return StoryFactory(slug="macron-in-moscow", title="Macron in Moscow", last_development_at=_at(8))


@pytest.fixture
def talks(story):
    """The Moscow talks: two sides, a point discussed, sources, a correction, raised and fulfilled."""
    moscow = PlaceFactory(name="Moscow", slug="moscow", country="Russia", time_zone="Europe/Moscow")
    event = EventFactory(
        story=story,
        title="Macron and Putin meet in Moscow",
        slug="macron-putin-talks",
        summary="Five hours of **talks**.",
        start=_at(7, 15),
        end=_at(7, 20),
        place=moscow,
    )
    france = ActorFactory(name="France", slug="france", kind="country")
    macron = ActorFactory(name="Emmanuel Macron", slug="macron", affiliation=france)
    putin = ActorFactory(name="Vladimir Putin", slug="putin")
    ParticipationFactory(event=event, actor=macron, role="guest")
    ParticipationFactory(event=event, actor=putin, role="host")
    minsk = TopicFactory(name="Minsk agreements", slug="minsk")
    event.topics.add(minsk)
    point = DiscussionPointFactory(event=event, title="The Minsk agreements", topic=minsk)
    PositionFactory(discussion_point=point, actor=macron, stance="Pushed for de-escalation.")
    PositionFactory(discussion_point=point, actor=putin, stance="Reiterated Russia's demands.")
    SourceFactory(event=event, outlet="Le Monde", title="Macron à Moscou")
    CorrectionFactory(event=event, text="The talks lasted five hours, not six.")
    return event


# --- Stories -------------------------------------------------------------------------------------


def test_the_index_links_to_every_list_and_to_the_docs(client):
    body = client.get("/api/").json()
    assert body == {
        "stories": "/api/stories",
        "actors": "/api/actors",
        "topics": "/api/topics",
        "openapi": "/api/openapi.json",
        "docs": "/api/docs",
    }


def test_stories_are_listed_newest_development_first_with_their_published_event_count(client, story):
    older = StoryFactory(slug="older", last_development_at=_at(1))
    quiet = StoryFactory(slug="quiet", last_development_at=None)
    EventFactory.create_batch(2, story=story)
    EventFactory(story=story, publication="draft", published_at=None)
    body = client.get("/api/stories").json()
    assert [item["slug"] for item in body["items"]] == [story.slug, older.slug, quiet.slug]
    assert body["items"][0] | {"last_development_at": None} == {
        "slug": "macron-in-moscow",
        "title": "Macron in Moscow",
        "summary": story.summary,
        "status": "developing",
        "last_development_at": None,
        "event_count": 2,
        "url": "/stories/macron-in-moscow/",
    }
    assert body["items"][0]["last_development_at"] == "2022-02-08T12:00:00Z"
    assert body["next"] is None


def test_the_story_list_pages_by_cursor_without_repeating_or_skipping_a_story(client):
    slugs = [StoryFactory(last_development_at=_at(1 + n % 3)).slug for n in range(7)]
    slugs += [StoryFactory(last_development_at=None).slug for _ in range(3)]  # the undated come last
    seen, url = [], "/api/stories?limit=3"
    while url:
        body = client.get(url).json()
        seen += [item["slug"] for item in body["items"]]
        url = body["next"]
    assert sorted(seen) == sorted(slugs) and len(seen) == len(slugs)
    assert set(seen[-3:]) == set(slugs[-3:])


def test_a_story_is_found_by_its_slug(client, story):
    body = client.get("/api/stories/macron-in-moscow").json()
    assert body["title"] == "Macron in Moscow" and body["event_count"] == 0


def test_an_unknown_story_is_a_json_404_saying_so(client):
    response = client.get("/api/stories/no-such-story")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "No story has the slug “no-such-story”."}


# --- A story's events ----------------------------------------------------------------------------


def test_a_storys_events_are_its_published_ones_newest_first(client, story):
    first = EventFactory(story=story, start=_at(1))
    second = EventFactory(story=story, start=_at(2))
    EventFactory(story=story, start=_at(3), publication="draft", published_at=None)
    EventFactory(start=_at(4))  # another story's
    body = client.get("/api/stories/macron-in-moscow/events").json()
    assert [item["slug"] for item in body["items"]] == [second.slug, first.slug]
    assert body["upcoming"] == [] and body["ranked"] is False and body["next"] is None


def test_an_event_in_a_list_carries_its_dates_place_people_topics_sources_and_summary(client, talks):
    (item,) = client.get("/api/stories/macron-in-moscow/events").json()["items"]
    assert item["start"] == {
        "iso": "2022-02-07T18:00:00+03:00",
        "precision": "exact",
        "display": "7 Feb 2022, 18:00 MSK",
    }
    assert item["end"]["iso"] == "2022-02-07T23:00:00+03:00"
    assert item["when"] == "7 Feb 2022, 18:00–23:00 MSK"
    assert item["place"] == {
        "slug": "moscow",
        "name": "Moscow",
        "country": "Russia",
        "latitude": None,
        "longitude": None,
        "time_zone": "Europe/Moscow",
    }
    assert [(p["actor"]["slug"], p["role"]) for p in item["participants"]] == [("putin", "host"), ("macron", "guest")]
    assert item["topics"] == [{"slug": "minsk", "name": "Minsk agreements"}]
    assert [source["outlet"] for source in item["sources"]] == ["Le Monde"]
    assert item["summary_html"] == "<p>Five hours of <strong>talks</strong>.</p>"
    assert item["url"] == "/events/macron-putin-talks/"


@pytest.mark.parametrize(
    ("precision", "iso", "display"),
    [
        (DatePrecision.DAY, "2022-02-07", "7 Feb 2022"),
        (DatePrecision.MONTH, "2022-02", "Feb 2022"),
        (DatePrecision.YEAR, "2022", "2022"),
        (DatePrecision.APPROXIMATE, "2022-02-07", "around 7 Feb 2022"),
    ],
)
def test_a_date_known_only_roughly_is_given_in_iso_8601_at_its_precision(client, story, precision, iso, display):
    EventFactory(story=story, start=_at(7), start_precision=precision)
    (item,) = client.get("/api/stories/macron-in-moscow/events").json()["items"]
    assert item["start"] == {"iso": iso, "precision": precision, "display": display}


def test_events_ahead_of_today_are_set_apart_on_the_first_page_only(client, story):
    tomorrow = timezone.now() + datetime.timedelta(days=2)
    past = EventFactory(story=story, start=_at(1))
    scheduled = EventFactory(story=story, start=tomorrow, status="scheduled")
    body = client.get("/api/stories/macron-in-moscow/events").json()
    assert [item["slug"] for item in body["items"]] == [past.slug]
    assert [item["slug"] for item in body["upcoming"]] == [scheduled.slug]


def test_the_events_filter_as_the_timeline_does(client, story, talks):
    call = EventFactory(story=story, kind="call", start=_at(10))
    assert [item["slug"] for item in client.get(f"/api/stories/{story.slug}/events?kind=call").json()["items"]] == [
        call.slug
    ]
    for query in ["actor=macron", "topic=minsk", "place=moscow", "from_date=2022-02-07&to_date=2022-02-07"]:
        body = client.get(f"/api/stories/{story.slug}/events?{query}").json()
        assert [item["slug"] for item in body["items"]] == [talks.slug], query


def test_a_search_lists_its_matches_newest_first(client, story):
    newest = EventFactory(story=story, title="Sanctions debated", summary="Nothing on gas.", start=_at(3))
    oldest = EventFactory(story=story, title="Gas pipeline halted", summary="Gas, gas and gas.", start=_at(1))
    EventFactory(story=story, title="Talks in Berlin", summary="Nothing.", start=_at(2))
    body = client.get(f"/api/stories/{story.slug}/events?q=gas").json()
    assert body["ranked"] is False
    assert [item["slug"] for item in body["items"]] == [newest.slug, oldest.slug]


def test_following_next_lists_every_event_once_and_keeps_the_filters(client, story):
    slugs = {EventFactory(story=story, kind="meeting", start=_at(1 + n % 5, 9 + n % 3)).slug for n in range(12)}
    EventFactory(story=story, kind="call")
    seen, url = [], f"/api/stories/{story.slug}/events?kind=meeting&limit=5"
    while url:
        body = client.get(url).json()
        seen += [item["slug"] for item in body["items"]]
        url = body["next"]
        assert url is None or ("kind=meeting" in url and "limit=5" in url)
    assert len(seen) == 12 and set(seen) == slugs


def test_following_next_through_a_search_keeps_the_order_by_relevance(client, story):
    for n in range(7):
        EventFactory(story=story, title="Gas " * (1 + n % 3) + "talks", start=_at(1 + n))
    first = client.get(f"/api/stories/{story.slug}/events?q=gas&limit=4").json()
    second = client.get(first["next"]).json()
    assert len(first["items"]) == 4 and len(second["items"]) == 3 and second["next"] is None
    assert not {item["slug"] for item in first["items"]} & {item["slug"] for item in second["items"]}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("kind=summit", "kind"),
        ("from_date=not-a-date", "from_date"),
        ("from_date=2022-02-09&to_date=2022-02-01", "to_date"),
        ("to_date=9999-12-31", "to_date"),
        ("actor=nobody-here", "actor"),
        ("after=not-a-cursor", "after"),
        ("limit=101", "limit"),
        ("limit=none", "limit"),
        ("q=%00", "q"),
    ],
)
def test_a_bad_filter_or_cursor_is_a_400_naming_the_parameter_and_why(client, story, query, parameter):
    response = client.get(f"/api/stories/{story.slug}/events?{query}")
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == [parameter]
    assert body["detail"].startswith(f"{parameter}: ") and len(body["detail"]) > len(parameter) + 5


def test_following_next_from_a_search_keeps_to_the_search(client, story):
    matches = {EventFactory(story=story, title="Gas talks", start=_at(1 + n)).slug for n in range(3)}
    EventFactory(story=story, title="Talks in Berlin")
    seen, url = [], f"/api/stories/{story.slug}/events?q=gas&limit=1"
    while url:
        body = client.get(url).json()
        seen += [item["slug"] for item in body["items"]]
        url = body["next"]
    assert sorted(seen) == sorted(matches)


# --- Events --------------------------------------------------------------------------------------


def test_an_event_shows_participants_positions_sources_corrections_and_its_neighbours(client, story, talks):
    before = EventFactory(story=story, start=_at(6), title="Macron calls Biden")
    body = client.get("/api/events/macron-putin-talks").json()
    assert body["story"] == {"slug": "macron-in-moscow", "title": "Macron in Moscow"}
    assert [(p["actor"]["name"], p["role"]) for p in body["participants"]] == [
        ("Vladimir Putin", "host"),
        ("Emmanuel Macron", "guest"),
    ]
    (point,) = body["discussion_points"]
    assert point["title"] == "The Minsk agreements" and point["topic"]["slug"] == "minsk"
    assert [(p["actor"]["slug"], p["stance"]) for p in point["positions"]] == [
        ("macron", "Pushed for de-escalation."),
        ("putin", "Reiterated Russia's demands."),
    ]
    assert body["sources"][0] | {"url": ""} == {
        "url": "",
        "outlet": "Le Monde",
        "title": "Macron à Moscou",
        "published_on": "2022-02-07",
        "quote": "",
    }
    assert [c["text"] for c in body["corrections"]] == ["The talks lasted five hours, not six."]
    assert body["previous"] == {"slug": before.slug, "title": "Macron calls Biden", "url": before.get_absolute_url()}
    assert body["next"] is None


def test_an_event_names_the_expectations_it_raised_and_fulfilled(client, story, talks):
    visit = ExpectationFactory(story=story, raised_by=talks, title="Macron to visit Kyiv")
    summit = ExpectationFactory(story=story, status="fulfilled", fulfilled_by=talks, title="A Moscow summit")
    body = client.get("/api/events/macron-putin-talks").json()
    assert [(e["slug"], e["status"]) for e in body["expectations_raised"]] == [(visit.slug, "pending")]
    assert [(e["slug"], e["status"]) for e in body["expectations_fulfilled"]] == [(summit.slug, "fulfilled")]


def test_a_draft_event_is_a_404(client, story):
    EventFactory(story=story, slug="draft-talks", publication="draft", published_at=None)
    response = client.get("/api/events/draft-talks")
    assert response.status_code == 404
    assert response.json() == {"detail": "No published event has the slug “draft-talks”."}


# --- Expectations --------------------------------------------------------------------------------


def test_an_expectation_is_overdue_as_soon_as_its_dates_pass_whether_or_not_the_job_ran(client, story):
    today = timezone.localdate()
    ExpectationFactory(story=story, slug="late", due_on=today - datetime.timedelta(days=3))
    # Flagged by the job, then given a later date: pending again, whatever the flag says.
    ExpectationFactory(story=story, slug="extended", status="overdue", due_on=today + datetime.timedelta(days=3))
    body = client.get(f"/api/stories/{story.slug}/expectations").json()
    assert [(e["slug"], e["status"], e["overdue"]) for e in body["items"]] == [
        ("late", "overdue", True),
        ("extended", "pending", False),
    ]


def test_an_expectation_gives_its_due_window_at_its_precision(client, story):
    ExpectationFactory(story=story, slug="visit", due_on=datetime.date(2031, 3, 1), due_precision=DatePrecision.MONTH)
    (item,) = client.get(f"/api/stories/{story.slug}/expectations").json()["items"]
    assert item["due"] == {"iso": "2031-03", "precision": "month", "display": "Mar 2031"}
    assert item["due_by"] == "2031-03-31"


def test_an_expectation_names_the_event_that_fulfilled_it_but_never_a_draft(client, story, talks):
    draft = EventFactory(story=story, publication="draft", published_at=None)
    ExpectationFactory(story=story, slug="summit", status="fulfilled", fulfilled_by=talks, raised_by=draft)
    (item,) = client.get(f"/api/stories/{story.slug}/expectations").json()["items"]
    assert item["fulfilled_by"]["slug"] == talks.slug
    assert item["raised_by"] is None


def test_expectations_are_listed_by_due_date_open_ended_last_and_page_by_cursor(client, story):
    today = timezone.localdate()
    slugs = [ExpectationFactory(story=story, due_on=today + datetime.timedelta(days=n % 4)).slug for n in range(6)]
    slugs.append(ExpectationFactory(story=story, due_on=None).slug)
    seen, url = [], f"/api/stories/{story.slug}/expectations?limit=2"
    while url:
        body = client.get(url).json()
        seen += [(item["slug"], item["due_by"]) for item in body["items"]]
        url = body["next"]
    assert sorted(slug for slug, _ in seen) == sorted(slugs) and len(seen) == 7
    dates = [due for _, due in seen]
    assert dates[-1] is None and dates[:-1] == sorted(dates[:-1])


def test_expectations_can_be_asked_for_by_the_status_readers_see(client, story):
    today = timezone.localdate()
    ExpectationFactory(story=story, slug="late", due_on=today - datetime.timedelta(days=3))
    ExpectationFactory(story=story, slug="soon", due_on=today + datetime.timedelta(days=3))
    ExpectationFactory(story=story, slug="dropped", status="cancelled")
    for status, expected in [("overdue", ["late"]), ("pending", ["soon"]), ("cancelled", ["dropped"])]:
        body = client.get(f"/api/stories/{story.slug}/expectations?status={status}").json()
        assert [item["slug"] for item in body["items"]] == expected, status


# --- Actors and topics ---------------------------------------------------------------------------


def test_actors_are_listed_by_slug_with_their_affiliation(client, talks):
    body = client.get("/api/actors").json()
    assert [actor["slug"] for actor in body["items"]] == ["france", "macron", "putin"]
    macron = body["items"][1]
    assert macron["affiliation"] == {"slug": "france", "name": "France", "kind": "country"}
    assert macron["url"] == "/actors/macron/"
    assert client.get("/api/actors/macron").json() == macron


def test_topics_are_listed_and_found_by_slug(client, talks):
    TopicFactory(slug="nato", name="NATO expansion")
    body = client.get("/api/topics?limit=1").json()
    assert [topic["slug"] for topic in body["items"]] == ["minsk"]
    assert [topic["slug"] for topic in client.get(body["next"]).json()["items"]] == ["nato"]
    assert client.get("/api/topics/nato").json()["name"] == "NATO expansion"


@pytest.mark.parametrize("path", ["/api/actors/nobody", "/api/topics/nothing", "/api/events/nothing"])
def test_an_unknown_actor_topic_or_event_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.json()["detail"].startswith("No ")


def test_a_damaged_cursor_on_a_list_is_a_400(client):
    for path in ["/api/actors?after=%00", "/api/stories?after=yesterday~1", "/api/stories?after=~0"]:
        response = client.get(path)
        assert response.status_code == 400, path
        assert list(response.json()["errors"]) == ["after"]


# --- Every answer ---------------------------------------------------------------------------------


def test_an_unknown_url_under_api_is_a_json_404_not_the_sites_page(client):
    for path in ["/api/nothing-here", "/api/stories/a/b/c", "/api/stories/not%20a%20slug", "/api/stories/"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json"), path
        assert "detail" in response.json()


def test_the_api_is_read_only(client, story):
    response = client.post("/api/stories", {})
    assert response.status_code == 405 and response["Allow"] == "GET"


def test_every_answer_carries_an_etag_and_a_short_public_cache_lifetime(client, talks):
    for path in ["/api/", "/api/stories", f"/api/events/{talks.slug}", "/api/openapi.json", "/api/docs"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"]), path
        assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=60"}, path


def test_a_conditional_request_for_an_unchanged_answer_gets_a_304_without_a_body(client, talks):
    etag = client.get(f"/api/events/{talks.slug}")["ETag"]
    response = client.get(f"/api/events/{talks.slug}", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_change_to_what_an_answer_shows_changes_its_etag(client, talks):
    etag = client.get(f"/api/events/{talks.slug}")["ETag"]
    CorrectionFactory(event=talks, text="Putin's remarks were quoted in full.")
    response = client.get(f"/api/events/{talks.slug}", headers={"If-None-Match": etag})
    assert response.status_code == 200 and response["ETag"] != etag


def test_errors_are_not_cached(client):
    response = client.get("/api/stories/nothing")
    assert response.status_code == 404
    assert "ETag" not in response and "public" not in response.get("Cache-Control", "")


# --- The OpenAPI document and its docs ------------------------------------------------------------


@pytest.fixture
def openapi(client) -> dict:
    return client.get("/api/openapi.json").json()


def test_the_openapi_document_is_valid_openapi(openapi):
    assert openapi["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(openapi).validate()


def test_the_openapi_check_would_catch_an_invalid_document(openapi):
    del openapi["paths"]["/api/stories"]["get"]["parameters"][0]["in"]
    with pytest.raises(jsonschema_rs.ValidationError):
        schemathesis.openapi.from_dict(openapi).validate()


def _operations(openapi: dict) -> list[tuple[str, dict]]:
    return [(path, operation) for path, methods in openapi["paths"].items() for operation in methods.values()]


def test_the_document_lists_every_endpoint(openapi):
    assert set(openapi["paths"]) == {
        "/api/",
        "/api/stories",
        "/api/stories/{slug}",
        "/api/stories/{slug}/events",
        "/api/stories/{slug}/expectations",
        "/api/events/{slug}",
        "/api/actors",
        "/api/actors/{slug}",
        "/api/topics",
        "/api/topics/{slug}",
    }
    assert all(list(methods) == ["get"] for methods in openapi["paths"].values())


def test_the_document_declares_every_status_an_operation_answers(openapi):
    for path, operation in _operations(openapi):
        query = [p["name"] for p in operation["parameters"] if p["in"] == "query"]
        expected = {"200", "304"} | ({"404"} if "{slug}" in path else set()) | ({"400"} if query else set())
        assert set(operation["responses"]) == expected, path
        for status, response in operation["responses"].items():
            content = response.get("content", {})
            assert list(content) == ([] if status == "304" else ["application/json"]), (path, status)
        assert operation["responses"]["200"]["headers"]["ETag"]["required"] is True
        assert "If-None-Match" in [p["name"] for p in operation["parameters"] if p["in"] == "header"]


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]
        self._in_script = values if tag == "script" else None

    def handle_data(self, data: str) -> None:
        script = self._in_script
        if script is not None and data.strip() and script.get("type") != "application/json":
            self.inline_scripts.append(data.strip())


def test_the_docs_are_served_from_our_own_static_files_with_no_inline_script(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    page = _Resources()
    page.feed(html)
    assert page.urls and all(url.startswith("/static/") for url in page.urls), page.urls
    assert "//" not in "".join(page.urls)
    assert page.inline_scripts == []
    for url in page.urls:
        assert client.get(url).status_code == 200, url


def test_the_docs_turn_off_swagger_uis_external_validator(client):
    assert '"validatorUrl": null' in client.get("/api/docs").content.decode()


# --- Cost -----------------------------------------------------------------------------------------


@pytest.fixture(scope="class")
def big_story(django_db_setup, django_db_blocker):
    """60 published events, each with 3 participants, 2 topics, 2 sources, 2 media; 60 expectations;
    60 actors.
    Made once for the class, in a transaction rolled back after it (each test's own is a savepoint)."""
    with django_db_blocker.unblock(), transaction.atomic():
        story = StoryFactory()
        actors = ActorFactory.create_batch(60, affiliation=ActorFactory())
        topics = TopicFactory.create_batch(6)
        places = PlaceFactory.create_batch(3)
        for n in range(60):
            event = EventFactory(story=story, place=places[n % 3], start=_at(1 + n % 20, n % 24))
            for i in range(3):
                ParticipationFactory(event=event, actor=actors[(n + i) % 60], role="host" if i == 0 else "guest")
            event.topics.add(*topics[n % 3 : n % 3 + 2])
            SourceFactory.create_batch(2, event=event)
            MediaItem.objects.bulk_create(
                MediaItem(event=event, position=p, kind="video", url=f"https://vimeo.com/{n}{p}0000") for p in range(2)
            )
            expectation = ExpectationFactory(story=story, raised_by=event, place=places[n % 3])
            expectation.expected_actors.add(*actors[n % 60 : n % 60 + 2])
            expectation.topics.add(topics[n % 6])
        ExpectationFactory(story=story, status="fulfilled", fulfilled_by=event)
        for other in StoryFactory.create_batch(59):
            EventFactory(story=other)
        yield story
        transaction.set_rollback(True)


class TestCost:
    @pytest.mark.parametrize(
        ("path", "budget"),
        [
            ("/api/stories?limit=100", 1),
            ("/api/stories/{story}/events?limit=50", 6),
            ("/api/stories/{story}/events?limit=50&actor={actor}&topic={topic}&kind=meeting", 9),
            ("/api/stories/{story}/events?limit=50&q=development", 5),
            ("/api/stories/{story}/expectations?limit=100", 6),
            ("/api/actors?limit=100", 1),
            ("/api/topics?limit=100", 1),
        ],
    )
    def test_a_list_costs_a_fixed_number_of_queries(
        self, client, big_story, django_assert_max_num_queries, path, budget
    ):
        event = big_story.events.first()
        url = path.format(
            story=big_story.slug,
            actor=event.participations.first().actor.slug,
            topic=event.topics.first().slug,
        )
        with django_assert_max_num_queries(budget):
            response = client.get(url)
        assert response.status_code == 200
        assert len(response.json()["items"]) > 1

    def test_an_event_costs_a_fixed_number_of_queries(self, client, big_story, django_assert_max_num_queries):
        event = big_story.events.order_by("start")[30]
        with django_assert_max_num_queries(11):
            response = client.get(f"/api/events/{event.slug}")
        assert response.status_code == 200
        assert len(response.json()["media"]) == 2


def test_the_story_list_page_limit_bounds_what_a_page_can_hold(client):
    StoryFactory.create_batch(3)
    assert len(client.get("/api/stories?limit=2").json()["items"]) == 2
    assert client.get("/api/stories?limit=0").status_code == 400


def test_expectation_statuses_in_the_document_match_the_model(openapi):
    schema = openapi["components"]["schemas"]["ExpectationStatus"]
    assert schema["enum"] == list(Expectation.Status.values)
