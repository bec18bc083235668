"""Importing TimelineJS files (JSON, and CSV in Knight Lab's spreadsheet columns): the reader, the
command (as code and as a process, for its exit status and its `FILE:LINE: reason` lines) and the
desk's import page. The samples in tests/data/ follow Knight Lab's template and sample layouts."""

import datetime
import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from events import dates, imports
from events.management.commands.import_timeline import RefusedRows
from events.models import DatePrecision, Event, MediaItem, Source, Story
from events.services.media import MediaRow, write_media
from events.text import render_markdown
from tests.factories import EventFactory, StoryFactory, UserFactory
from tests.test_commands import manage

DATA = Path(__file__).parent / "data"
TEMPLATE_CSV = DATA / "timelinejs-template.csv"
SAMPLE_JSON = DATA / "timelinejs-sample.json"
HEADER = ",".join(imports.COLUMNS)
FILE_LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<reason>.+)$")


def read(path: Path) -> imports.Timeline:
    return imports.read_timeline(path.read_bytes(), path.name)


def read_text(text: str, name: str = "timeline.csv") -> imports.Timeline:
    return imports.read_timeline(text.encode(), name)


def csv_rows(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def row(year="2022", month="", day="", time="", headline="A development", text="", media="", end="", **cells) -> str:
    """One CSV row in the template's columns; `end` is "year,month,day,time"."""
    end_year, end_month, end_day, end_time = [*end.split(","), "", "", ""][:4] if end else ("", "", "", "")
    values = {
        "Year": year, "Month": month, "Day": day, "Time": time, "End Year": end_year, "End Month": end_month,
        "End Day": end_day, "End Time": end_time, "Headline": headline, "Text": text, "Media": media, **cells,
    }  # fmt: skip
    return ",".join(_quoted(values.get(column, "")) for column in imports.COLUMNS)


def _quoted(value: str) -> str:
    if any(c in value for c in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write(tmp_path: Path, text: str, name: str = "timeline.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_timeline", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def site_zone() -> datetime.tzinfo:
    return timezone.get_default_timezone()


# --- Reading Knight Lab's formats --------------------------------------------------------------------


def test_the_template_csv_gives_its_events_its_title_and_counts_its_era():
    timeline = read(TEMPLATE_CSV)

    assert timeline.errors == []
    assert timeline.title.title == "The Thirty Years' War"
    assert timeline.title.line == 2
    assert timeline.eras == 1
    assert [event.title for event in timeline.events] == [
        "Defenestration of Prague",
        "Battle of White Mountain",
        "Sack of Magdeburg",
        "Battle of Lützen",
        "Peace of Prague",
        "Congress of Münster and Osnabrück",
        "Peace of Westphalia",
    ]


def test_the_template_header_is_knight_labs_column_for_column():
    assert TEMPLATE_CSV.read_text().splitlines()[0] == (
        "Year,Month,Day,Time,End Year,End Month,End Day,End Time,Display Date,Headline,Text,Media,"
        "Media Credit,Media Caption,Media Thumbnail,Type,Group,Background"
    )


def test_each_record_keeps_the_physical_line_where_it_starts_across_multi_line_fields():
    lines = {event.title: event.line for event in read(TEMPLATE_CSV).events}

    assert lines["Defenestration of Prague"] == 4  # its Text runs over lines 4 to 6
    assert lines["Battle of White Mountain"] == 7


def test_the_columns_given_decide_the_precision_of_the_date():
    events = {event.title: event for event in read(TEMPLATE_CSV).events}

    assert events["Peace of Prague"].start_precision == DatePrecision.YEAR
    assert events["Peace of Prague"].start == dates.anchor(datetime.date(1635, 1, 1), dates.YEAR)
    assert events["Sack of Magdeburg"].start_precision == DatePrecision.MONTH
    assert events["Sack of Magdeburg"].when == "May 1631"
    assert events["Battle of White Mountain"].start_precision == DatePrecision.DAY
    assert events["Battle of White Mountain"].when == "8 Nov 1620"
    lutzen = events["Battle of Lützen"]
    assert lutzen.start_precision == DatePrecision.EXACT
    local = lutzen.start.astimezone(site_zone())
    assert (local.year, local.month, local.day, local.hour, local.minute) == (1632, 11, 16, 10, 30)


def test_end_dates_are_kept_at_their_own_precision():
    events = {event.title: event for event in read(TEMPLATE_CSV).events}

    congress = events["Congress of Münster and Osnabrück"]
    assert (congress.start_precision, congress.end_precision) == (DatePrecision.YEAR, DatePrecision.DAY)
    assert congress.when == "1643 – 24 Oct 1648"
    lutzen = events["Battle of Lützen"]
    assert lutzen.end.astimezone(site_zone()).hour == 16  # "4:00 PM"
    assert events["Peace of Prague"].end is None


def test_html_text_is_sanitised_and_kept_as_a_summary_markdown_renders_unchanged():
    events = {event.title: event for event in read(TEMPLATE_CSV).events}

    lutzen = events["Battle of Lützen"].summary
    assert "<script" not in lutzen and "onclick" not in lutzen and "alert" not in lutzen
    assert "<p>The Swedes hold the field.</p>" in lutzen
    prague = events["Defenestration of Prague"].summary
    assert "<strong>Bohemia</strong>" in prague
    assert "class=" not in events["Battle of White Mountain"].summary
    for event in events.values():
        assert str(render_markdown(event.summary)) == event.summary


def test_text_that_is_not_in_a_block_is_wrapped_in_a_paragraph_so_markdown_leaves_it_alone():
    summary = imports.summary_from_html('He said "no" <em>twice</em>.\n    Indented, not code.<p>Then left.</p>')

    assert summary == '<p>He said "no" <em>twice</em>.\n    Indented, not code.</p>\n<p>Then left.</p>'
    assert str(render_markdown(summary)) == summary


@pytest.mark.parametrize(
    "text",
    [
        "<p>a\n\nb</p>",
        "<pre>  code\n\n    more *x*</pre>",
        "a\n\n\n    b",
        "*not em* _x_ `code` [l](http://x) 1. one\n2. two\n# heading",
        "&amp; &lt;b&gt; &copy; <p>x</p>\n\n\n<p>y</p>a<br>b<br>\n\nc",
        "<p>tab\tbed</p>\r\n<pre>\ttab\r\n   \nend</pre>",
        "   <p>indented</p>\n    <p>indented block</p>text<p>b</p>tail",
        "line1  \nline2 <q cite='http://x'>q</q> <abbr title='t'>A</abbr> \\*escaped\\*",
        "<ol><li><p>para in li</p></li></ol><blockquote>\n\n> q\n\n</blockquote>",
    ],
)
def test_an_imported_summary_is_what_markdown_renders_of_it(text):
    summary = imports.summary_from_html(text)

    assert str(render_markdown(summary)) == summary


def test_media_is_kept_with_its_credit_and_caption():
    events = {event.title: event for event in read(TEMPLATE_CSV).events}

    media = events["Defenestration of Prague"].media
    assert media.url == "https://upload.wikimedia.org/wikipedia/commons/2/25/Defenestration_of_Prague_1618.jpg"
    assert media.kind == "page"  # a picture elsewhere is a link card: an import uploads nothing
    assert media.outlet == "upload.wikimedia.org"
    assert media.credit == "Wikimedia Commons"  # the credit's link, as text
    assert media.caption == 'A woodcut of the "defenestration"'
    assert events["Battle of Lützen"].media.kind == "video"
    assert events["Battle of White Mountain"].media is None


def test_media_without_a_credit_is_published_by_its_host():
    timeline = read_text(csv_rows(row(headline="Photo", media="https://www.example.org/photo.jpg")))

    assert (timeline.events[0].media.outlet, timeline.events[0].media.credit) == ("example.org", "")


def test_media_that_is_a_quotation_joins_the_text_with_its_credit():
    events = {event.title: event for event in read(TEMPLATE_CSV).events}

    peace = events["Peace of Westphalia"]
    assert peace.media is None
    assert peace.summary.startswith("<blockquote>Let there be a Christian, universal and perpetual peace.</blockquote>")
    assert "Treaty of Osnabrück" in peace.summary


def test_a_group_naming_a_kind_gives_the_event_that_kind():
    events = {event.title: event for event in read(TEMPLATE_CSV).events}

    assert events["Congress of Münster and Osnabrück"].kind == Event.Kind.MEETING
    assert events["Battle of Lützen"].kind == Event.Kind.OTHER  # "Military" is not one of ours


def test_the_json_sample_gives_its_events_with_their_unique_ids_and_lines():
    timeline = read(SAMPLE_JSON)

    assert timeline.errors == []
    assert timeline.title.title == "The race to the Moon"
    assert timeline.eras == 1
    events = {event.title: event for event in timeline.events}
    assert len(events) == 6
    assert events["Sputnik 1"].external_id == "sputnik-1"
    assert events["Sputnik 1"].line == 13
    assert events["Sputnik 1"].media.credit == "NASA"
    assert events["Sputnik 1"].media.caption == "A replica of Sputnik 1"
    assert (
        events["Sputnik 1"].media.thumbnail_url == "https://upload.wikimedia.org/wikipedia/commons/b/be/Sputnik_asm.jpg"
    )
    assert events["Gemini flights"].when == "Mar 1965 – Nov 1966"
    assert events["The last footsteps"].start_precision == DatePrecision.APPROXIMATE
    gagarin = events["Gagarin orbits the Earth"]
    assert gagarin.start_precision == DatePrecision.EXACT
    assert gagarin.start.astimezone(site_zone()).strftime("%H:%M") == "09:07"
    assert gagarin.external_id.startswith("row:")


def test_a_csv_and_the_json_of_the_same_events_get_the_same_external_ids():
    as_csv = read_text(csv_rows(row("1961", "04", "12", "9:07", headline="Gagarin"), row("1962", headline="Speech")))
    as_json = read_text(
        json.dumps(
            {
                "events": [
                    {
                        "start_date": {"year": 1961, "month": 4, "day": 12, "hour": 9, "minute": 7},
                        "text": {"headline": "Gagarin"},
                    },
                    {"start_date": {"year": "1962"}, "text": {"headline": "Speech"}},
                ]
            }
        ),
        "timeline.json",
    )  # fmt: skip

    assert [e.external_id for e in as_csv.events] == [e.external_id for e in as_json.events]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("18:30", (18, 30, 0)),
        ("18:30:05", (18, 30, 5)),
        ("6:30 PM", (18, 30, 0)),
        ("12:15 a.m.", (0, 15, 0)),
        ("1830", (18, 30, 0)),
        ("18.30", (18, 30, 0)),
        ("9", (9, 0, 0)),
    ],
)
def test_a_time_is_read_as_timelinejs_reads_it(value, expected):
    assert tuple(imports.parse_time(value).values()) == expected


def test_a_semicolon_separated_spreadsheet_is_read_too():
    text = HEADER.replace(",", ";") + "\n1648;10;24;;;;;;;Peace;;;;;;;;\n"

    timeline = read_text(text)

    assert timeline.errors == []
    assert timeline.events[0].when == "24 Oct 1648"


# --- Bad files: one `FILE:LINE: reason` each ---------------------------------------------------------


def only_error(timeline: imports.Timeline) -> tuple[int, str]:
    assert len(timeline.errors) == 1, timeline.error_lines
    return timeline.errors[0].line, timeline.errors[0].reason


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({"year": "2022", "month": "13"}, "month must be between 1 and 12, not 13"),
        ({"year": "2022", "month": "2", "day": "31"}, "is not a date"),
        ({"year": "0"}, "year 0 is before year 1"),
        ({"year": "-500"}, "year -500 is before year 1"),
        ({"year": "10000"}, "year must be between 1 and 9999"),
        ({"year": "1648", "day": "3"}, "a day needs a month"),
        ({"year": "1648", "time": "10:00"}, "a time needs a day"),
        ({"year": "2022", "month": "2", "day": "7", "time": "25:00"}, "is not a time of day"),
        ({"year": "MMXXII"}, "year must be a whole number"),
        ({"year": "1", "month": "1", "day": "1", "time": "00:00"}, "too close to the limits of the calendar"),
    ],
)
def test_a_bad_date_is_one_line_saying_what_is_wrong(cells, reason):
    timeline = read_text(csv_rows(row(), row(**cells)))

    line, said = only_error(timeline)
    assert line == 3
    assert reason in said


