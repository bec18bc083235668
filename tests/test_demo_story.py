"""The demo story loader: what it loads, that a second run changes nothing, and the editor's login."""

import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models import Max
from django.utils import timezone

from events import demo_media, services
from events.models import Actor, Event, Expectation, MediaItem, MediaKind, Place, Story
from events.services.media import TEXT_FIELDS, MediaRow, stored_names, write_media

pytestmark = pytest.mark.django_db

SLUG = "ukraine-crisis-diplomacy"


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo_story", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models(include_auto_created=True)}


def stored_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def media_rows() -> list[tuple]:
    return list(MediaItem.objects.order_by("pk").values_list("pk", "event__slug", "position", "kind", "image", "title"))


@pytest.fixture
def story() -> Story:
    load()
    return Story.objects.get(slug=SLUG)


def test_the_story_is_developing_with_at_least_eight_published_events(story):
    assert story.status == Story.Status.DEVELOPING
    events = story.events.all()
    assert events.count() >= 8
    assert all(e.publication == Event.Publication.PUBLISHED and e.published_at for e in events)


def test_the_story_last_development_is_its_newest_publication(story):
    newest = story.events.aggregate(m=Max("published_at"))["m"]
    assert story.last_development_at == newest


def test_events_follow_the_chronology_of_early_february_2022(story):
    days = {e.slug: e.start.astimezone(datetime.UTC).date() for e in story.events.all()}
    assert days["macron-putin-talks-in-moscow"] == datetime.date(2022, 2, 7)
    assert days["macron-meets-zelenskyy-in-kyiv"] == datetime.date(2022, 2, 8)
    assert days["weimar-triangle-leaders-meet-in-berlin"] == datetime.date(2022, 2, 8)
    assert days["normandy-format-advisers-meet-in-berlin"] == datetime.date(2022, 2, 10)
    assert days["biden-putin-phone-call"] == datetime.date(2022, 2, 12)


def test_the_moscow_talks_have_an_exact_time_in_moscow_and_a_host_and_a_guest(story):
    talks = Event.objects.get(slug="macron-putin-talks-in-moscow")
    assert talks.place.slug == "moscow" and talks.place.time_zone == "Europe/Moscow"
    assert talks.start_precision == "exact"
    assert talks.when == "7 Feb 2022, 18:30 MSK"
    roles = {p.actor.slug: p.role for p in talks.participations.select_related("actor")}
    assert roles == {"vladimir-putin": "host", "emmanuel-macron": "guest"}


def test_each_discussion_point_of_the_moscow_talks_has_both_sides_positions(story):
    talks = Event.objects.get(slug="macron-putin-talks-in-moscow")
    points = list(talks.discussion_points.prefetch_related("positions__actor"))
    assert {p.topic.slug for p in points} >= {
        "de-escalation",
        "nato-expansion",
        "minsk-agreements",
        "donbas",
        "european-security-architecture",
        "arms-control",
    }
    for point in points:
        assert {pos.actor.slug for pos in point.positions.all()} == {"emmanuel-macron", "vladimir-putin"}


def test_undated_facts_are_given_at_a_coarser_precision(story):
    precisions = {e.slug: e.start_precision for e in story.events.all()}
    assert precisions["us-and-eu-warn-of-sanctions"] == "month"
    assert precisions["osce-permanent-council-discusses-ukraine"] == "approximate"
    assert Event.objects.get(slug="osce-permanent-council-discusses-ukraine").when == "around 10 Feb 2022"


def test_every_event_has_a_source(story):
    assert all(e.sources.exists() for e in story.events.all())


def test_people_are_affiliated_to_their_countries_and_have_aliases(story):
    affiliations = dict(Actor.objects.filter(kind="person").values_list("slug", "affiliation__slug"))
    assert affiliations["emmanuel-macron"] == "france"
    assert affiliations["vladimir-putin"] == "russia"
    assert affiliations["volodymyr-zelenskyy"] == "ukraine"
    assert affiliations["joe-biden"] == "united-states"
    assert affiliations["olaf-scholz"] == "germany"
    assert "Volodymyr Zelensky" in Actor.objects.get(slug="volodymyr-zelenskyy").aliases


def test_places_have_coordinates_and_a_time_zone(story):
    for slug in ["moscow", "kyiv", "berlin", "vienna", "brussels", "washington"]:
        place = Place.objects.get(slug=slug)
        assert place.latitude is not None and place.longitude is not None and place.time_zone


def test_the_kyiv_visit_fulfils_the_expectation_the_moscow_talks_raised(story):
    expectation = Expectation.objects.get(slug="macron-expected-to-travel-to-kyiv")
    assert expectation.status == Expectation.Status.FULFILLED
    assert expectation.fulfilled_by.slug == "macron-meets-zelenskyy-in-kyiv"
    assert expectation.raised_by.slug == "macron-putin-talks-in-moscow"


@pytest.mark.parametrize("today", [None, datetime.date(2022, 2, 9), datetime.date(2100, 1, 1)])
def test_expectations_read_as_fulfilled_pending_overdue_and_cancelled(story, today):
    today = today or timezone.localdate()
    states = {e.slug: (e.status, e.is_overdue_on(today)) for e in story.expectations.all()}
    assert len(states) >= 4
    assert states["macron-expected-to-travel-to-kyiv"] == ("fulfilled", False)
    assert states["us-eu-osce-step-up-diplomacy"] == ("pending", False)
    assert states["blinken-lavrov-meeting"] == ("cancelled", False)
    # Due "around 28 Feb 2022": overdue whenever it is read after its window, which is always now.
    assert states["normandy-format-leaders-summit"] == ("pending", today > datetime.date(2022, 3, 7))


