"""The desk's "Log a development" and event edit pages: the contract's labels and buttons, saving a
whole development, refusals that keep the input, and the lost-update refusal."""

import datetime
import re
import threading
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from events import services
from events.forms.events import DevelopmentForm, initial_for, rows_initial
from events.models import Actor, Event, Expectation, Story
from tests import factories

NEW = reverse("desk:event_new")


class Controls(HTMLParser):
    """The form's controls with their accessible names (label text, or a fieldset's legend)."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: dict[str, str] = {}
        self.controls: list[dict] = []
        self.buttons: list[str] = []
        self._label_for: str | None = None
        self._button = False
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self._label_for, self._text = attrs.get("for"), []
        elif tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.controls.append({"tag": tag, **attrs})
        elif tag == "button":
            self._button, self._text = True, []

    def handle_data(self, data):
        self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "label" and self._label_for:
            self.labels[self._label_for] = "".join(self._text).strip()
            self._label_for = None
        elif tag == "button" and self._button:
            self.buttons.append(" ".join("".join(self._text).split()))
            self._button = False

    def name_of(self, control: dict) -> str:
        return self.labels.get(control.get("id", ""), "")


def _controls(html: str) -> Controls:
    parser = Controls()
    parser.feed(html)
    return parser


def _form_data(response, **changes) -> dict:
    """What the page's form would post, as a browser fills it in (from the rendered form's values)."""
    form = response.context["form"]
    data: dict = {}
    for bound in form.event:
        value = bound.value()
        if value is None:
            continue
        data[bound.html_name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    for formset in form.formsets.values():
        for bound in formset.management_form:
            data[bound.html_name] = str(bound.value())
        for row in formset.forms:
            for bound in row:
                if bound.value() not in (None, ""):
                    data[bound.html_name] = str(bound.value())
    data.update(changes)
    return data


def _errors(response) -> dict:
    """Every message of a refused form, to show when a test expected it to pass."""
    if not response.context or "form" not in response.context:
        return {}
    form = response.context["form"]
    errors = {"event": form.event.errors}
    for prefix, formset in form.formsets.items():
        errors[prefix] = [f.errors for f in formset.forms if f.errors] + list(formset.non_form_errors())
    return errors


def _development(**changes) -> dict:
    story = Story.objects.get(slug="ukraine") if Story.objects.filter(slug="ukraine").exists() else None
    story = story or factories.StoryFactory(slug="ukraine", title="Ukraine crisis diplomacy")
    data = {
        "story": str(story.pk),
        "title": "Macron and Putin meet in Moscow",
        "kind": "meeting",
        "status": "happened",
        "date": "2022-02-07",
        "time": "18:00",
        "precision": "exact",
        "time_zone": "Europe/Moscow",
        "summary": "Five hours of *talks* at the Kremlin.",
        "participants-TOTAL_FORMS": "2",
        "participants-INITIAL_FORMS": "0",
        "participants-0-actor": "Emmanuel Macron",
        "participants-0-role": "guest",
        "participants-1-actor": "Vladimir Putin",
        "participants-1-role": "host",
        "participants-1-new_kind": "person",
        "sources-TOTAL_FORMS": "1",
        "sources-INITIAL_FORMS": "0",
        "sources-0-url": "https://www.reuters.com/world/europe/macron-putin-2022-02-07/",
        "points-TOTAL_FORMS": "1",
        "points-INITIAL_FORMS": "0",
        "points-0-title": "NATO expansion",
        "points-0-side_a": "Emmanuel Macron",
        "points-0-stance_a": "Sought de-escalation.",
        "points-0-side_b": "Vladimir Putin",
        "points-0-stance_b": "Reiterated his demands.",
        "expected-TOTAL_FORMS": "1",
        "expected-INITIAL_FORMS": "0",
        "expected-0-title": "Macron travels to Kyiv",
        "expected-0-due_on": "2022-02-08",
        "expected-0-due_precision": "day",
    }
    data.update(changes)
    return data


@pytest.fixture
def macron(db):
    return factories.ActorFactory(name="Emmanuel Macron", slug="emmanuel-macron", aliases=["Macron"])


def test_log_a_development_names_its_controls_and_buttons_as_the_contract_says(editor_client):
    response = editor_client.get(NEW)

    assert response.status_code == 200
    page = _controls(response.text)
    names = [page.name_of(control) for control in page.controls if page.name_of(control)]
    for word in ("Story", "Title", "Kind", "Date", "Time", "Precision", "Summary", "Actor", "Role", "Source URL"):
        assert any(name.startswith(word) for name in names), word
    by_name = {page.name_of(c): c for c in page.controls}
    assert by_name["Date *"]["type"] == "date"
    assert by_name["Time"]["type"] == "time"
    for word in ("Date", "Time", "Precision"):
        starting = [name for name in names if name.startswith(word) and name != "Time zone"]
        assert len(starting) == 1, (word, starting)
    assert {"Save draft", "Publish"} <= set(page.buttons)


def test_a_story_in_the_address_is_preselected(editor_client):
    story = factories.StoryFactory(slug="ukraine")
    response = editor_client.get(NEW, {"story": "ukraine"})
    assert response.context["form"].event["story"].value() == story.pk


def test_saving_a_draft_writes_the_whole_development_in_one_history_entry(editor_client, editor, macron):
    response = editor_client.post(NEW, _development(save_draft="1"))

    assert response.status_code == 302, _errors(response)
    event = Event.objects.get(title="Macron and Putin meet in Moscow")
    assert response["Location"] == reverse("desk:event_edit", args=[event.slug])
    assert not event.is_published
    assert event.start == datetime.datetime(2022, 2, 7, 15, 0, tzinfo=datetime.UTC)
    assert event.start_precision == "exact"
    assert event.summary_html == "<p>Five hours of <em>talks</em> at the Kremlin.</p>"
    roles = {p.actor.name: p.role for p in event.participations.select_related("actor")}
    assert roles == {"Emmanuel Macron": "guest", "Vladimir Putin": "host"}
    assert Actor.objects.get(name="Vladimir Putin").kind == "person"
    [source] = event.sources.all()
    assert source.outlet == "reuters.com"
    [point] = event.discussion_points.all()
    assert [(p.actor.name, p.stance) for p in point.positions.order_by("id")] == [
        ("Emmanuel Macron", "Sought de-escalation."),
        ("Vladimir Putin", "Reiterated his demands."),
    ]
    [expectation] = event.expectations_raised.all()
    assert (expectation.title, expectation.due_on, expectation.status) == (
        "Macron travels to Kyiv",
        datetime.date(2022, 2, 8),
        "pending",
    )
    [entry] = event.history.all()
    assert entry.history_user == editor


def test_publishing_puts_the_event_on_the_timeline_and_moves_the_story(editor_client, macron, client):
    editor_client.post(NEW, _development(publish="1"))

    event = Event.objects.get(title="Macron and Putin meet in Moscow")
    assert event.is_published
    assert event.story.last_development_at == event.published_at
    assert event.title in client.get(event.story.get_absolute_url()).text


def test_a_year_alone_is_kept_at_its_precision(editor_client, macron):
    editor_client.post(NEW, _development(date="2022-06-15", time="", precision="year", publish="1"))

    event = Event.objects.get(title="Macron and Putin meet in Moscow")
    assert (event.start.date(), event.start_precision) == (datetime.date(2022, 1, 1), "year")
    assert event.when == "2022"


def test_a_refused_form_keeps_what_was_typed_and_says_what_to_fix_in_each_row(editor_client, macron):
    data = _development(title="", time="", publish="1", **{"participants-1-new_kind": ""})

    response = editor_client.post(NEW, data)

    assert response.status_code == 422
    assert not Event.objects.exists()
    form = response.context["form"]
    assert form.event.errors["title"] == ["This field is required."]
    assert "Give the time" in form.event.errors["time"][0]
    assert "No actor is called “Vladimir Putin” yet" in form.formsets["participants"].forms[1].errors["actor"][0]
    html = response.text
    # Typed values come back, and each message is tied to its control.
    assert 'value="Emmanuel Macron"' in html
    assert "Five hours of *talks* at the Kremlin." in html
    assert re.search(
        r'<input[^>]*aria-describedby="[^"]*id_title_error[^"]*"[^>]*name="title"|'
        r'<input[^>]*name="title"[^>]*aria-describedby="[^"]*id_title_error',
        html,
    )
    assert 'id="id_title_error"' in html


def test_an_end_before_the_start_is_refused(editor_client, macron):
    response = editor_client.post(NEW, _development(end_date="2022-02-06", save_draft="1"))
    assert response.status_code == 422
    assert response.context["form"].event.errors["end_date"] == ["The end is before the start."]


def test_adding_a_row_without_javascript_shows_the_form_again_with_one_more_row_and_no_messages(editor_client):
    response = editor_client.post(NEW, _development(title="", add="participants"))

    assert response.status_code == 200
    form = response.context["form"]
    assert len(form.formsets["participants"].forms) == 3
    assert 'name="participants-2-actor"' in response.text
    assert "This field is required." not in response.text
    assert not Event.objects.exists()


def test_adding_a_row_with_htmx_answers_the_row_and_the_new_count(editor_client):
    response = editor_client.get(
        reverse("desk:event_row", args=["sources"]), {"sources-TOTAL_FORMS": "1"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert 'name="sources-1-url"' in response.text
    assert re.search(r'name="sources-TOTAL_FORMS" value="2"[^>]*hx-swap-oob="true"', response.text)


def test_a_row_request_without_a_count_is_a_400(editor_client):
    assert editor_client.get(reverse("desk:event_row", args=["sources"])).status_code == 400
    assert editor_client.get(reverse("desk:event_row", args=["nothing"])).status_code == 404


def test_inline_validation_answers_the_messages_of_one_field(editor_client):
    response = editor_client.post(NEW, {"_validate": "title", "title": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "This field is required." in response.text
    response = editor_client.post(NEW, {"_validate": "title", "title": "Talks"}, headers={"HX-Request": "true"})
    assert response.text == ""


def test_the_summary_preview_is_rendered_and_sanitised(editor_client):
    response = editor_client.post(
        reverse("desk:markdown_preview"), {"summary": "**Talks** <script>alert(1)</script>[x](javascript:alert(1))"}
    )
    assert response.status_code == 200
    assert "<strong>Talks</strong>" in response.text
    assert "<script" not in response.text and "javascript:" not in response.text


def test_actors_are_suggested_as_you_type_by_name_or_alias(editor_client, macron):
    factories.ActorFactory(name="Olaf Scholz")
    response = editor_client.get(reverse("desk:actor_suggestions"), {"participants-0-actor": "macr"})
    assert response.text == '<option value="Emmanuel Macron"></option>'


def test_an_htmx_save_stays_on_the_page_and_pushes_the_event_address(editor_client, macron):
    response = editor_client.post(NEW, _development(save_draft="1"), headers={"HX-Request": "true"})

    event = Event.objects.get()
    assert response.status_code == 200
    assert response["HX-Push-Url"] == reverse("desk:event_edit", args=[event.slug])
    assert "Saved “Macron and Putin meet in Moscow” as a draft" in response.text
    assert "<html" not in response.text


def _event_with_rows() -> Event:
    event = factories.EventFactory(title="Talks in Moscow", start_precision="day")
    factories.ParticipationFactory(event=event, role="host")
    factories.SourceFactory(event=event)
    return event


def test_the_edit_page_shows_the_event_as_saved(editor_client):
    event = _event_with_rows()
    response = editor_client.get(reverse("desk:event_edit", args=[event.slug]))

    assert response.status_code == 200
    page = _controls(response.text)
    assert "Save" in page.buttons and "Save draft" in page.buttons and "Publish" in page.buttons
    form = response.context["form"]
    assert form.event["title"].value() == "Talks in Moscow"
    assert form.event["loaded_version"].value() == event.version
    assert form.formsets["participants"].forms[0]["actor"].value() == event.participations.get().actor.name


def test_saving_an_edit_moves_the_version_on_and_keeps_the_slug(editor_client):
    event = _event_with_rows()
    url = reverse("desk:event_edit", args=[event.slug])
    data = _form_data(editor_client.get(url), title="Talks in Moscow end after five hours", save="1")

    response = editor_client.post(url, data)

    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.title, event.version, event.is_published) == ("Talks in Moscow end after five hours", 2, True)
    assert event.slug == url.strip("/").split("/")[-1]
    assert event.participations.count() == 1 and event.sources.count() == 1


def test_a_save_over_a_newer_version_is_refused_with_what_changed_and_keeps_the_input(editor_client, editor):
    event = _event_with_rows()
    url = reverse("desk:event_edit", args=[event.slug])
    mine = _form_data(editor_client.get(url), title="My title", summary="My summary", save="1")
    # Another editor saves first.
    services.update_event(event=event, expected_version=1, by=editor, title="Their title")

    response = editor_client.post(url, mine)

    assert response.status_code == 409
    assert "changed by someone else" in response.text
    assert response.context["stale"].changes[0].label == "Title"
    assert response.context["stale"].changes[0].new == "Their title"
    assert 'value="My title"' in response.text and "My summary" in response.text
    event.refresh_from_db()
    assert event.title == "Their title"


@pytest.mark.django_db(transaction=True)
def test_of_two_concurrent_saves_of_one_version_only_the_first_goes_through(editors_group):
    event = _event_with_rows()
    development = DevelopmentForm(initial=initial_for(event), rows=rows_initial(event))
    data = {}
    for name in ("participants", "sources", "points", "expected"):
        data |= {f"{name}-TOTAL_FORMS": "0", f"{name}-INITIAL_FORMS": "0"}
    base = {k: v for k, v in development.event.initial.items() if v is not None and k != "topics"}
    results: list[str] = []
    barrier = threading.Barrier(2)

    def save(title: str) -> None:
        try:
            form = DevelopmentForm({**{k: str(v) for k, v in base.items()}, **data, "title": title})
            assert form.is_valid(), form.event.errors
            barrier.wait()
            services.revise_development(event=event, development=form.development(), expected_version=1)
            results.append(title)
        except services.StaleVersionError:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(title,)) for title in ("First", "Second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results)[-1] == "refused" and len(results) == 2
    event.refresh_from_db()
    assert event.version == 2
    assert event.title in results


def test_the_event_page_shows_editors_an_edit_link_and_readers_none(client, editor):
    event = factories.EventFactory()
    edit_url = reverse("desk:event_edit", args=[event.slug])
    assert edit_url not in client.get(event.get_absolute_url()).text
    client.force_login(editor)
    assert f'href="{edit_url}"' in client.get(event.get_absolute_url()).text


def test_the_form_pages_cost_the_same_with_many_actors_places_topics_and_rows(
    editor_client, django_assert_max_num_queries
):
    event = factories.EventFactory()
    for _ in range(60):
        factories.ActorFactory()
        factories.PlaceFactory()
        factories.TopicFactory()
    for _ in range(20):
        factories.ParticipationFactory(event=event)
        factories.SourceFactory(event=event)
        point = factories.DiscussionPointFactory(event=event)
        factories.PositionFactory(discussion_point=point)
        factories.ExpectationFactory(story=event.story, raised_by=event)
    with django_assert_max_num_queries(12):
        assert editor_client.get(NEW).status_code == 200
    with django_assert_max_num_queries(18):
        assert editor_client.get(reverse("desk:event_edit", args=[event.slug])).status_code == 200


def test_csrf_is_enforced_on_the_form_with_or_without_htmx(editor):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(editor)
    assert csrf_client.post(NEW, _development(save_draft="1")).status_code == 403
    assert csrf_client.post(NEW, _development(save_draft="1"), headers={"HX-Request": "true"}).status_code == 403
    assert not Event.objects.exists()
    assert not Expectation.objects.exists()