def test_an_end_before_the_start_is_refused():
    line, reason = only_error(read_text(csv_rows(row("1648", "10", "24", end="1640"))))

    assert (line, reason) == (2, "it ends (1640) before it starts (24 Oct 1648)")


def test_an_end_month_without_an_end_year_is_refused():
    timeline = read_text(csv_rows(row("1648", **{"End Month": "3"})))

    assert "without an End Year" in only_error(timeline)[1]


def test_a_row_without_a_headline_is_refused():
    assert only_error(read_text(csv_rows(row(headline=""))))[1] == "no Headline: every event needs one"


def test_a_row_without_a_year_is_refused_unless_it_is_the_title():
    timeline = read_text(csv_rows(row(year="", headline="Title", Type="title"), row(year="", headline="Lost")))

    assert only_error(timeline)[0] == 3
    assert timeline.title.title == "Title"


def test_every_reason_of_a_row_is_on_its_one_line():
    reason = only_error(read_text(csv_rows(row("0", headline=""))))[1]

    assert "no Headline" in reason and "year 0" in reason


def test_a_bad_row_after_a_multi_line_field_is_reported_at_its_own_physical_line():
    text = csv_rows(
        row("1618", "5", "23", text="<p>one\ntwo\nthree</p>"),  # lines 2 to 4
        row("1620", "13", headline="Bad month"),  # line 5
        row("1621", text="<p>four\nfive</p>"),  # lines 6 and 7
        row("1622", "2", "30", headline="Bad day"),  # line 8
    )

    timeline = read_text(text)

    assert [error.line for error in timeline.errors] == [5, 8]
    assert timeline.error_lines[0].startswith("timeline.csv:5: date: month must be between 1 and 12")


