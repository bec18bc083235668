"""Data out: the Atom feeds, the iCalendar, the TimelineJS export and the embeddable timeline, as feed
readers, calendars, Knight Lab's viewer and a partner site's page read them."""

import datetime
import json
import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import feedparser
import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from events import dates, interchange
from events.models import DatePrecision, Event, Expectation
from events.services.events import update_event
from events.services.expectations import update_expectation
from events.services.history import add_correction
from events.services.media import MediaRow, write_media
from tests.factories import (
    ActorFactory,
    CorrectionFactory,
    EventFactory,
    ExpectationFactory,
    ParticipationFactory,
    PlaceFactory,
    SourceFactory,
    StoryFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
DATA_URLS = ["events:story_feed", "events:story_calendar", "events:story_timeline"]


@pytest.fixture
def story():
    return StoryFactory(slug="macron-in-moscow", title="Macron in Moscow", summary="Talks on **Ukraine**.")


@pytest.fixture
def moscow():
    return PlaceFactory(name="Moscow", slug="moscow", country="Russia", time_zone="Europe/Moscow")


def _future(days: int) -> datetime.datetime:
    return dates.anchor(timezone.localdate() + datetime.timedelta(days=days), DatePrecision.DAY)


def _feed(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return feedparser.parse(response.content)


def _calendar(client, story) -> icalendar.Calendar:
    response = client.get(reverse("events:story_calendar", args=[story.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def _entries_by_uid(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(entry["UID"]): entry for entry in calendar.walk("VEVENT")}


def _timeline(client, story) -> dict:
    response = client.get(reverse("events:story_timeline", args=[story.slug]))
    assert response.status_code == 200
    return json.loads(response.content)


def _edit(event: Event, **changes) -> Event:
    return update_event(event=event, expected_version=event.version, **changes)


# --- Atom ----------------------------------------------------------------------------------------


def test_the_story_feed_is_atom_that_feedparser_reads_without_complaint(client, story, moscow):
    talks = EventFactory(
        story=story, title="Macron & Putin meet", summary="They talked for *five* hours.", place=moscow
    )
    EventFactory(story=story, title="A draft", publication="draft", published_at=None)
    EventFactory(title="Another story's event")

    feed = _feed(client, reverse("events:story_feed", args=[story.slug]))

    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Macron in Moscow"
    assert feed.feed.link == "http://127.0.0.1:8000/stories/macron-in-moscow/"
    [entry] = feed.entries
    assert entry.title == "Macron & Putin meet"
    assert entry.id == entry.link == f"http://127.0.0.1:8000/events/{talks.slug}/"
    assert "<em>five</em>" in entry.content[0].value
    assert "Moscow, Russia" in entry.content[0].value
    assert entry.summary == "They talked for five hours."
    assert entry.published_parsed[:6] == talks.published_at.utctimetuple()[:6]


def test_an_edited_event_keeps_its_entry_id_and_moves_its_updated_time(client, story):
    event = EventFactory(story=story, title="Talks in Moscow")
    url = reverse("events:story_feed", args=[story.slug])
    [before] = _feed(client, url).entries

    _edit(event, title="Five hours of talks in Moscow")
    [after] = _feed(client, url).entries

    assert after.id == before.id
    assert after.title == "Five hours of talks in Moscow"
    assert after.updated > before.updated  # RFC 3339 in UTC, to the microsecond: sorts as text


def test_a_correction_shows_in_its_entry_with_its_date_and_moves_the_updated_time(client, story):
    event = EventFactory(story=story)
    url = reverse("events:story_feed", args=[story.slug])
    [before] = _feed(client, url).entries

    add_correction(event=event, text="The talks lasted five hours, not six.")
    [after] = _feed(client, url).entries

    assert after.id == before.id
    assert after.updated > before.updated
    today = dates.format_date(timezone.localdate(), DatePrecision.DAY)
    assert f"Correction, {today}:" in after.content[0].value
    assert "The talks lasted five hours, not six." in after.content[0].value


def test_the_feed_holds_the_most_recently_updated_entries_and_a_recently_corrected_one(client, story, monkeypatch):
    monkeypatch.setattr(interchange, "FEED_ENTRIES", 3)
    events = [EventFactory(story=story, title=f"Development {n}") for n in range(6)]
    Event.objects.filter(pk=events[0].pk).update(updated_at=timezone.now() - datetime.timedelta(days=30))
    CorrectionFactory(event=events[0], created_at=timezone.now() + datetime.timedelta(minutes=1))

    feed = _feed(client, reverse("events:story_feed", args=[story.slug]))

    assert [entry.title for entry in feed.entries] == ["Development 0", "Development 5", "Development 4"]


def test_an_actors_feed_and_a_topics_feed_hold_the_events_they_are_in_across_stories(client, story):
    macron, minsk = ActorFactory(name="Emmanuel Macron"), TopicFactory(name="Minsk agreements")
    in_moscow = EventFactory(story=story, title="Talks in Moscow")
    in_kyiv = EventFactory(title="Talks in Kyiv")
    elsewhere = EventFactory(story=story, title="Sanctions readied")
    for event in (in_moscow, in_kyiv):
        ParticipationFactory(event=event, actor=macron)
    in_kyiv.topics.add(minsk)
    ParticipationFactory(event=elsewhere)

    by_actor = _feed(client, reverse("events:actor_feed", args=[macron.slug]))
    by_topic = _feed(client, reverse("events:topic_feed", args=[minsk.slug]))

    assert not by_actor.bozo and not by_topic.bozo
    assert by_actor.feed.title == "Events involving Emmanuel Macron"
    assert sorted(entry.title for entry in by_actor.entries) == ["Talks in Kyiv", "Talks in Moscow"]
    assert [entry.title for entry in by_topic.entries] == ["Talks in Kyiv"]


# --- iCalendar -----------------------------------------------------------------------------------


def test_the_calendar_holds_scheduled_and_future_events_and_pending_expectations(client, story, settings):
    settings.SITE_URL = "https://tracker.example.org"
    ahead = EventFactory(
        story=story, title="Visit to Kyiv", start=_future(3), start_precision="day", status="scheduled"
    )
    later = EventFactory(story=story, title="Summit", start=_future(40), start_precision="day")
    overdue_meeting = EventFactory(story=story, start=_future(-2), start_precision="day", status="scheduled")
    EventFactory(story=story, title="Already happened", start=_future(-2), start_precision="day")
    EventFactory(story=story, title="Long ago", start=_future(-60), status="scheduled")
    EventFactory(story=story, title="Draft", start=_future(3), publication="draft", published_at=None)
    expected = ExpectationFactory(story=story, title="Normandy summit", due_on=timezone.localdate())
    ExpectationFactory(story=story, title="No date yet", due_on=None)
    ExpectationFactory(story=story, title="Called off", status=Expectation.Status.CANCELLED)

    entries = _entries_by_uid(_calendar(client, story))

    assert set(entries) == {
        f"event-{ahead.pk}@tracker.example.org",
        f"event-{later.pk}@tracker.example.org",
        f"event-{overdue_meeting.pk}@tracker.example.org",
        f"expectation-{expected.pk}@tracker.example.org",
    }
    visit = entries[f"event-{ahead.pk}@tracker.example.org"]
    assert str(visit["SUMMARY"]) == "Visit to Kyiv"
    assert str(visit["URL"]) == f"https://tracker.example.org/events/{ahead.slug}/"
    assert int(visit["SEQUENCE"]) == ahead.version
    assert visit.decoded("LAST-MODIFIED") == ahead.updated_at.replace(microsecond=0)
    assert visit.decoded("DTSTAMP") == ahead.updated_at.replace(microsecond=0)
    summit = entries[f"expectation-{expected.pk}@tracker.example.org"]
    assert str(summit["SUMMARY"]) == "Expected: Normandy summit"
    assert summit.decoded("DTSTART") == expected.due_on


def test_a_day_is_an_all_day_entry_and_an_exact_time_is_in_utc(client, story, moscow):
    day = EventFactory(story=story, start=_future(3), start_precision="day", end=_future(4), end_precision="day")
    moment = datetime.datetime.combine(timezone.localdate() + datetime.timedelta(days=5), datetime.time(18, 30), MOSCOW)
    exact = EventFactory(story=story, start=moment, start_precision="exact", place=moscow)

    entries = {int(str(e["UID"]).split("-")[1].split("@")[0]): e for e in _calendar(client, story).walk("VEVENT")}

    all_day = entries[day.pk]
    assert all_day["DTSTART"].params["VALUE"] == "DATE"
    assert all_day.decoded("DTSTART") == timezone.localdate() + datetime.timedelta(days=3)
    assert all_day.decoded("DTEND") == timezone.localdate() + datetime.timedelta(days=5)  # exclusive
    assert "VALUE" not in entries[exact.pk]["DTSTART"].params
    assert entries[exact.pk].decoded("DTSTART") == moment.astimezone(datetime.UTC)
    assert str(entries[exact.pk]["LOCATION"]) == "Moscow, Russia"


@pytest.mark.parametrize(
    ("precision", "title"),
    [("month", "Summit (Mar 2031)"), ("year", "Summit (2031)"), ("approximate", "Summit (around 10 Mar 2031)")],
)
def test_a_vaguer_date_is_an_all_day_entry_on_its_anchor_day_with_the_precision_in_its_title(
    client, story, precision, title
):
    start = dates.anchor(datetime.date(2031, 3, 10), precision)
    EventFactory(story=story, title="Summit", start=start, start_precision=precision)

    [entry] = _calendar(client, story).walk("VEVENT")

    assert str(entry["SUMMARY"]) == title
    assert entry["DTSTART"].params["VALUE"] == "DATE"
    assert entry.decoded("DTSTART") == start.date()


def test_an_edit_keeps_the_calendars_uids_and_raises_their_sequence(client, story):
    event = EventFactory(story=story, start=_future(3), start_precision="day", status="scheduled")
    expectation = ExpectationFactory(story=story)
    before = _entries_by_uid(_calendar(client, story))

    _edit(event, title="Visit to Kyiv, postponed", status="postponed")
    update_expectation(expectation=expectation, expected_version=expectation.version, title="Summit moved")
    after = _entries_by_uid(_calendar(client, story))

    assert set(after) == set(before)
    for uid in before:
        assert int(after[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])
    assert {str(entry["SUMMARY"]) for entry in after.values()} == {"Visit to Kyiv, postponed", "Expected: Summit moved"}
    assert str(after[f"event-{event.pk}@127.0.0.1"]["STATUS"]) == "TENTATIVE"


def test_an_unchanged_calendar_is_the_same_bytes_each_time(client, story):
    EventFactory(story=story, start=_future(3), start_precision="day")
    ExpectationFactory(story=story)
    url = reverse("events:story_calendar", args=[story.slug])
    first = client.get(url).content
    from django.core.cache import cache

    cache.clear()  # built again, not served from the cache

    assert client.get(url).content == first


# --- TimelineJS ----------------------------------------------------------------------------------


def test_the_timeline_export_is_timelinejs_json_with_each_event_as_a_slide(client, story, moscow):
    talks = EventFactory(
        story=story,
        kind="meeting",
        title="Talks in Moscow",
        summary="Five *hours*.",
        start=datetime.datetime(2022, 2, 7, 18, 30, tzinfo=MOSCOW),
        end=datetime.datetime(2022, 2, 7, 23, 30, tzinfo=MOSCOW),
        place=moscow,
    )
    SourceFactory(event=talks, url="https://news.example.org/talks", outlet="Reuters", title="Marathon talks")
    write_media(
        talks,
        [MediaRow(kind="video", url="https://vimeo.com/123456", caption="The press conference", credit="Elysée")],
    )
    call = EventFactory(
        story=story,
        kind="call",
        start=dates.anchor(datetime.date(2022, 2, 10), "approximate"),
        start_precision="approximate",
    )
    SourceFactory(event=call, url="https://img.example.org/call.jpg", outlet="AFP")
    EventFactory(story=story, title="Draft", publication="draft", published_at=None)

    data = _timeline(client, story)

    assert data["title"] == {
        "text": {"headline": "Macron in Moscow", "text": "<p>Talks on <strong>Ukraine</strong>.</p>"}
    }
    first, second = data["events"]
    assert first["unique_id"] == talks.slug
    assert first["start_date"] == {
        "year": 2022,
        "month": 2,
        "day": 7,
        "hour": 18,
        "minute": 30,
        "display_date": "7 Feb 2022, 18:30 MSK",
    }
    assert first["end_date"]["hour"] == 23
    assert first["text"] == {"headline": "Talks in Moscow", "text": "<p>Five <em>hours</em>.</p>"}
    assert first["group"] == "Meeting"
    assert first["media"] == {"url": "https://vimeo.com/123456", "caption": "The press conference", "credit": "Elysée"}
    assert second["start_date"] == {"year": 2022, "month": 2, "day": 10, "display_date": "around 10 Feb 2022"}
    assert second["group"] == "Phone call"
    assert "media" not in second  # it has a source, and sources are not media
    assert data["eras"] == []  # the story spans less than a month


def test_the_timeline_export_may_be_loaded_from_any_site(client, story):
    response = client.get(reverse("events:story_timeline", args=[story.slug]))

    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Content-Type"] == "application/json"


def test_a_source_is_never_the_slides_media():
    image = SourceFactory(url="https://img.example.org/kremlin.jpg", outlet="AFP", title="The long table")

    assert interchange.timeline_media(image.event) is None


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        ("year", {"year": 2022}),
        ("month", {"year": 2022, "month": 2}),
        ("day", {"year": 2022, "month": 2, "day": 10}),
        ("approximate", {"year": 2022, "month": 2, "day": 10, "display_date": "around 10 Feb 2022"}),
    ],
)
def test_a_date_below_the_exact_precision_maps_to_timelinejs_and_back(precision, expected):
    stored = dates.anchor(datetime.date(2022, 2, 10), precision)

    value = interchange.timelinejs_date(stored, precision, MOSCOW)

    assert value == expected
    assert interchange.date_from_timelinejs(value, MOSCOW) == (stored, precision)


def test_an_exact_time_maps_to_the_local_time_of_its_zone_and_back():
    stored = datetime.datetime(2022, 2, 7, 15, 30, tzinfo=datetime.UTC)

    value = interchange.timelinejs_date(stored, "exact", MOSCOW)

    assert (value["hour"], value["minute"]) == (18, 30)
    assert interchange.date_from_timelinejs(value, MOSCOW) == (stored, "exact")


def test_a_spreadsheets_text_cells_are_read_as_a_date():
    assert interchange.date_from_timelinejs({"year": "2022", "month": "2", "day": "", "hour": ""}, MOSCOW) == (
        dates.anchor(datetime.date(2022, 2, 1), "month"),
        "month",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"month": 2}, "a date needs a year"),
        ({"year": 2022, "day": 3}, "a day needs a month"),
        ({"year": 2022, "month": 2, "hour": 9}, "a time needs a day"),
        ({"year": 2022, "month": 13}, "month must be between 1 and 12, not 13"),
        ({"year": "twenty"}, "year must be a whole number, not 'twenty'"),
        ({"year": 2022, "month": 2, "day": 30}, "2022-2-30 is not a date"),
    ],
)
def test_a_timelinejs_date_that_is_not_one_is_refused_with_the_reason(value, message):
    with pytest.raises(ValueError, match=message):
        interchange.date_from_timelinejs(value, MOSCOW)


