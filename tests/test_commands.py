"""generate_story and story_summary, called as code and from the command line."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from events import bulk, selectors, synthetic
from events.models import Event, Expectation, Participation, Story, Subscriber
from tests.factories import StoryFactory

pytestmark = pytest.mark.django_db


def generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_story", *args, stdout=out)
    return out.getvalue()


def summary(slug: str) -> str:
    out = StringIO()
    call_command("story_summary", slug, stdout=out)
    return out.getvalue()


def fingerprint(slug: str) -> list[tuple]:
    """What a story holds, without its slugs and ids, to compare two generated stories."""
    story = Story.objects.get(slug=slug)
    events = [
        (e.kind, e.title, e.start, e.start_precision, e.status, e.publication, e.place_id, e.forum_id,
         tuple(e.participations.values_list("actor_id", "role")), tuple(e.topics.values_list("id", flat=True)))
        for e in story.events.order_by("start", "title", "id")
    ]  # fmt: skip
    expectations = [
        (x.title, x.due_on, x.due_precision, x.status, x.raised_by.title if x.raised_by else None)
        for x in story.expectations.select_related("raised_by").order_by("id")
    ]
    return events + expectations


def command_line_env() -> dict[str, str]:
    """The environment of a `manage.py` run against this test database."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG")}
    env.update(
        SECRET_KEY="x",
        DATABASE_URL=f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        MAIL_DIR=str(settings.MAIL_DIR),
    )
    return env


def manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=command_line_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- generate_story -------------------------------------------------------------------------------


def test_generate_story_makes_the_events_expectations_and_subscribers_asked_for():
    generate("--slug", "synthetic", "--events", "120", "--expectations", "30", "--subscribers", "7")
    story = Story.objects.get(slug="synthetic")
    assert story.events.count() == 120
    assert story.expectations.count() == 30
    assert story.subscribers.count() == 7
    assert all(s.confirmed_at for s in story.subscribers.all())
    assert Subscriber.objects.confirmed().filter(stories=story).count() == 7


def test_generated_events_have_participants_topics_places_and_sources():
    generate("--slug", "synthetic", "--events", "60", "--expectations", "0")
    events = Event.objects.filter(story__slug="synthetic")
    assert not events.filter(participations__isnull=True).exists()
    assert not events.filter(topics__isnull=True).exists()
    assert not events.filter(sources__isnull=True).exists()
    assert events.filter(place__isnull=False).exists()


def test_generated_story_is_developing_with_its_newest_publication_as_last_development():
    generate("--slug", "synthetic", "--events", "50")
    story = Story.objects.get(slug="synthetic")
    assert story.last_development_at == story.events.published().aggregate(m=Max("published_at"))["m"]
    assert story.last_development_at <= timezone.now()


def test_generated_expectations_are_overdue_pending_and_fulfilled_by_events_of_the_story():
    generate("--slug", "synthetic", "--events", "200", "--expectations", "80")
    story = Story.objects.get(slug="synthetic")
    today = timezone.localdate()
    expectations = list(story.expectations.select_related("fulfilled_by"))
    overdue = [x for x in expectations if x.is_overdue_on(today)]
    waiting = [x for x in expectations if x.status == "pending" and not x.is_overdue_on(today)]
    fulfilled = [x for x in expectations if x.status == "fulfilled"]
    assert overdue and waiting and fulfilled
    assert {x.status for x in overdue} == {"pending", "overdue"}
    assert all(x.fulfilled_by.story_id == story.pk for x in fulfilled)
    assert story.expectations.filter(status__in=["cancelled", "superseded"]).exists()


def test_generate_story_is_deterministic_for_a_seed():
    generate("--slug", "first", "--events", "80", "--expectations", "20", "--seed", "7")
    generate("--slug", "second", "--events", "80", "--expectations", "20", "--seed", "7")
    generate("--slug", "third", "--events", "80", "--expectations", "20", "--seed", "8")
    assert fingerprint("first") == fingerprint("second")
    assert fingerprint("first") != fingerprint("third")


