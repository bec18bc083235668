"""Readers' pages served again from the cache: same bytes, no query, never stale, never an editor's."""

import re

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from events import page_cache, services
from tests.factories import ActorFactory, EventFactory, ExpectationFactory, ParticipationFactory, StoryFactory
from tracker.middleware import PageCacheMiddleware

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "timeline"}


@pytest.fixture
def story():
    story = StoryFactory(slug="ceasefire-talks", title="Ceasefire talks")
    EventFactory(story=story, title="Envoys meet in Geneva")
    return story


def _queries(client, url, **extra):
    """The response, and how many queries it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return response, len(queries)


def _served_from_cache(client, url, **extra) -> bool:
    return _queries(client, url, **extra)[1] == 0


def _nonces(html: str) -> set[str]:
    return set(re.findall(r'nonce="([^"]+)"', html))


# --- Hits ----------------------------------------------------------------------------------------


def test_a_page_asked_again_is_the_same_bytes_with_no_query(client, story, django_assert_num_queries):
    url = story.get_absolute_url()
    first = client.get(url)
    assert first.status_code == 200
    with django_assert_num_queries(0):
        again = client.get(url)
    assert again.status_code == 200
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]


@pytest.fixture
def round_trips(monkeypatch):
    calls = []
    for name in ("get", "get_many", "add", "set", "set_many"):
        original = getattr(page_cache.cache, name)
        monkeypatch.setattr(
            page_cache.cache, name, lambda *a, _o=original, _n=name, **k: calls.append(_n) or _o(*a, **k)
        )
    return calls


def test_a_hit_costs_at_most_two_cache_round_trips(client, story, round_trips, settings):
    settings.PAGE_CACHE_STAMP_SECONDS = 1
    url = story.get_absolute_url()
    client.get(url)
    round_trips.clear()
    # The same process a moment later: it knows the stamps and keeps the page.
    client.get(url)
    assert round_trips == []
    # Another process: the stamps, then the page.
    settings.PAGE_CACHE_STAMP_SECONDS = 0
    page_cache.recent_pages.clear()
    client.get(url)
    assert round_trips == ["get_many", "get"]


def test_the_csp_header_of_a_cached_page_names_the_nonce_of_its_scripts(client, story):
    url = story.get_absolute_url()
    first = client.get(url)
    again = client.get(url)
    nonces = _nonces(again.content.decode())
    assert len(nonces) == 1
    (nonce,) = nonces
    assert f"'nonce-{nonce}'" in again["Content-Security-Policy"]
    assert again["Content-Security-Policy"] == first["Content-Security-Policy"]
    # A new version of the page has a new nonce.
    EventFactory(story=story)
    assert _nonces(client.get(url).content.decode()) != nonces


def test_a_readers_page_carries_no_csrf_token_and_sets_no_cookie(client, story):
    for _ in range(2):
        response = client.get(story.get_absolute_url())
        assert "csrfmiddlewaretoken" not in response.content.decode()
        assert not response.cookies


def test_query_strings_and_htmx_requests_are_entries_of_their_own(client, story):
    url = story.get_absolute_url()
    whole = client.get(url)
    fragment = client.get(url, **HTMX)
    filtered = client.get(url, {"kind": "meeting"})
    assert b"<html" in whole.content
    assert b"<html" not in fragment.content
    assert filtered.content != whole.content
    assert _served_from_cache(client, url, **HTMX)
    assert client.get(url, **HTMX).content == fragment.content
    assert client.get(url, {"kind": "meeting"}).content == filtered.content
    assert not _served_from_cache(client, url, data={"kind": "call"})


def test_older_pages_are_cached_by_their_cursor(client, story, settings):
    settings.TIMELINE_PAGE_SIZE = 2
    for _ in range(4):
        EventFactory(story=story)
    older = re.search(r'rel="next" hx-get="([^"]+)"', client.get(story.get_absolute_url()).content.decode())
    older_url = older.group(1).replace("&amp;", "&")
    second = client.get(older_url, **HTMX)
    assert second.status_code == 200
    assert b"data-event-id" in second.content
    assert _served_from_cache(client, older_url, **HTMX)
    assert client.get(older_url, **HTMX).content == second.content


# --- What renders a page afresh ------------------------------------------------------------------


def test_a_publication_shows_at_once_and_again_after_its_commit(client, story, django_capture_on_commit_callbacks):
    url = story.get_absolute_url()
    client.get(url)
    draft = EventFactory(story=story, title="Ministers sign the accord", publication="draft", published_at=None)
    client.get(url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.publish_event(event=draft)
        # Rendered before the commit: stored under the stamp the commit replaces.
        assert "Ministers sign the accord" in client.get(url).content.decode()
    assert _served_from_cache(client, url)
    for callback in callbacks:
        callback()
    response, queries = _queries(client, url)
    assert queries > 0
    assert "Ministers sign the accord" in response.content.decode()


def test_an_edit_of_a_published_event_shows_at_once(client, story):
    url = story.get_absolute_url()
    event = story.events.get()
    client.get(url)
    services.update_event(event=event, expected_version=event.version, title="Envoys meet in Vienna")
    assert "Envoys meet in Vienna" in client.get(url).content.decode()


def test_a_correction_shows_at_once(client, story):
    event = story.events.get()
    story_url, event_url = story.get_absolute_url(), event.get_absolute_url()
    client.get(story_url)
    client.get(event_url)
    services.add_correction(event=event, text="The meeting was in the afternoon.")
    assert not _served_from_cache(client, story_url)
    assert "The meeting was in the afternoon." in client.get(event_url).content.decode()


def test_an_expectation_change_shows_at_once(client, story):
    url = story.get_absolute_url()
    client.get(url)
    expectation = services.raise_expectation(story=story, title="A vote in parliament")
    assert "A vote in parliament" in client.get(url).content.decode()
    services.cancel_expectation(expectation=expectation, reason="Postponed indefinitely.")
    assert "A vote in parliament" not in client.get(url).content.decode()


def _panel(client, url) -> str:
    """The "what's next" panel of the story page."""
    html = client.get(url).content.decode()
    return html[html.index('id="whats-next-heading"') :]


def test_a_publication_leaves_the_panel_as_computed(client, story):
    stamps = [page_cache.story_key(story.slug), page_cache.panel_key(story.slug)]
    client.get(story.get_absolute_url())
    before = page_cache.read_stamps(stamps)
    draft = EventFactory(story=story, title="Ministers sign the accord", publication="draft", published_at=None)
    services.publish_event(event=draft)
    after = page_cache.read_stamps(stamps)
    assert after[stamps[0]] != before[stamps[0]]
    assert after[stamps[1]] == before[stamps[1]]
    assert "Ministers sign the accord" in client.get(story.get_absolute_url()).content.decode()


def test_an_edit_of_the_event_that_fulfilled_an_expectation_shows_in_the_panel(client, story):
    event = story.events.get()
    expectation = services.raise_expectation(story=story, title="Envoys meet")
    services.fulfil_expectation(expectation=expectation, event=event)
    url = story.get_absolute_url()
    assert "Envoys meet in Geneva" in _panel(client, url)
    services.update_event(event=event, expected_version=event.version, title="Envoys meet in Vienna")
    panel = _panel(client, url)
    assert "Envoys meet in Vienna" in panel
    assert "Envoys meet in Geneva" not in panel


def test_the_event_that_raised_an_expectation_taken_back_or_deleted_leaves_the_panel(client, story):
    event = story.events.get()
    services.raise_expectation(story=story, title="A vote in parliament", raised_by=event)
    url = story.get_absolute_url()
    assert "Envoys meet in Geneva" in _panel(client, url)
    event.publication = "draft"
    event.save()
    assert "Envoys meet in Geneva" not in _panel(client, url)
    event.publication = "published"
    event.save()
    assert "Envoys meet in Geneva" in _panel(client, url)
    event.delete()
    panel = _panel(client, url)
    assert "A vote in parliament" in panel
    assert "Envoys meet in Geneva" not in panel


def _offers(client, url, actor) -> bool:
    return f'<option value="{actor.slug}"' in client.get(url).content.decode()


def _draft_with(story, actor, title="Ministers sign the accord"):
    draft = EventFactory(story=story, title=title, publication="draft", published_at=None)
    ParticipationFactory(event=draft, actor=actor)
    return draft


def test_a_publication_naming_only_actors_on_offer_leaves_the_choices_as_computed(
    client, story, django_capture_on_commit_callbacks
):
    actor = ActorFactory(name="Emmanuel Macron")
    ParticipationFactory(event=story.events.get(), actor=actor)
    url = story.get_absolute_url()
    assert _offers(client, url, actor)
    key = page_cache.choices_key(story.slug)
    before = page_cache.read_stamps([key])
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_event(event=_draft_with(story, actor))
    assert page_cache.read_stamps([key]) == before
    html = client.get(url).content.decode()
    assert "Ministers sign the accord" in html
    assert f'<option value="{actor.slug}"' in html


def test_a_publication_naming_a_new_actor_offers_them_once_it_commits(
    client, story, django_capture_on_commit_callbacks
):
    url = story.get_absolute_url()
    actor = ActorFactory(name="Volodymyr Zelensky")
    assert not _offers(client, url, actor)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.publish_event(event=_draft_with(story, actor))
        # A reader who renders before the commit sees the old rows, and stores the old choices.
        assert not _offers(client, url, actor)
    for callback in callbacks:
        callback()
    assert _offers(client, url, actor)


def test_taking_back_the_only_event_of_an_actor_no_longer_offers_them(
    client, story, django_capture_on_commit_callbacks
):
    actor = ActorFactory(name="Olaf Scholz")
    event = _draft_with(story, actor)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_event(event=event)
    url = story.get_absolute_url()
    assert _offers(client, url, actor)
    event.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        event.publication = "draft"
        event.save()
    assert not _offers(client, url, actor)


def test_a_change_rolled_back_leaves_the_choices(client, story, django_capture_on_commit_callbacks):
    url = story.get_absolute_url()
    actor = ActorFactory(name="Andrzej Duda")
    client.get(url)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.publish_event(event=_draft_with(story, actor))
        raise RuntimeError("the editor's request failed")
    assert not _offers(client, url, actor)


def test_an_actors_new_name_shows_on_every_story_that_names_them(client, story):
    actor = ActorFactory(name="Kaja Kallas")
    ParticipationFactory(event=story.events.get(), actor=actor)
    url = story.get_absolute_url()
    assert "Kaja Kallas" in client.get(url).content.decode()
    actor.name = "Kaja Kallas (EU)"
    actor.save()
    assert "Kaja Kallas (EU)" in client.get(url).content.decode()


def test_another_storys_publication_leaves_this_story_cached(client, story):
    other = StoryFactory()
    url = story.get_absolute_url()
    client.get(url)
    EventFactory(story=other)
    assert _served_from_cache(client, url)


def test_a_new_day_renders_afresh_as_overdue_is_computed_from_the_date(client, story, monkeypatch):
    url = story.get_absolute_url()
    ExpectationFactory(story=story, title="Talks resume", due_on=timezone.localdate())
    client.get(url)
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    monkeypatch.setattr(page_cache.timezone, "localdate", lambda *a, **k: tomorrow)
    assert not _served_from_cache(client, url)


# --- Editors -------------------------------------------------------------------------------------


def test_an_editor_is_never_served_a_readers_page_nor_fills_one(client, editor, story):
    url = story.get_absolute_url()
    reader_page = client.get(url).content
    client.force_login(editor)
    response, queries = _queries(client, url)
    assert queries > 0
    assert response.content != reader_page
    assert "Log out" in response.content.decode()
    assert "private" in response["Cache-Control"]
    client.logout()
    page_cache.cache.clear()
    client.force_login(editor)
    client.get(url)
    client.logout()
    response, queries = _queries(client, url)
    assert queries > 0
    assert "Log out" not in response.content.decode()


# --- HTTP validators -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["story", "event", "actor"])
def test_pages_answer_a_matching_conditional_get_with_304_and_no_query(client, story, name, django_assert_num_queries):
    event = story.events.get()
    actor = ActorFactory()
    ParticipationFactory(event=event, actor=actor)
    url = {"story": story, "event": event, "actor": actor}[name].get_absolute_url()
    first = client.get(url)
    assert first["ETag"].startswith('W/"')
    assert "public" in first["Cache-Control"] and "max-age=30" in first["Cache-Control"]
    assert "stale-while-revalidate" in first["Cache-Control"]
    with django_assert_num_queries(0):
        by_etag = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    for response in (by_etag, by_date):
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == first["ETag"]
    EventFactory(story=story)
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_last_modified_moves_with_a_change(client, story):
    url = story.get_absolute_url()
    before = client.get(url)
    assert before["Last-Modified"] <= http_date()
    EventFactory(story=story)
    after = client.get(url, HTTP_IF_MODIFIED_SINCE=http_date(0))
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]


def test_vary_names_htmx_and_the_cookie(client, story):
    url = story.get_absolute_url()
    for response in (client.get(url), client.get(url), client.get(url, **HTMX)):
        vary = {name.strip() for name in response["Vary"].split(",")}
        assert {"HX-Request", "Cookie"} <= vary


# --- The live notice -----------------------------------------------------------------------------


def _poll_url(story):
    return reverse("events:story_updates", args=[story.slug])


def _page_validators(client, story):
    page = client.get(story.get_absolute_url()).content.decode()
    etag = re.search(r'data-etag="([^"]+)"', page).group(1).replace("&quot;", '"')
    return etag, re.search(r'data-since="([^"]+)"', page).group(1)


def test_the_poll_answers_304_with_no_query_while_nothing_changed(client, story, django_assert_num_queries):
    etag, since = _page_validators(client, story)
    assert client.get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    with django_assert_num_queries(0):
        response = client.get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert "no-cache" in response["Cache-Control"]


def test_the_poll_answers_other_conditional_requests_by_the_rules_of_http(client, story):
    """The poll's own ETag sent back is answered at once; a list, a weak or strong twin, a date or
    a failed If-Match takes Django's full rules, with the same headers."""
    etag, since = _page_validators(client, story)
    exact = client.get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH=etag)
    assert exact.status_code == 304
    assert exact["Cache-Control"] == "no-cache, private"
    for other in (f'"other", {etag}', etag.removeprefix("W/"), "*"):
        response = client.get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH=other)
        assert response.status_code == 304, other
        assert {name: response[name] for name in ("ETag", "Last-Modified", "Cache-Control")} == {
            name: exact[name] for name in ("ETag", "Last-Modified", "Cache-Control")
        }
    by_date = client.get(_poll_url(story), {"since": since}, HTTP_IF_MODIFIED_SINCE=exact["Last-Modified"])
    assert by_date.status_code == 304
    assert client.get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH='W/"stale"').status_code == 200
    failed = client.get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH=etag, HTTP_IF_MATCH='"other"')
    assert failed.status_code == 412