def test_a_quoted_field_never_closed_is_reported_where_its_record_starts():
    text = csv_rows(row("1618", text="<p>fine\nfine</p>")) + '1620,,,,,,,,,Open,"<p>never closed\n1621,,,,,,,,,Next,\n'

    line, reason = only_error(read_text(text))

    assert line == 4
    assert "never closed" in reason


def test_stray_text_after_a_closing_quote_is_broken_csv_at_its_line():
    text = csv_rows(row("1618")) + '1620,,,,,,,,,"Quoted"trailing,\n'

    line, reason = only_error(read_text(text))

    assert line == 3
    assert reason.startswith("broken CSV")


def test_a_row_with_more_cells_than_the_header_is_refused():
    line, reason = only_error(read_text(csv_rows(row("1618") + ",unquoted, comma")))

    assert line == 2
    assert "cells where the header has 18" in reason


def test_a_header_without_a_year_column_is_refused_at_line_one():
    line, reason = only_error(read_text("Date,Headline\n2022-02-07,Talks\n"))

    assert line == 1
    assert "no “Year” column" in reason


def test_the_same_row_twice_is_refused_pointing_at_the_first():
    line, reason = only_error(read_text(csv_rows(row("1648", headline="Peace"), row("1648", headline="Peace"))))

    assert (line, reason) == (3, "the same event as line 2 (the same date and Headline)")


