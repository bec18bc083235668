"""An event's summary is rendered once, when it is written, and readers' pages show what was stored.

Every way an event is written (a save, an edit with update_fields, the admin, a service, a restore,
generate_story's bulk writes, the demo loader, the backfill migration) leaves `summary_html` equal to
`render_markdown(summary)`; the story and event pages then render no event's Markdown at all.
"""

import datetime
import importlib
import json
import re
from io import StringIO

import markdown
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from events import services, synthetic
from events.models import Event
from events.text import render_markdown
from tests import factories
from tests.test_history import _edit_in_admin

pytestmark = pytest.mark.django_db

SUMMARY = "Five hours of talks on **European security** <script>alert(1)</script>."
RENDERED = "<p>Five hours of talks on <strong>European security</strong> .</p>"


@pytest.fixture
def markdown_calls(monkeypatch) -> list[str]:
    """The texts markdown.markdown is asked to render from now on (it still renders them)."""
    calls: list[str] = []
    real = markdown.markdown

    def spy(text: str, *args, **kwargs) -> str:
        calls.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(markdown, "markdown", spy)
    return calls


def stored(event: Event) -> str:
    return Event.objects.values_list("summary_html", flat=True).get(pk=event.pk)


# --- Writing ----------------------------------------------------------------------------------------


def test_saving_an_event_stores_its_summary_rendered_and_sanitised():
    event = factories.EventFactory(summary=SUMMARY)
    assert stored(event) == RENDERED


def test_an_event_without_a_summary_stores_no_html():
    event = factories.EventFactory(summary="")
    assert stored(event) == ""


def test_editing_the_summary_renders_it_again():
    event = factories.EventFactory(summary=SUMMARY)
    event.summary = "Talks *collapsed*."
    event.save()
    assert stored(event) == "<p>Talks <em>collapsed</em>.</p>"


def test_a_save_limited_to_the_summary_stores_its_html_too():
    event = factories.EventFactory(summary=SUMMARY)
    event.summary = "Talks *collapsed*."
    event.save(update_fields=["summary"])
    assert stored(event) == "<p>Talks <em>collapsed</em>.</p>"


def test_a_save_limited_to_other_fields_leaves_the_stored_html_alone():
    event = factories.EventFactory(summary=SUMMARY)
    event.title = "Renamed"
    event.save(update_fields=["title"])
    assert stored(event) == RENDERED


def test_an_edit_through_the_service_renders_the_new_summary():
    event = factories.EventFactory(summary=SUMMARY)
    services.update_event(event=event, expected_version=event.version, summary="A [report](https://example.org/).")
    assert stored(event) == ('<p>A <a href="https://example.org/" rel="noopener noreferrer nofollow">report</a>.</p>')


def test_an_edit_in_the_admin_renders_the_new_summary(admin_client):
    event = factories.EventFactory(summary=SUMMARY)
    _edit_in_admin(admin_client, event, summary="Talks *collapsed*.")
    assert stored(event) == "<p>Talks <em>collapsed</em>.</p>"


def test_restoring_a_version_renders_its_summary_again(admin_user):
    event = factories.EventFactory(summary=SUMMARY)
    first = event.history.get()
    # History written before summary_html existed has it blank: the restore must not bring that back.
    type(first).objects.filter(history_id=first.history_id).update(summary_html="")
    event = services.update_event(event=event, expected_version=event.version, summary="Talks *collapsed*.")

    restored = services.restore_version(record=event, history_id=first.history_id, by=admin_user)

    assert restored.summary == SUMMARY
    assert stored(event) == RENDERED


def test_a_generated_story_has_every_summary_rendered_each_distinct_one_once(markdown_calls):
    story = synthetic.generate_story(slug="synthetic", events=300, expectations=0, subscribers=0)
    # The story's own summary is rendered once too, when the story is saved.
    rendered = [text for text in markdown_calls if text != story.summary]
    events = list(story.events.all())
    distinct = {e.summary for e in events}
    assert len(events) == 300
    assert all(e.summary_html and e.summary_html == render_markdown(e.summary) for e in events)
    assert len(distinct) < len(events)
    assert sorted(rendered) == sorted(distinct)


def test_the_demo_story_has_every_summary_rendered_and_a_second_load_writes_nothing():
    call_command("load_demo_story", stdout=StringIO())
    events = list(Event.objects.filter(story__slug="ukraine-crisis-diplomacy"))
    assert events and all(e.summary_html == render_markdown(e.summary) for e in events)
    assert all(e.summary_html for e in events if e.summary)

    out = StringIO()
    call_command("load_demo_story", stdout=out)
    assert "already up to date" in out.getvalue()


# --- The backfill migration -------------------------------------------------------------------------