def test_the_poll_answers_the_notice_after_a_publication(client, story):
    etag, since = _page_validators(client, story)
    client.get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH=etag)
    services.publish_event(event=EventFactory(story=story, publication="draft", published_at=None))
    response = client.get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert "1 new development" in response.content.decode()
    assert response["ETag"] != etag
    assert client.get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_the_poll_of_an_unknown_story_is_a_404(client, db):
    response = client.get(reverse("events:story_updates", args=["no-such-story"]), HTTP_IF_NONE_MATCH='W/"0-0"')
    assert response.status_code == 404


def _stack_not_reached(request):
    raise AssertionError("went on to the stack")


def test_the_poll_304_and_a_cached_page_are_answered_before_sessions_and_the_view(client, story, settings):
    etag, since = _page_validators(client, story)
    client.get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH=etag)
    middleware = PageCacheMiddleware(_stack_not_reached)
    poll = RequestFactory().get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH=etag)
    assert middleware(poll).status_code == 304
    page = middleware(RequestFactory().get(story.get_absolute_url()))
    assert page.status_code == 200
    assert page.content == client.get(story.get_absolute_url()).content
    # Anything else goes on: no validator, a stale one, an editor, a page not marked cacheable.
    editor = RequestFactory().get(story.get_absolute_url())
    editor.COOKIES[settings.SESSION_COOKIE_NAME] = "x"
    for other in (
        RequestFactory().get(_poll_url(story), {"since": since}),
        RequestFactory().get(_poll_url(story), {"since": since}, HTTP_IF_NONE_MATCH='W/"0-0"'),
        editor,
        RequestFactory().get(reverse("events:story_feed", args=[story.slug])),
    ):
        with pytest.raises(AssertionError, match="went on to the stack"):
            middleware(other)
