"""Redis away: readers still get their pages (rendered afresh), editors keep working, and a change
made meanwhile is not hidden by pages stored before the outage once Redis is back (tracker.cache,
events.page_cache)."""

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from events import page_cache
from tests.factories import EventFactory, StoryFactory

pytestmark = pytest.mark.django_db

# Nothing listens there: every connection is refused at once.
AWAY = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_away(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "tracker.cache.ResilientRedisCache",
            "LOCATION": AWAY,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
    page_cache.recent_pages.clear()
    page_cache.recent_stamps.clear()
    yield caches["default"]
    page_cache.recent_pages.clear()
    page_cache.recent_stamps.clear()


def test_with_redis_away_a_reader_gets_the_story_page_and_its_poll(client, redis_away):
    event = EventFactory(title="Macron meets Putin in Moscow")
    story = event.story

    page = client.get(f"/stories/{story.slug}/")
    assert page.status_code == 200
    assert "Macron meets Putin in Moscow" in page.content.decode()
    assert client.get(f"/stories/{story.slug}/updates/", {"since": "2020-01-01T00:00:00Z"}).status_code in (200, 204)
    assert client.get(f"/events/{event.slug}/").status_code == 200
    assert not redis_away.reachable


def test_with_redis_away_no_page_is_answered_304_for_a_version_it_cannot_vouch_for(client, redis_away):
    story = EventFactory().story
    first = client.get(f"/stories/{story.slug}/")
    EventFactory(story=story, title="Talks in Kyiv")
    again = client.get(f"/stories/{story.slug}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert "Talks in Kyiv" in again.content.decode()


def test_with_redis_away_a_sign_up_waits_rather_than_going_uncounted(client, redis_away, mailoutbox):
    story = StoryFactory()
    response = client.post("/subscribe/", {"email": "reader@example.org", "stories": [story.pk], "frequency": "daily"})
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    assert not mailoutbox


def test_a_call_that_cannot_reach_redis_answers_as_a_miss_and_the_next_ones_wait(redis_away, monkeypatch):
    assert redis_away.get("key", "default") == "default"
    assert redis_away.get_many(["a", "b"]) == {}
    assert redis_away.add("key", 1) is False
    assert sorted(redis_away.set_many({"a": 1, "b": 2})) == ["a", "b"]
    with pytest.raises(ValueError):
        redis_away.incr("key")
    # While the outage is waited out, no connection is even tried.
    tried = []
    monkeypatch.setattr(RedisCache, "get", lambda *args: tried.append(args))
    assert redis_away.get("key") is None and not tried


def test_other_errors_are_not_quietened(monkeypatch):
    cache = caches["default"]

    def broken(*args):
        raise redis.exceptions.ResponseError("WRONGTYPE")

    monkeypatch.setattr(RedisCache, "get", broken)
    with pytest.raises(redis.exceptions.ResponseError):
        cache.get("key")


def test_a_change_made_while_redis_is_away_is_seen_once_it_answers_again(client, monkeypatch):
    """The page stored before the outage must not come back as current: the stamp bump lost during
    the outage is made again as soon as Redis answers."""
    story = EventFactory(title="Macron meets Putin in Moscow").story
    assert client.get(f"/stories/{story.slug}/").status_code == 200  # stored under the current stamps
    cache = caches["default"]

    def away(*args):
        raise redis.exceptions.ConnectionError("Connection refused")

    with monkeypatch.context() as outage:
        outage.setattr(RedisCache, "set_many", away)
        outage.setattr(RedisCache, "get_many", away)
        EventFactory(story=story, title="Talks in Kyiv")
    assert page_cache._unsaved_bumps
    # Redis is back; this process forgets what it read meanwhile, as another process would not know it.
    cache._away_until = 0.0
    page_cache.recent_pages.clear()
    page_cache.recent_stamps.clear()

    page = client.get(f"/stories/{story.slug}/")
    assert "Talks in Kyiv" in page.content.decode()
    assert not page_cache._unsaved_bumps