def test_the_overdue_expectation_is_overdue_today(story):
    overdue = story.expectations.open().past_due(timezone.localdate())
    assert list(overdue.values_list("slug", flat=True)) == ["normandy-format-leaders-summit"]


def test_the_demo_has_its_drawn_map_and_chart_with_alt_text_credit_and_thumbnails_on_disk(story):
    images = {item.event.slug: item for item in MediaItem.objects.filter(kind=MediaKind.IMAGE).select_related("event")}
    assert set(images) == {"macron-putin-talks-in-moscow", "normandy-format-advisers-meet-in-berlin"}
    talks_map, chart = images["macron-putin-talks-in-moscow"], images["normandy-format-advisers-meet-in-berlin"]
    assert talks_map.alt_text == demo_media.SHUTTLE_MAP_ALT and "Weimar Triangle" in talks_map.alt_text
    assert chart.alt_text == demo_media.TALKS_CHART_ALT and "about 9 hours" in chart.alt_text
    for item in images.values():
        assert item.credit == "Story Tracker" and item.caption
        assert (item.width, item.height) == (1600, 1000)
        assert item.event.lead_image_id == item.pk  # the timeline card shows it
        names = stored_names(item)
        assert len(names) == 4  # the PNG and its three copies
        assert all(default_storage.exists(name) for name in names)
    # The chart's lengths are the ones the events' own summaries give.
    for talk in demo_media.TALKS:
        summary = Event.objects.get(slug=talk.event_slug).summary
        assert {1: "an hour", 5: "five hours", 9: "nine hours"}[talk.hours] in summary
    link = MediaItem.objects.get(kind=MediaKind.PAGE)
    assert (link.event.slug, link.url) == (
        "osce-permanent-council-discusses-ukraine",
        "https://www.osce.org/permanent-council",
    )


def test_the_demo_pictures_are_drawn_the_same_every_time():
    assert demo_media.shuttle_map.__wrapped__() == demo_media.shuttle_map.__wrapped__()
    assert demo_media.talks_chart.__wrapped__() == demo_media.talks_chart.__wrapped__()


def test_a_second_run_uploads_nothing_and_keeps_an_editors_own_media(story):
    talks = Event.objects.get(slug="macron-putin-talks-in-moscow")
    (drawn,) = talks.media.all()
    kept = MediaRow(kind=drawn.kind, item_id=drawn.pk, **{name: getattr(drawn, name) for name in TEXT_FIELDS})
    write_media(talks, [kept, MediaRow(kind=MediaKind.VIDEO, url="https://vimeo.com/123456", caption="Press")])
    files, rows = stored_files(), media_rows()

    out = load()

    assert (stored_files(), media_rows()) == (files, rows)
    assert "already up to date" in out


def test_a_second_run_changes_no_table(story):
    files, media = stored_files(), media_rows()
    before = row_counts()
    updated = (
        Event.objects.aggregate(m=Max("updated_at"))["m"],
        Expectation.objects.aggregate(m=Max("updated_at"))["m"],
    )
    out = load()
    assert row_counts() == before
    assert (
        Event.objects.aggregate(m=Max("updated_at"))["m"],
        Expectation.objects.aggregate(m=Max("updated_at"))["m"],
    ) == updated
    assert (stored_files(), media_rows()) == (files, media)  # no second upload, no new file
    assert "already up to date" in out


def test_a_second_run_keeps_the_overdue_flag_the_job_set(story):
    flagged = services.flag_overdue_expectations()
    assert [Expectation.objects.get(pk=pk).slug for pk in flagged] == ["normandy-format-leaders-summit"]
    before = row_counts()
    load()
    assert row_counts() == before
    assert Expectation.objects.get(slug="normandy-format-leaders-summit").status == Expectation.Status.OVERDUE


def test_a_second_run_restores_an_edited_text_with_one_history_record(story):
    talks = Event.objects.get(slug="macron-putin-talks-in-moscow")
    services.update_event(event=talks, expected_version=talks.version, title="Typo")
    history_before = talks.history.count()
    load()
    talks.refresh_from_db()
    assert talks.title == "Macron and Putin hold talks in Moscow"
    assert talks.history.count() == history_before + 1


def test_the_last_line_gives_the_editor_login():
    out = load("--editor-username", "desk", "--editor-password", "s3cret-pass")
    assert out.splitlines()[-1] == "Editor login: user desk, password s3cret-pass"


def test_the_editor_can_log_in_to_the_admin(client):
    load()
    load()
    assert client.post("/accounts/login/", {"username": "editor", "password": "tracker-demo"}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_editor_is_staff_in_the_editors_group_and_cannot_delete_events():
    load()
    user = get_user_model().objects.get(username="editor")
    assert user.is_staff and not user.is_superuser
    assert user.groups.filter(name="editors").exists()
    assert user.has_perm("events.add_event") and user.has_perm("events.change_expectation")
    assert user.has_perm("events.delete_correction") and user.has_perm("events.delete_source")
    assert not user.has_perm("events.delete_event") and not user.has_perm("events.delete_expectation")
    assert not user.has_perm("events.change_subscriber")


def test_a_new_password_option_resets_the_editor_password(client):
    load()
    load("--editor-password", "another-one")
    assert client.post("/accounts/login/", {"username": "editor", "password": "another-one"}).status_code == 302