def test_a_story_over_several_months_has_one_era_per_month_cut_to_its_span():
    days = [datetime.date(2022, 1, 24), datetime.date(2022, 2, 12), datetime.date(2022, 3, 3)]

    eras = interchange.timeline_eras(days)

    assert [era["text"]["headline"] for era in eras] == ["January 2022", "February 2022", "March 2022"]
    assert eras[0]["start_date"] == {"year": 2022, "month": 1, "day": 24}
    assert eras[0]["end_date"] == {"year": 2022, "month": 1, "day": 31}
    assert eras[2]["end_date"] == {"year": 2022, "month": 3, "day": 3}


def test_a_story_over_years_has_one_era_per_year_and_one_within_a_month_none():
    years = interchange.timeline_eras([datetime.date(2020, 6, 1), datetime.date(2023, 2, 1)])

    assert [era["text"]["headline"] for era in years] == ["2020", "2021", "2022", "2023"]
    assert interchange.timeline_eras([datetime.date(2022, 2, 1), datetime.date(2022, 2, 28)]) == []


def test_the_timeline_export_holds_the_newest_events(client, story, monkeypatch):
    monkeypatch.setattr(interchange, "TIMELINE_EVENTS", 3)
    events = EventFactory.create_batch(5, story=story)

    data = _timeline(client, story)

    assert [slide["unique_id"] for slide in data["events"]] == [event.slug for event in events[2:]]


