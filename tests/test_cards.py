"""Event cards rendered once per version of their event (events.cards): reused, never stale."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events import cards, services
from events.media.uploads import store_upload
from events.services.media import TEXT_FIELDS, MediaRow, write_media
from tests.factories import ActorFactory, EventFactory, ParticipationFactory, StoryFactory, TopicFactory
from tests.media_files import photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    story = StoryFactory(slug="ceasefire-talks", title="Ceasefire talks")
    for number in range(3):
        event = EventFactory(story=story, title=f"Round {number} of talks")
        ParticipationFactory(event=event, actor=ActorFactory(name=f"Envoy {number}"))
        event.topics.add(TopicFactory(name=f"Topic {number}"))
    return story


def _render(client, story) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(story.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in queries.captured_queries]


def _prefetches(sql: list[str]) -> list[str]:
    return [query for query in sql if 'FROM "events_participation"' in query]


def test_a_page_rendered_afresh_renders_only_the_new_card(client, story):
    _, sql = _render(client, story)
    assert len(_prefetches(sql)) == 1
    new = EventFactory(story=story, title="A fourth round")
    ParticipationFactory(event=new, actor=ActorFactory(name="Envoy 4"))
    services.publish_event(event=new)
    again, sql = _render(client, story)
    assert "A fourth round" in again and "Envoy 4" in again
    # Only the new event's participants are fetched: the three other cards come from the cache.
    [prefetch] = _prefetches(sql)
    assert f"IN ({new.pk})" in prefetch


def test_the_same_card_is_the_same_bytes_on_every_list(client, story):
    event = story.events.first()
    cards.attach_cards([event], show_story=False)
    html = event.card_html
    page, _ = _render(client, story)
    assert html in page
    assert f'data-event-id="{event.pk}"' in html


def test_an_edit_gives_the_card_a_new_version(client, story):
    event = story.events.get(title="Round 1 of talks")
    _render(client, story)
    services.update_event(event=event, expected_version=event.version, title="Round 1, moved to Vienna")
    page, _ = _render(client, story)
    assert "Round 1, moved to Vienna" in page
    assert "Round 1 of talks" not in page


def test_a_renamed_actor_shows_on_every_card(client, story):
    _render(client, story)
    actor = ActorFactory._meta.model.objects.get(name="Envoy 2")
    actor.name = "Special envoy 2"
    actor.save()
    page, _ = _render(client, story)
    assert "Special envoy 2" in page


def test_a_new_caption_of_the_lead_picture_shows(client, story):
    event = story.events.get(title="Round 0 of talks")
    write_media(
        event, [MediaRow(kind="image", upload=store_upload(photo(), "image"), credit="Pool", alt_text="A table")]
    )
    page, _ = _render(client, story)
    assert "Photo: Pool" in page
    item = event.media.get()
    texts = {name: getattr(item, name) for name in TEXT_FIELDS} | {
        "caption": "Delegations at the table",
        "credit": "Reuters",
    }
    row = MediaRow(kind=item.kind, item_id=item.pk, **texts)
    event.refresh_from_db()
    write_media(event, [row])
    page, _ = _render(client, story)
    assert "Delegations at the table" in page and "Photo: Reuters" in page


def test_a_card_for_a_list_that_names_the_story_is_kept_apart(client, story):
    event = story.events.first()
    cards.attach_cards([event], show_story=False)
    without = event.card_html
    del event.card_html
    cards.attach_cards([event], show_story=True)
    assert "Ceasefire talks" in event.card_html
    assert event.card_html != without