def test_a_file_that_is_not_utf8_is_refused_at_the_line_of_the_first_bad_byte():
    data = (csv_rows(row("1648", headline="Peace")) + "1650,,,,,,,,,Caf\xe9,\n").encode("latin-1")

    timeline = imports.read_timeline(data, "latin.csv")

    assert timeline.error_lines == ["latin.csv:3: not UTF-8 text (byte 0xe9): save the file as UTF-8"]


def test_invalid_json_is_refused_at_the_line_of_the_mistake():
    text = '{\n  "events": [\n    {"start_date": {"year": 1648}}\n    {"start_date": {"year": 1649}}\n  ]\n}\n'

    line, reason = only_error(read_text(text, "timeline.json"))

    assert line == 4
    assert reason.startswith("not valid JSON")


def test_a_bad_json_event_is_reported_at_the_line_its_object_opens():
    text = json.dumps(
        {
            "title": {"text": {"headline": "T"}},
            "events": [
                {"start_date": {"year": "1648"}, "text": {"headline": "Fine"}},
                {"start_date": {"year": "1648", "month": "13"}, "text": {"headline": "Bad month"}},
                {"text": {"headline": "No date"}},
            ],
        },
        indent=2,
    )
    opens = [n for n, line in enumerate(text.splitlines(), 1) if line == "    {"]

    timeline = read_text(text, "timeline.json")

    assert [(e.line, e.reason.split(":")[0]) for e in timeline.errors] == [
        (opens[1], "date"),
        (opens[2], "no start_date"),
    ]


def test_json_that_is_not_a_timeline_is_refused():
    assert only_error(read_text('["events"]', "timeline.json")) == (
        1,
        "a TimelineJS file is a JSON object with an “events” list",
    )