def test_generate_story_refuses_an_existing_slug():
    StoryFactory(slug="taken")
    with pytest.raises(CommandError) as refusal:
        generate("--slug", "taken", "--events", "5")
    assert str(refusal.value) == "a story with slug 'taken' already exists (pass --replace to rebuild it)"
    assert not Event.objects.filter(story__slug="taken").exists()


def test_replace_rebuilds_the_story_without_leftovers():
    generate("--slug", "synthetic", "--events", "40", "--expectations", "20", "--subscribers", "5")
    old_ids = set(Event.objects.filter(story__slug="synthetic").values_list("id", flat=True))
    generate("--slug", "synthetic", "--events", "10", "--expectations", "4", "--subscribers", "3", "--replace")
    story = Story.objects.get(slug="synthetic")
    assert story.events.count() == 10 and story.expectations.count() == 4
    assert not story.events.filter(id__in=old_ids).exists()
    assert Subscriber.objects.filter(email__startswith="synthetic+").count() == 3
    assert Story.objects.filter(slug="synthetic").count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "ok", "--events", "-1"], "--events must be zero or more, not -1"),
        (["--slug", "ok", "--events", "3", "--subscribers", "-2"], "--subscribers must be zero or more, not -2"),
        (["--slug", "not a slug", "--events", "3"], "'not a slug' is not a valid slug"),
    ],
)
def test_generate_story_refuses_bad_input_in_one_line(args, message):
    with pytest.raises(CommandError, match=message) as refusal:
        generate(*args)
    assert "\n" not in str(refusal.value)
    assert not Story.objects.filter(slug="ok").exists()


def test_a_story_of_zero_events_is_allowed():
    generate("--slug", "empty", "--events", "0")
    story = Story.objects.get(slug="empty")
    assert story.events.count() == 0 and story.last_development_at is None


def test_generate_story_shows_its_progress_on_stderr_a_line_per_tenth_when_not_a_terminal(monkeypatch):
    monkeypatch.setattr(synthetic, "BATCH_SIZE", 10)
    out, err = StringIO(), StringIO()
    call_command(
        "generate_story", "--slug", "synthetic", "--events", "100", "--expectations", "20", stdout=out, stderr=err
    )
    lines = err.getvalue().splitlines()
    assert [line.rsplit(" ", 2)[0] for line in lines] == [
        *(f"events {n}/100 {n}%" for n in range(10, 101, 10)),
        "expectations 10/20 50%",
        "expectations 20/20 100%",
    ]
    assert all(line.endswith(" s") and "\r" not in line for line in lines)
    assert out.getvalue().startswith("Story 'synthetic': 100 events, 20 expectations")


@pytest.mark.parametrize("flag", ["--quiet", "--verbosity=0"])
def test_generate_story_quiet_shows_no_progress(flag):
    out, err = StringIO(), StringIO()
    call_command("generate_story", "--slug", "synthetic", "--events", "30", flag, stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert out.getvalue().startswith("Story 'synthetic': 30 events")


def test_after_generating_the_app_inserts_rows_with_fresh_ids():
    generate("--slug", "synthetic", "--events", "50", "--expectations", "10", "--subscribers", "3")
    story = Story.objects.get(slug="synthetic")
    generated = story.events.aggregate(m=Max("id"))["m"]
    event = Event.objects.create(story=story, kind="meeting", title="Added", slug="added", start=timezone.now())
    Participation.objects.create(event=event, actor=story.events.first().participants.first())
    expectation = Expectation.objects.create(story=story, title="Added", slug="added-x")
    subscriber = Subscriber.objects.create(email="added@example.org")
    assert event.pk > generated
    assert expectation.pk > story.expectations.exclude(pk=expectation.pk).aggregate(m=Max("id"))["m"]
    assert subscriber.pk > story.subscribers.aggregate(m=Max("id"))["m"]


def estimated_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


def test_generate_story_leaves_the_tables_analysed():
    # An odd count: the planner's estimate is the exact size only when ANALYZE has just counted it.
    generate("--slug", "synthetic", "--events", "137", "--expectations", "23")
    assert estimated_rows("events_event") == Event.objects.count()
    assert estimated_rows("events_participation") == Participation.objects.count()
    assert estimated_rows("events_expectation") == Expectation.objects.count()


def indexes_and_foreign_keys() -> set[tuple]:
    """Each index (its table, columns, and whether unique, partial, on expressions) and each foreign key."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text, i.indkey::text, i.indisunique,
                      i.indpred IS NOT NULL, i.indexprs IS NOT NULL, i.indisvalid
               FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
               WHERE t.relnamespace = 'public'::regnamespace
               UNION ALL SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid), convalidated,
                      condeferrable, condeferred, true
               FROM pg_constraint WHERE contype = 'f'"""
        )
        return set(cursor.fetchall())


