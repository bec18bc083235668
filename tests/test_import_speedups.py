"""What the fast paths of an import must not change: the one nh3 Cleaner (events.text), its cached dates,
times and credits, a large CSV checked by worker processes, and slugs allocated by exact lookups in
rounds. Each is compared with the plain way of doing the same thing."""

import datetime
from io import StringIO
from types import SimpleNamespace

import nh3
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone, translation

from events import imports
from events import text as events_text
from events.management.commands import import_timeline as command
from events.models import Event
from events.services import imports as services
from events.text import sanitise_html
from tests.factories import EventFactory
from tests.test_imports import csv_rows, read_text, row, write

HOSTILE_HTML = [
    "",
    "plain & simple",
    '<p class="lead" onclick="alert(1)">Lead <a href="https://example.org/x" target="_blank">link</a></p>',
    "<script>alert(1)</script><style>p{}</style>text",
    '<a href="java\0script:alert(1)">zero</a><a href=" javascript:alert(1)">space</a>',
    '<q cite="javascript:alert(1)">q</q><a href="mailto:a@example.org">mail</a><a href="/relative">rel</a>',
    "<h1>Heading</h1><img src=x onerror=alert(1)><iframe src='https://evil.example'></iframe>",
    "<ul><li>one<li>two</ul></p>stray<br>line",
    "<!-- comment --><b>bold</b> &lt;not a tag&gt; &amp;",
]


@pytest.mark.parametrize("text", HOSTILE_HTML)
def test_the_one_cleaner_sanitises_as_nh3_clean_with_the_same_options_does(text):
    expected = nh3.clean(
        text,
        tags=events_text.ALLOWED_TAGS,
        attributes=events_text.ALLOWED_ATTRIBUTES,
        attribute_filter=events_text._allowed_url,
        url_schemes=events_text.URL_SCHEMES,
        link_rel=events_text.LINK_REL,
    )
    assert str(sanitise_html(text)) == expected
    assert "script" not in expected.replace("&lt;", "")


def mixed_rows(count: int) -> str:
    """Good rows and every kind of bad one, repeated: titles, eras, blank lines, extra cells, bad
    dates and times, bad media, multi-line text, and the same event again much further on."""
    kinds = [
        lambda n: row(str(1600 + n % 400), str(n % 12 + 1), str(n % 28 + 1), f"{n % 24}:{n % 60:02d}",
                      headline=f"Event {n}", text=f"<p>Line one\nline two {n}</p> tail",
                      media=f"https://img.example.org/{n}.jpg",
                      **{"Media Credit": "<a href='https://agency.example.org'>Agency</a>"}),
        lambda n: row(str(1600 + n % 400), headline=f"Event {n}", end=f"{1601 + n % 400},2,30"),
        lambda n: row("0", headline=f"Year zero {n}"),
        lambda n: row("2022", "13", headline=f"Month 13 {n}"),
        lambda n: row("2022", "2", "3", "noon", headline=f"Noon {n}"),
        lambda n: row("2022", headline=""),
        lambda n: row("2022", headline=f"Bad media {n}", media="ftp://example.org/x"),
        lambda n: row("1650", headline="The same event"),  # a duplicate from its second time on
        lambda n: row("", headline=f"Title {n}", Type="title", Text="<p>About</p>"),
        lambda n: row("1600", headline="An era", Type="era"),
        lambda n: "",  # a blank line
        lambda n: row("2022", headline=f"Extra {n}") + ",one too many",
        lambda n: row("2022", "1", "1", "6:30 PM", headline=f"Evening {n}", Group="Meeting"),
    ]  # fmt: skip
    return csv_rows(*(kinds[n % len(kinds)](n) for n in range(count)))


def read_both_ways(text: str, monkeypatch) -> tuple[imports.Timeline, imports.Timeline, list, list]:
    monkeypatch.setattr(imports, "PARALLEL_RECORDS", 10)
    monkeypatch.setattr(imports, "CHUNK_RECORDS", 7)
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 50)
    heard: tuple[list, list] = ([], [])
    serial = imports.read_timeline(text.encode(), "t.csv", progress=lambda *told: heard[0].append(told))
    parallel = imports.read_timeline(text.encode(), "t.csv", progress=lambda *told: heard[1].append(told), workers=2)
    return serial, parallel, *heard


def test_a_csv_checked_by_worker_processes_gives_the_same_events_errors_and_progress(monkeypatch):
    serial, parallel, heard_serial, heard_parallel = read_both_ways(mixed_rows(400), monkeypatch)

    assert parallel == serial
    assert len(serial.events) > 50 and len(serial.errors) > 100
    reasons = " ".join(error.reason for error in serial.errors)
    assert "the same event as line" in reasons and "a second title row" in reasons and "cells where" in reasons
    assert heard_parallel == heard_serial