def test_progress_is_reported_every_so_many_records(monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    heard: list[tuple] = []

    imports.read_timeline(
        csv_rows(*(row(str(1600 + n)) for n in range(5))).encode(), "t.csv", progress=lambda *told: heard.append(told)
    )

    assert [(str(stage), done, total) for stage, done, total in heard] == [
        ("records read", 2, 5),
        ("records read", 4, 5),
        ("records read", 5, 5),
    ]


# --- The command -----------------------------------------------------------------------------------

needs_db = pytest.mark.django_db


@needs_db
def test_importing_into_a_missing_story_creates_it_from_the_title_row_with_draft_events():
    out = run("--story", "thirty-years-war", str(TEMPLATE_CSV))

    assert out.splitlines()[-1] == "created 7, unchanged 0"
    story = Story.objects.get(slug="thirty-years-war")
    assert story.title == "The Thirty Years' War"
    assert "thirty years of war in <em>Central Europe</em>" in story.summary
    events = story.events.all()
    assert events.count() == 7
    assert {e.publication for e in events} == {Event.Publication.DRAFT}
    assert story.last_development_at == events.order_by("-start").first().start  # 24 Oct 1648


@needs_db
def test_imported_events_keep_their_dates_text_media_and_one_history_entry_each():
    run("--story", "thirty-years-war", str(TEMPLATE_CSV))

    event = Event.objects.get(title="Defenestration of Prague")
    assert (event.start_precision, event.when) == (DatePrecision.DAY, "23 May 1618")
    assert event.summary_html == render_markdown(event.summary)
    assert "<strong>Bohemia</strong>" in event.summary_html
    assert event.status == Event.Status.HAPPENED
    item = event.media.get()
    assert (item.kind, item.credit, item.caption) == ("page", "Wikimedia Commons", 'A woodcut of the "defenestration"')
    assert event.lead_image is None  # a link is never a lead picture
    assert event.slug == "defenestration-of-prague"
    entry = event.history.get()
    assert entry.history_change_reason == f"Imported from {TEMPLATE_CSV}"
    assert MediaItem.objects.filter(event__story__slug="thirty-years-war").count() == 2
    assert not Source.objects.filter(event__story__slug="thirty-years-war").exists()


@needs_db
def test_publish_publishes_the_events_at_once_and_keeps_an_existing_storys_last_development():
    story = StoryFactory(slug="space", last_development_at=None)

    run("--story", "space", "--publish", str(SAMPLE_JSON))

    assert set(story.events.values_list("publication", flat=True)) == {Event.Publication.PUBLISHED}
    story.refresh_from_db()
    assert story.last_development_at == story.events.latest("published_at").published_at
    assert story.title.startswith("Story")  # an existing story's title is the editors'


@needs_db
def test_importing_the_same_file_twice_creates_nothing_new():
    run("--story", "space", str(SAMPLE_JSON))

    out = run("--story", "space", str(SAMPLE_JSON))

    assert out.splitlines()[-1] == "created 0, unchanged 6"
    assert Event.objects.filter(story__slug="space").count() == 6
    assert MediaItem.objects.filter(event__story__slug="space").count() == 2  # Sputnik's and Apollo 11's


@needs_db
def test_a_second_import_leaves_an_editors_edits_alone():
    run("--story", "space", str(SAMPLE_JSON))
    Event.objects.filter(external_id="apollo-11").update(title="Apollo 11 lands")

    run("--story", "space", str(SAMPLE_JSON))

    assert Event.objects.get(external_id="apollo-11").title == "Apollo 11 lands"


@needs_db
def test_a_dry_run_writes_nothing_and_says_what_it_would_create():
    out = run("--story", "thirty-years-war", "--dry-run", str(TEMPLATE_CSV))

    assert out.splitlines()[-1] == "would create 7, unchanged 0"
    assert not Story.objects.filter(slug="thirty-years-war").exists()
    assert not Event.objects.exists()


@needs_db
def test_a_dry_run_counts_what_the_story_already_has():
    run("--story", "space", str(SAMPLE_JSON))

    assert run("--story", "space", "--dry-run", str(SAMPLE_JSON)).splitlines()[-1] == "would create 0, unchanged 6"


@needs_db
def test_a_file_with_a_bad_row_writes_nothing_not_even_the_story(tmp_path):
    path = write(tmp_path, csv_rows(row("1648", headline="Good"), row("1648", "13", headline="Bad")))

    with pytest.raises(RefusedRows) as refused:
        run("--story", "new-story", path)

    assert refused.value.lines == [f"{path}:3: date: month must be between 1 and 12, not 13"]
    assert not Story.objects.exists()
    assert not Event.objects.exists()


@needs_db
def test_an_exported_timeline_imported_back_into_its_story_creates_nothing():
    story = StoryFactory(slug="space")
    EventFactory(story=story, slug="apollo-11", title="Apollo 11 (the desk's)")

    out = run("--story", "space", str(SAMPLE_JSON))

    assert out.splitlines()[-1] == "created 5, unchanged 1"  # the slide with unique_id "apollo-11"


@needs_db
def test_a_headline_whose_slug_is_taken_gets_the_next_free_one():
    EventFactory(slug="apollo-11")
    EventFactory(slug="apollo-11-2")

    run("--story", "space", str(SAMPLE_JSON))

    assert Event.objects.get(external_id="apollo-11").slug == "apollo-11-3"


@needs_db
def test_a_future_event_is_imported_as_scheduled(tmp_path):
    year = str(timezone.now().year + 2)

    run("--story", "ahead", write(tmp_path, csv_rows(row(year, headline="Summit"))))

    assert Event.objects.get().status == Event.Status.SCHEDULED


@needs_db
def test_an_invalid_story_slug_or_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="not a valid story slug"):
        run("--story", "not a slug", str(TEMPLATE_CSV))
    with pytest.raises(CommandError, match="cannot read"):
        run("--story", "fine", str(tmp_path / "missing.csv"))