def test_a_large_story_builds_the_indexes_after_loading_and_puts_back_every_one(monkeypatch):
    monkeypatch.setattr(bulk, "BULK_LOAD_ROWS", 1)
    monkeypatch.setattr(bulk.BulkWriter, "_estimated_rows", lambda self, model: 0)
    before = indexes_and_foreign_keys()
    err = StringIO()
    call_command("generate_story", "--slug", "synthetic", "--events", "120", stdout=StringIO(), stderr=err)
    assert indexes_and_foreign_keys() == before
    assert "indexes " in err.getvalue()
    story = Story.objects.get(slug="synthetic")
    assert story.events.count() == 120 and not story.events.filter(participations__isnull=True).exists()
    # The readers' search index was rebuilt over the new rows, and finds them.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        found = selectors.search_events(story.events.all(), "meet")
        assert "event_search_idx" in found.explain()
        assert found.count() == story.events.filter(title__icontains="meet").count() > 0


# --- story_summary --------------------------------------------------------------------------------


def test_story_summary_counts_events_and_lists_what_is_overdue():
    call_command("load_demo_story", stdout=StringIO())
    text = summary("ukraine-crisis-diplomacy")
    assert text.startswith("Ukraine crisis diplomacy (ukraine-crisis-diplomacy)")
    assert "Status: developing" in text
    assert f"Events: {Event.objects.count()} (published {Event.objects.count()})" in text
    assert "A Normandy-format summit of leaders (due around 28 Feb 2022)  OVERDUE" in text
    assert "step up diplomacy in the coming weeks (no due date)\n" in text + "\n"
    assert "Macron is expected to travel to Kyiv" not in text  # fulfilled, so no longer open


def test_story_summary_limits_the_open_expectations_it_lists():
    generate("--slug", "synthetic", "--events", "100", "--expectations", "60")
    out = StringIO()
    call_command("story_summary", "synthetic", "--limit", "5", stdout=out)
    open_count = Expectation.objects.filter(story__slug="synthetic").open().count()
    assert f"… and {open_count - 5} more" in out.getvalue()


def test_story_summary_of_an_unknown_slug_is_refused():
    with pytest.raises(CommandError, match=r"^no story with slug 'nope'$") as refusal:
        summary("nope")
    assert refusal.value.returncode == 1


@pytest.mark.usefixtures("transactional_db")
def test_story_summary_from_the_command_line_prints_one_line_and_exits_1():
    result = manage("story_summary", "nope")
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["error: no story with slug 'nope'"]
    assert result.stdout == ""


@pytest.mark.usefixtures("transactional_db")
def test_story_summary_from_the_command_line_reads_the_test_database():
    StoryFactory(slug="committed", title="Committed story")
    result = manage("story_summary", "committed")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Committed story (committed)")


@pytest.mark.usefixtures("transactional_db")
def test_generate_story_from_the_command_line_refuses_an_existing_slug_in_one_line():
    StoryFactory(slug="taken")
    result = manage("generate_story", "--slug", "taken", "--events", "3")
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "error: a story with slug 'taken' already exists (pass --replace to rebuild it)"
    ]
