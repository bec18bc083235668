"""The desk's front page: what needs a decision, each list bounded, at a fixed cost."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import Expectation
from tests import factories

HOME = reverse("desk:home")


def _days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def test_an_overdue_expectation_is_marked_overdue_and_links_to_its_page(editor_client):
    expectation = factories.ExpectationFactory(title="Macron travels to Kyiv", due_on=_days_ago(3))

    response = editor_client.get(HOME)

    html = response.text
    link = reverse("desk:expectation_detail", args=[expectation.pk])
    overdue_section = html[html.index('id="overdue-heading"') : html.index('id="due-heading"')]
    assert f'href="{link}"' in overdue_section
    assert "Overdue" in overdue_section and "Macron travels to Kyiv" in overdue_section


def test_the_front_page_lists_due_soon_unreviewed_drafts_quiet_stories_and_changes(editor_client, editor):
    soon = factories.ExpectationFactory(title="Normandy-format advisers meet", due_on=_days_ago(-2))
    unreviewed = factories.ExpectationFactory(title="OSCE session", reviewed_at=None)
    draft = factories.EventFactory(title="Draft about sanctions", publication="draft", published_at=None)
    factories.StoryFactory(title="A story gone quiet", last_development_at=timezone.now() - datetime.timedelta(days=30))
    services.update_event(event=draft, expected_version=1, by=editor, title="Draft about new sanctions")

    html = editor_client.get(HOME).text

    for text in (soon.title, unreviewed.title, "Draft about new sanctions", "A story gone quiet", "desk-editor"):
        assert text in html, text


@pytest.mark.parametrize("count", [1, 60])
def test_the_front_page_costs_the_same_with_one_item_or_many(editor_client, django_assert_max_num_queries, count):
    story = factories.StoryFactory()
    for n in range(count):
        factories.ExpectationFactory(story=story, due_on=_days_ago(n % 5), reviewed_at=None)
        factories.ExpectationFactory(story=story, due_on=_days_ago(-(n % 5) - 1))
        factories.EventFactory(story=story, publication="draft", published_at=None)
        factories.StoryFactory(title=f"Quiet {n}")
    with django_assert_max_num_queries(14):
        response = editor_client.get(HOME)
    assert response.status_code == 200
    if count == 60:
        assert response.text.count('class="desk-item') <= 6 * 10 + 10
        assert reverse("desk:expectation_list") + "?show=overdue" in response.text


def test_the_see_more_lists_cost_the_same_with_many_items(editor_client, django_assert_max_num_queries):
    for _ in range(60):
        event = factories.EventFactory(publication="draft", published_at=None)
        event.title = "Edited"
        event.save()
    for url in (reverse("desk:event_list"), reverse("desk:event_list") + "?show=all", reverse("desk:changes")):
        with django_assert_max_num_queries(8):
            assert editor_client.get(url).status_code == 200
    with django_assert_max_num_queries(8):
        assert editor_client.get(reverse("desk:quiet_stories")).status_code == 200


def test_older_changes_follow_on_from_the_last_page(editor_client):
    for n in range(55):
        factories.ExpectationFactory(title=f"Expectation {n:02}")
    first = editor_client.get(reverse("desk:changes"))
    assert len(first.context["changes"]) == 50
    second = editor_client.get(reverse("desk:changes"), {"before": first.context["next_before"]})
    titles = {c.title for c in first.context["changes"]} | {c.title for c in second.context["changes"]}
    assert len(titles) == 55
    assert Expectation.objects.count() == 55