# --- All three: validators, costs, unknown slugs --------------------------------------------------


@pytest.mark.parametrize("name", DATA_URLS)
def test_a_data_url_answers_304_to_a_client_holding_the_current_version_until_it_changes(client, story, name):
    event = EventFactory(story=story, start=_future(3), start_precision="day")
    url = reverse(name, args=[story.slug])
    first = client.get(url)

    assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": first["Last-Modified"]}).status_code == 304
    assert client.head(url, headers={"If-None-Match": first["ETag"]}).status_code == 304

    _edit(event, title="Changed")

    again = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert b"Changed" in again.content


@pytest.mark.parametrize("name", DATA_URLS)
def test_a_data_url_answers_head(client, story, name):
    response = client.head(reverse(name, args=[story.slug]))

    assert response.status_code == 200
    assert response["ETag"]


@pytest.mark.parametrize("name", DATA_URLS)
def test_a_withdrawn_event_changes_the_version(client, story, name):
    event = EventFactory(story=story, start=_future(3), start_precision="day")
    url = reverse(name, args=[story.slug])
    etag = client.get(url)["ETag"]

    Event.objects.filter(pk=event.pk).delete()

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


@pytest.fixture
def sixty_events(story):
    """60 published events (half ahead, with places, sources, participants, topics and corrections) and
    20 expectations, across a span of months."""
    actor, topic = ActorFactory(slug="macron"), TopicFactory(slug="minsk")
    places = PlaceFactory.create_batch(3)
    for n in range(60):
        start = _future(n * 7 - 200) if n % 2 else _future(n)
        event = EventFactory(story=story, start=start, start_precision="day", place=places[n % 3], status="scheduled")
        SourceFactory.create_batch(2, event=event)
        ParticipationFactory(event=event, actor=actor)
        event.topics.add(topic)
        CorrectionFactory(event=event)
    ExpectationFactory.create_batch(20, story=story)
    return story