@needs_db
def test_a_large_import_reports_its_progress_on_stderr(tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 3)
    monkeypatch.setattr("events.services.imports.BATCH_SIZE", 4)
    path = write(tmp_path, csv_rows(*(row(str(1600 + n), headline=f"Event {n}") for n in range(9))))
    err = StringIO()

    call_command("import_timeline", "--story", "big", path, stdout=StringIO(), stderr=err)

    # Not a terminal: a plain line each tenth of the way, as generate_story's progress.
    lines = [re.sub(r" \d+ s$", "", line) for line in err.getvalue().splitlines()]
    assert lines == [
        "records read 3/9 33%",
        "records read 6/9 66%",
        "records read 9/9 100%",
        "events imported 4/9 44%",
        "events imported 8/9 88%",
        "events imported 9/9 100%",
    ]
    assert Event.objects.count() == 9


@pytest.mark.django_db(transaction=True)
def test_the_command_line_prints_each_bad_row_as_file_line_reason_and_exits_1(tmp_path):
    path = write(
        tmp_path,
        csv_rows(
            row("1618", text="<p>multi\nline</p>"),  # lines 2-3
            row("0", headline="Year zero"),  # line 4
            row("2022", "2", "31", headline="31 February"),  # line 5
            row("1650", headline=""),  # line 6
        ),
    )

    result = manage("import_timeline", "--story", "refused", path)

    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert [FILE_LINE.match(line)["line"] for line in lines] == ["4", "5", "6"]
    assert all(FILE_LINE.match(line)["file"] == path for line in lines)
    assert "Traceback" not in result.stderr
    assert not Story.objects.filter(slug="refused").exists()


@pytest.mark.django_db(transaction=True)
def test_the_command_line_imports_and_closes_with_the_counts():
    result = manage("import_timeline", "--story", "space-race", "--publish", str(SAMPLE_JSON))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "created 6, unchanged 0"
    assert result.stderr == ""
    assert Event.objects.published().filter(story__slug="space-race").count() == 6

    again = manage("import_timeline", "--story", "space-race", "--dry-run", str(SAMPLE_JSON))

    assert again.stdout.splitlines()[-1] == "would create 0, unchanged 6"


@pytest.mark.django_db(transaction=True)
def test_invalid_json_on_the_command_line_is_one_file_line_reason(tmp_path):
    path = write(tmp_path, '{"events": [\n  {"start_date": {"year": 1648},}\n]}\n', "broken.json")

    result = manage("import_timeline", "--story", "broken", path)

    assert result.returncode == 1
    expected = f"{path}:2: not valid JSON: Expecting property name enclosed in double quotes (column 33)"
    assert result.stderr.splitlines() == [expected]


# --- Export, then import: the same events --------------------------------------------------------