BEFORE = [("events", "0004_year_precision_summary_html_status_reason")]
BACKFILL = [("events", "0005_backfill_summary_html")]


@pytest.mark.django_db(transaction=True)
def test_the_backfill_fills_summary_html_of_events_saved_before_it_in_batches():
    batch_size = importlib.import_module("events.migrations.0005_backfill_summary_html").BATCH_SIZE
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(BEFORE)
        old_apps = executor.loader.project_state(BEFORE).apps
        OldStory, OldEvent = old_apps.get_model("events", "Story"), old_apps.get_model("events", "Event")
        common = {
            "story": OldStory.objects.create(title="Older story", slug="older-story"),
            "start": datetime.datetime(2022, 2, 7, 15, tzinfo=datetime.UTC),
        }
        count = 2 * batch_size + 1  # two full batches and a last, shorter one
        OldEvent.objects.bulk_create(
            [
                OldEvent(**common, kind="meeting", title=f"Round {n}", slug=f"talks-{n}", summary=f"**{n}**")
                for n in range(count)
            ]
            + [OldEvent(**common, kind="call", title="A call", slug="a-call", summary="")]
        )
        assert OldEvent.objects.exclude(summary_html="").count() == 0

        MigrationExecutor(connection).migrate(BACKFILL)

        rows = dict(Event.objects.values_list("slug", "summary_html"))
        assert all(rows[f"talks-{n}"] == f"<p><strong>{n}</strong></p>" for n in range(count))
        assert rows["a-call"] == ""
    finally:
        MigrationExecutor(connection).migrate(leaves)


# --- Reading ----------------------------------------------------------------------------------------


@pytest.fixture
def story():
    return factories.StoryFactory(slug="macron-in-moscow", summary="Talks on **Ukraine**.")


@pytest.fixture
def talks(story):
    event = factories.EventFactory(story=story, slug="talks", summary="Grain **&** gas, *“no deal”*.")
    factories.EventFactory(story=story, summary="A [report](https://example.org/).")
    return event


def test_the_story_page_renders_no_event_summary(client, story, talks, markdown_calls):
    summaries = set(Event.objects.values_list("summary", flat=True))
    markdown_calls.clear()

    content = client.get(story.get_absolute_url()).content.decode()

    assert "Grain <strong>&amp;</strong> gas, <em>“no deal”</em>." in content
    assert not summaries & set(markdown_calls)
    # The story's own summary has no stored HTML: it is the only text rendered.
    assert set(markdown_calls) <= {story.summary}


def test_the_story_page_and_the_story_list_render_no_markdown_at_all(client, story, talks, markdown_calls):
    markdown_calls.clear()

    page = client.get(story.get_absolute_url()).content.decode()
    listing = client.get("/").content.decode()

    assert markdown_calls == []
    assert "Talks on <strong>Ukraine</strong>." in page
    assert "Talks on Ukraine." in listing


def test_the_timeline_fragment_renders_no_markdown(client, story, talks, markdown_calls):
    markdown_calls.clear()
    response = client.get(story.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert "<strong>&amp;</strong>" in response.content.decode()
    assert markdown_calls == []


def test_the_event_page_renders_no_markdown(client, talks, markdown_calls):
    markdown_calls.clear()
    content = client.get(talks.get_absolute_url()).content.decode()
    assert "Grain <strong>&amp;</strong> gas, <em>“no deal”</em>." in content
    assert markdown_calls == []


def test_the_pages_show_the_stored_html(client, story, talks):
    Event.objects.filter(pk=talks.pk).update(summary_html="<p>As <em>stored</em> &amp; shown.</p>")
    for url in (story.get_absolute_url(), talks.get_absolute_url()):
        assert "<p>As <em>stored</em> &amp; shown.</p>" in client.get(url).content.decode()


def test_the_event_page_describes_itself_from_the_stored_html_escaped_once(client, talks):
    content = client.get(talks.get_absolute_url()).content.decode()
    assert '<meta name="description" content="Grain &amp; gas, “no deal”.">' in content
    assert '<meta property="og:description" content="Grain &amp; gas, “no deal”.">' in content
    data = json.loads(re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', content, re.S).group(1))
    assert data["description"] == "Grain & gas, “no deal”."


def test_an_event_with_no_summary_is_described_by_its_kind_and_date(client):
    event = factories.EventFactory(
        summary="", kind="call", start=datetime.datetime(2022, 2, 12, 17, tzinfo=datetime.UTC)
    )
    content = client.get(event.get_absolute_url()).content.decode()
    assert '<meta name="description" content="Phone call, ' in content
    assert "event-page__summary" not in content
    assert '"description"' not in re.search(r"application/ld\+json[^>]*>(.*?)</script>", content, re.S).group(1)