FEEDS_OF_SIXTY = [(name, "macron-in-moscow") for name in DATA_URLS] + [
    ("events:actor_feed", "macron"),
    ("events:topic_feed", "minsk"),
]


def test_every_data_url_and_the_embed_cost_the_same_few_queries_with_many_events(
    client, sixty_events, django_assert_max_num_queries
):
    for name, slug in [*FEEDS_OF_SIXTY, ("events:story_embed", "macron-in-moscow")]:
        with django_assert_max_num_queries(8):
            response = client.get(reverse(name, args=[slug]))
        assert response.status_code == 200, name


def test_polling_an_unchanged_data_url_costs_only_its_validator(client, sixty_events, django_assert_max_num_queries):
    for name, slug in FEEDS_OF_SIXTY:
        url = reverse(name, args=[slug])
        etag = client.get(url)["ETag"]
        with django_assert_max_num_queries(4):
            assert client.get(url, headers={"If-None-Match": etag}).status_code == 304, name
        with django_assert_max_num_queries(4):  # answered from the cache
            assert client.get(url).status_code == 200, name


@pytest.mark.parametrize(
    "name",
    [*DATA_URLS, "events:story_embed", "events:actor_feed", "events:topic_feed"],
)
def test_an_unknown_slug_is_a_404(client, name):
    assert client.get(reverse(name, args=["no-such-thing"])).status_code == 404