@needs_db
def test_a_storys_timelinejs_export_imported_into_a_new_story_gives_back_the_same_events(tmp_path):
    from events import interchange

    story = StoryFactory(slug="original", title="Original", summary="The *original* story.")
    moments = [
        (datetime.datetime(2022, 2, 7, 17, 30, tzinfo=datetime.UTC), DatePrecision.EXACT),
        (dates.anchor(datetime.date(2022, 2, 8), dates.DAY), DatePrecision.DAY),
        (dates.anchor(datetime.date(2022, 3, 1), dates.MONTH), DatePrecision.MONTH),
        (dates.anchor(datetime.date(2021, 1, 1), dates.YEAR), DatePrecision.YEAR),
        (dates.anchor(datetime.date(2022, 2, 10), dates.APPROXIMATE), DatePrecision.APPROXIMATE),
    ]
    for n, (start, precision) in enumerate(moments):
        event = EventFactory(
            story=story,
            title=f"Development {n}",
            summary=f"Talks, **day {n}**.",
            start=start,
            start_precision=precision,
        )
        write_media(
            event,
            [MediaRow(kind="page", url=f"https://img.example.org/{n}", outlet="img.example.org", title=f"Page {n}")],
        )
    EventFactory(
        story=story,
        title="Two days",
        start=dates.anchor(datetime.date(2022, 2, 14), dates.DAY),
        start_precision=DatePrecision.DAY,
        end=dates.anchor(datetime.date(2022, 2, 15), dates.DAY),
        end_precision=DatePrecision.DAY,
    )
    exported = interchange.story_timeline(story, interchange.timeline_events(story))
    path = write(tmp_path, json.dumps(exported), "timeline.json")

    run("--story", "copy", "--publish", path)

    def fingerprint(slug: str) -> list[tuple]:
        return [
            (e.title, e.kind, e.start, e.start_precision, e.end, e.end_precision, e.summary_html,
             [(m.kind, m.url, m.outlet, m.title) for m in e.media.all()])
            for e in Event.objects.filter(story__slug=slug).prefetch_related("media").order_by("start", "title")
        ]  # fmt: skip

    assert fingerprint("copy") == fingerprint("original")
    assert Story.objects.get(slug="copy").title == "Original"


# --- The desk's import page -------------------------------------------------------------------------

URL = "/desk/imports/"


def upload(path: Path | None = None, *, name: str = "", content: bytes = b""):
    from django.core.files.uploadedfile import SimpleUploadedFile

    if path is not None:
        return SimpleUploadedFile(path.name, path.read_bytes())
    return SimpleUploadedFile(name, content)


@needs_db
def test_the_import_page_offers_a_file_a_story_and_publish_at_once(editor_client):
    response = editor_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Timeline file", "Story", "Publish at once"):
        assert f">{label}<" in html
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html
    assert reverse("desk:import_timeline") == URL


@needs_db
def test_the_desk_nav_links_to_the_import_page(editor_client):
    assert f'href="{URL}"' in editor_client.get("/desk/").content.decode()


@needs_db
def test_the_import_page_is_for_editors_only(client):
    assert client.get(URL).status_code == 302
    client.force_login(UserFactory(username="reader"))
    assert client.get(URL).status_code == 403