def test_a_broken_csv_read_by_workers_is_refused_at_the_same_line_after_the_same_errors(monkeypatch):
    text = mixed_rows(100) + '2022,,,,,,,,,"never closed\n'

    serial, parallel, *_ = read_both_ways(text, monkeypatch)

    assert parallel == serial
    assert serial.errors[-1].reason.startswith("a quoted field opened in this record is never closed")


def test_workers_refuse_in_the_active_language(monkeypatch):
    with translation.override("fr"):
        serial, parallel, *_ = read_both_ways(mixed_rows(60), monkeypatch)

    assert parallel == serial
    assert any("un jour" in error.reason or "n’est pas" in error.reason for error in parallel.errors)


def test_a_cached_bad_date_is_refused_in_the_words_of_its_own_label_every_time():
    text = csv_rows(*(row("2022", "2", "30", headline=f"Twice {n}", end="2022,2,30") for n in range(2)))

    reasons = [error.reason for error in read_text(text).errors]

    assert reasons == ["date: 2022-2-30 is not a date; end date: 2022-2-30 is not a date"] * 2


def test_a_cached_date_follows_the_site_time_zone():
    text = csv_rows(row("2022", "2", "7", "18:30", headline="Evening"))

    with override_settings(TIME_ZONE="Europe/Moscow"):
        moscow = read_text(text).events[0].start
    with override_settings(TIME_ZONE="America/New_York"):
        new_york = read_text(text).events[0].start

    assert moscow == datetime.datetime(2022, 2, 7, 15, 30, tzinfo=datetime.UTC)
    assert new_york == datetime.datetime(2022, 2, 7, 23, 30, tzinfo=datetime.UTC)


def test_a_repeated_time_and_credit_read_from_the_caches_are_the_same_values():
    text = csv_rows(
        *(row("2022", "1", str(n + 1), "6:30 PM", headline=f"E{n}", media="https://example.org/a",
              **{"Media Credit": "<b>AP</b> &amp; co"}) for n in range(3))
    )  # fmt: skip

    events = read_text(text).events

    zone = timezone.get_default_timezone()
    assert [e.start.astimezone(zone).time() for e in events] == [datetime.time(18, 30)] * 3
    assert [e.media.credit for e in events] == ["AP & co"] * 3


# --- Slugs ---------------------------------------------------------------------------------------


def reference_slugs(titles: list[str]) -> list[str]:
    """The plain allocation: every slug in the database known, then the first free form in order."""
    taken = set(Event.objects.values_list("slug", flat=True))
    slugs = []
    for title in titles:
        base = services._base_slug(title)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        slugs.append(slug)
    return slugs


def allocate(titles: list[str]) -> list[str]:
    return services._allocate_slugs([SimpleNamespace(title=title) for title in titles])


TRICKY_TITLES = ["Meeting", "Meeting 2", "Meeting", "Meeting", "Apollo 11", "Meeting 2", "New", "New", "Meeting"]


@pytest.fixture
def taken_slugs(db):
    for slug in ["meeting", *(f"meeting-{n}" for n in range(2, 10)), "meeting-2-2", "apollo-11", "apollo-11-3"]:
        EventFactory(slug=slug)


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_slugs_are_allocated_as_the_plain_walk_does(taken_slugs, monkeypatch, vendor):
    if vendor == "other":  # the IN lists used on SQLite, run here against PostgreSQL
        monkeypatch.setattr(services, "connection", SimpleNamespace(vendor="sqlite"))
    expected = reference_slugs(TRICKY_TITLES)

    assert allocate(TRICKY_TITLES) == expected
    assert expected[:4] == ["meeting-10", "meeting-2-3", "meeting-11", "meeting-12"]


def test_titles_taken_once_cost_two_lookups_and_many_forms_a_few_rounds(taken_slugs, django_assert_num_queries):
    with django_assert_num_queries(2):  # the titles, then each one's "-2"
        assert allocate(["Apollo 11", "Fresh"]) == ["apollo-11-2", "fresh"]
    with django_assert_num_queries(5):  # "meeting", then -2, then -3 and -4, then -5 to -8, then -9 to -16
        assert allocate(["Meeting"]) == ["meeting-10"]


@pytest.mark.django_db
def test_the_command_reads_a_large_csv_with_workers_and_imports_it(tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "PARALLEL_RECORDS", 10)
    monkeypatch.setattr(imports, "CHUNK_RECORDS", 4)
    monkeypatch.setattr(command, "_read_workers", lambda: 2)
    path = write(tmp_path, csv_rows(*(row(str(1600 + n), headline=f"Event {n}") for n in range(30))))
    out = StringIO()

    call_command("import_timeline", "--story", "workers", path, stdout=out, stderr=StringIO())

    assert out.getvalue().splitlines()[-1] == "created 30, unchanged 0"
    assert sorted(Event.objects.values_list("slug", flat=True)) == sorted(f"event-{n}" for n in range(30))