# --- The embeddable timeline ---------------------------------------------------------------------


def test_the_embed_shows_the_newest_events_each_opening_its_page_in_the_whole_window(client, story):
    events = EventFactory.create_batch(12, story=story)
    EventFactory(story=story, title="A draft", publication="draft", published_at=None)

    response = client.get(reverse("events:story_embed", args=[story.slug]))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("data-event-id=") == 10
    for event in events[2:]:
        assert f'<a class="embed__link" href="/events/{event.slug}/" target="_top">' in html
    assert events[0].title not in html
    assert "A draft" not in html


def test_the_embed_takes_how_many_events_to_show_and_refuses_a_bad_number(client, story):
    EventFactory.create_batch(4, story=story)
    url = reverse("events:story_embed", args=[story.slug])

    assert client.get(url, {"events": "3"}).content.decode().count("data-event-id=") == 3
    refused = client.get(url, {"events": "many"})
    assert refused.status_code == 400
    assert "events= must be a whole number from 1 to 50." in refused.content.decode()


def test_with_no_embedding_site_listed_the_embed_may_not_be_framed(client, story, settings):
    settings.EMBED_ALLOWED_ORIGINS = []

    response = client.get(reverse("events:story_embed", args=[story.slug]))

    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_listed_sites_alone_may_frame_the_embed(client, story, settings):
    settings.EMBED_ALLOWED_ORIGINS = ["https://news.example.org", "https://partner.example.com"]

    embed = client.get(reverse("events:story_embed", args=[story.slug]))
    page = client.get(story.get_absolute_url())

    assert "X-Frame-Options" not in embed
    policy = embed["Content-Security-Policy"]
    assert "frame-ancestors https://news.example.org https://partner.example.com" in policy
    assert "default-src 'self'; script-src 'self'" in policy  # the rest of the policy is kept
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