@needs_db
def test_a_preview_shows_what_would_be_created_and_writes_nothing(editor_client):
    response = editor_client.post(URL, {"file": upload(TEMPLATE_CSV), "new_story": "thirty-years-war"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "would create 7 events" in html
    assert "23 May 1618" in html and "Defenestration of Prague" in html
    assert "Wikimedia Commons" in html
    assert "The Thirty Years&#x27; War" in html  # the new story's title, from the title row
    assert 'name="token"' in html and ">Import</button>" in html
    assert not Story.objects.filter(slug="thirty-years-war").exists()


@needs_db
def test_the_import_button_imports_the_previewed_file_as_the_editor(editor_client, editor):
    preview = editor_client.post(URL, {"file": upload(SAMPLE_JSON), "new_story": "space", "publish": "on"})
    token = preview.context["token"]

    response = editor_client.post(URL, {"token": token}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("desk:event_list") + "?show=all"
    assert "created 6, unchanged 0" in response.content.decode()
    events = Event.objects.filter(story__slug="space")
    assert events.published().count() == 6
    assert {e.created_by_id for e in events} == {editor.pk}
    assert Event.history.filter(story__slug="space").first().history_user == editor
    # The kept upload is gone: the same token again is refused, and nothing is imported twice.
    assert editor_client.post(URL, {"token": token}).status_code == 400
    assert events.count() == 6


@needs_db
def test_a_bad_file_is_previewed_with_its_errors_by_line_and_no_import_button(editor_client):
    content = csv_rows(row("1618", text="<p>a\nb</p>"), row("1620", "13", headline="Bad")).encode()

    response = editor_client.post(URL, {"file": upload(name="bad.csv", content=content), "new_story": "bad"})

    assert response.status_code == 422
    html = response.content.decode()
    assert "<code>bad.csv:4</code>: date: month must be between 1 and 12, not 13" in html
    assert 'name="token"' not in html
    assert not Story.objects.exists()


@needs_db
def test_an_unreadable_file_is_a_422_naming_the_line(editor_client):
    response = editor_client.post(
        URL, {"file": upload(name="broken.json", content=b'{"events": [}'), "new_story": "broken"}
    )

    assert response.status_code == 422
    assert "<code>broken.json:1</code>: not valid JSON" in response.content.decode()


@needs_db
def test_a_file_over_the_size_limit_is_refused_with_the_limit_named(editor_client, settings):
    settings.IMPORT_MAX_BYTES = 100

    response = editor_client.post(URL, {"file": upload(TEMPLATE_CSV), "new_story": "big"})

    assert response.status_code == 422
    html = response.content.decode()
    assert "the desk takes files up to 100" in html and "IMPORT_MAX_BYTES" in html
    assert "manage.py import_timeline" in html


@needs_db
def test_the_story_is_chosen_or_a_slug_given_but_not_both(editor_client):
    story = StoryFactory()

    neither = editor_client.post(URL, {"file": upload(TEMPLATE_CSV)})
    both = editor_client.post(URL, {"file": upload(TEMPLATE_CSV), "story": story.slug, "new_story": "other"})
    bad_slug = editor_client.post(URL, {"file": upload(TEMPLATE_CSV), "new_story": "not a slug"})

    assert (neither.status_code, both.status_code, bad_slug.status_code) == (422, 422, 422)
    assert "Choose the story to import into" in neither.content.decode()
    assert "not both" in both.content.decode()
    assert "not a valid story slug" in bad_slug.content.decode()
    assert both.context["form"]["new_story"].value() == "other"  # what was typed is kept


@needs_db
def test_an_existing_story_can_be_chosen_and_the_preview_counts_what_it_already_has(editor_client):
    run("--story", "space", str(SAMPLE_JSON))

    response = editor_client.post(URL, {"file": upload(SAMPLE_JSON), "story": "space"})

    assert "would create 0 events" in response.content.decode()
    assert "6 unchanged" in response.content.decode()


@needs_db
def test_another_editors_token_is_refused(editor_client, editors_group):
    preview = editor_client.post(URL, {"file": upload(SAMPLE_JSON), "new_story": "space"})
    other = UserFactory(username="other-editor")
    other.groups.add(editors_group)
    editor_client.force_login(other)

    response = editor_client.post(URL, {"token": preview.context["token"]})

    assert response.status_code == 400
    assert "upload the file again" in response.content.decode()
    assert not Story.objects.filter(slug="space").exists()


@needs_db
def test_the_preview_of_a_thousand_rows_shows_a_hundred_in_a_bounded_number_of_queries(
    editor_client, django_assert_max_num_queries
):
    content = csv_rows(*(row(str(1000 + n), headline=f"Event {n}") for n in range(1000))).encode()

    with django_assert_max_num_queries(15):
        response = editor_client.post(URL, {"file": upload(name="big.csv", content=content), "new_story": "big"})

    assert response.status_code == 200
    assert "would create 1000 events" in response.content.decode()
    assert len(response.context["rows"]) == 100
    assert "(the first 100)" in response.content.decode()


def test_a_large_import_leaves_the_tables_it_wrote_analysed(db, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from events.services import imports as import_services

    monkeypatch.setattr(import_services, "ANALYZE_AFTER", 1)
    with CaptureQueriesContext(connection) as queries:
        run("--story", "thirty-years-war", str(TEMPLATE_CSV))
    [analyze] = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    assert all(table in analyze for table in ("events_event", "events_historicalevent", "events_mediaitem"))