def _embed_origins_read_by_the_settings(value: str) -> subprocess.CompletedProcess:
    """EMBED_ALLOWED_ORIGINS as `tracker.settings` reads it, in a fresh interpreter."""
    env = {"PATH": os.environ.get("PATH", ""), "SECRET_KEY": "x", "EMBED_ALLOWED_ORIGINS": value}
    code = "from tracker import settings; print(settings.EMBED_ALLOWED_ORIGINS)"
    base = Path(__file__).resolve().parent.parent
    return subprocess.run([sys.executable, "-c", code], cwd=base, env=env, capture_output=True, text=True)


def test_the_embedding_sites_are_read_as_a_list_of_origins():
    done = _embed_origins_read_by_the_settings("https://news.example.org, http://localhost:8080")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['https://news.example.org', 'http://localhost:8080']"


@pytest.mark.parametrize("value", ["news.example.org", "https://news.example.org/", "https://a.org; script-src *"])
def test_an_embedding_site_that_is_not_an_origin_stops_the_settings_with_the_reason(value):
    done = _embed_origins_read_by_the_settings(value)

    assert done.returncode != 0
    assert "EMBED_ALLOWED_ORIGINS takes origins like https://news.example.org" in done.stderr


# --- Links to them --------------------------------------------------------------------------------


def test_the_story_page_links_to_its_feed_calendar_and_timelinejs_data(client, story):
    html = client.get(story.get_absolute_url()).content.decode()

    feed, calendar, timeline = (reverse(name, args=[story.slug]) for name in DATA_URLS)
    assert f'<link rel="alternate" type="application/atom+xml" href="{feed}"' in html
    assert f'<link rel="alternate" type="text/calendar" href="{calendar}"' in html
    assert f'<a href="{feed}" type="application/atom+xml">an Atom feed</a>' in html
    assert f'<a href="{calendar}" type="text/calendar">' in html
    assert f'<a href="{timeline}" type="application/json">TimelineJS data</a>' in html


def test_the_story_page_offers_the_embed_snippet_only_when_a_site_may_embed_it(client, story, settings):
    settings.EMBED_ALLOWED_ORIGINS = []
    assert "<iframe" not in client.get(story.get_absolute_url()).content.decode()

    settings.EMBED_ALLOWED_ORIGINS = ["https://news.example.org"]
    html = client.get(story.get_absolute_url()).content.decode()

    assert (
        "&lt;iframe src=&quot;http://127.0.0.1:8000/stories/macron-in-moscow/embed/&quot; "
        "title=&quot;Timeline: Macron in Moscow&quot;"
    ) in html


def test_actor_and_topic_pages_link_to_their_feeds(client):
    actor, topic = ActorFactory(), TopicFactory()

    actor_page = client.get(actor.get_absolute_url()).content.decode()
    topic_page = client.get(topic.get_absolute_url()).content.decode()

    for html, url in (
        (actor_page, reverse("events:actor_feed", args=[actor.slug])),
        (topic_page, reverse("events:topic_feed", args=[topic.slug])),
    ):
        assert f'<link rel="alternate" type="application/atom+xml" href="{url}"' in html
        assert f'<a href="{url}" type="application/atom+xml">' in html
