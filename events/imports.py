"""Reading a TimelineJS file, JSON or CSV, into events ready to import, or into the lines it is refused for.

Both formats are Knight Lab's: the JSON of https://timeline.knightlab.com/docs/json-format.html and a
CSV with the columns of their spreadsheet template (COLUMNS, in that order; a header missing some is
fine, unknown columns are ignored, "Tag" is read as "Group"). Nothing here touches the database:
`read_timeline` returns a `Timeline` whose `errors` say, for each bad record, the physical line where
it starts, and the services in events/services/imports.py write what is good.

What becomes of each record:
- the title (the CSV row of Type "title", the JSON `title`) names and describes a story the import
  creates; eras are counted and skipped (the tracker has none); every other record with a Year is an
  event, and one without is refused.
- Dates go through `interchange.date_from_timelinejs`, the inverse of the TimelineJS export, so an
  export imported again gives back the same dates at the same precisions: a year alone is YEAR, with a
  month MONTH, with a day DAY (APPROXIMATE when Display Date reads "around ..."), with a time EXACT in
  the site's zone (settings.TIME_ZONE; TimelineJS dates carry none). Years 1 to 9999 only: Python's
  datetime holds no other, so a year 0 or a BCE year is refused with a reason, never a crash.
- Text is HTML: it is sanitised (as text.sanitise_html does) and stored as the event's summary, top-level
  inline content wrapped in <p> so that the summary's Markdown rendering passes it through unchanged
  (Markdown leaves block-level HTML alone; bare text would get smart quotes and code blocks).
- Media (Media, Media Credit, Media Caption, Media Thumbnail; the JSON's `media` object) becomes the
  event's media item, always a link: an import uploads nothing and downloads nothing. Its kind is
  what the address looks like (events.media.links.kind_of: a video, an audio clip, a social-media
  post, else a web page), its outlet the address's host, its credit and caption the file's, as plain
  text. An address of a picture elsewhere (a .jpg) is a web-page card too: the tracker never
  hotlinks a third party's images, and only uploads are images. Media Thumbnail is kept as the
  link's thumbnail_url when it is an http(s) address (anything else refuses the row); the tracker
  never shows it, the export gives it back. Media that is HTML: an <iframe> is its src; the export's
  quotation card (a blockquote with a `link`) is a link to that address, titled with the quote; an
  embedded post (a <blockquote> carrying a link, as Knight Lab's tweet sample) is a social-media link
  to the post's address (its last link), titled with its text; any other HTML (a quotation without a
  link) joins the text with its caption and credit. Background, the title slide's media, a Media
  Thumbnail without Media and Display Date (beyond "around") are not kept.
- Group becomes the event's kind when it names one ("Meeting", as the export writes it), else "other".
- Each event gets an external id, so that the same file imported twice creates nothing new: its
  `unique_id` when given, else a hash of its date parts and headline (the same for a CSV and the JSON
  of the same timeline).

For JSON, the line of an event is where its object opens: the document is parsed by `json`, then its
top-level object is walked again with JSONDecoder.raw_decode to find where each value starts.
"""

import csv
import datetime
import functools
import hashlib
import html
import io
import json
import multiprocessing
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from . import dates
from . import text as _text
from .interchange import date_from_timelinejs
from .media.links import host_of, kind_of
from .models import Event, MediaItem, MediaKind, Story

# Knight Lab's template spreadsheet, column for column.
COLUMNS = (
    "Year", "Month", "Day", "Time", "End Year", "End Month", "End Day", "End Time", "Display Date",
    "Headline", "Text", "Media", "Media Credit", "Media Caption", "Media Thumbnail", "Type", "Group",
    "Background",
)  # fmt: skip
REQUIRED_COLUMNS = ("Year", "Headline")
_COLUMN_NAMES = {name.lower(): name for name in COLUMNS} | {"tag": "Group"}
PROGRESS_EVERY = 10_000
# With workers, a CSV of at least PARALLEL_RECORDS records is checked by that many processes,
# CHUNK_RECORDS records a task (a few hundred kilobytes each way).
PARALLEL_RECORDS = 10_000
CHUNK_RECORDS = 2000
READ = gettext_lazy("records read")

# Told (stage, done, total) as a stage goes: events.management.commands._progress.ProgressLine draws it.
Progress = Callable[[str, int, int], None]


class _Refused(Exception):
    """The record (or, raised while reading the file, the whole file) cannot be imported."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def format(self, name: str) -> str:
        """`FILE:LINE: reason`, the form compilers use, so editors and tools can jump to the line."""
        return f"{name}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class ImportedMedia:
    """An event's media item as the file gives it: a link (video, audio, social or page)."""

    kind: str
    url: str
    outlet: str
    title: str = ""
    caption: str = ""
    credit: str = ""
    thumbnail_url: str = ""

    @property
    def kind_label(self) -> str:
        return MediaKind(self.kind).label


@dataclass(frozen=True)
class ImportedEvent:
    line: int
    title: str
    summary: str  # sanitised HTML, which is also valid Markdown for the desk
    start: datetime.datetime
    start_precision: str
    end: datetime.datetime | None
    end_precision: str
    kind: str
    media: ImportedMedia | None
    external_id: str
    unique_id: str  # as the file gives it ("" for none)

    @property
    def when(self) -> str:
        """The date as readers will see it."""
        return dates.format_span(self.start, self.start_precision, self.end, self.end_precision)


@dataclass(frozen=True)
class TitleSlide:
    line: int
    title: str
    summary: str


@dataclass
class Timeline:
    name: str
    events: list[ImportedEvent] = field(default_factory=list)
    title: TitleSlide | None = None
    eras: int = 0
    records: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def error_lines(self) -> list[str]:
        return [error.format(self.name) for error in self.errors]


def read_timeline(data: bytes, name: str, *, progress: Progress | None = None, workers: int = 1) -> Timeline:
    """The events of a TimelineJS file (JSON when its name ends in .json or its text opens with "{",
    CSV otherwise), every bad record in `errors`. `progress` hears every PROGRESS_EVERY records, and
    at the end if it heard before.

    With `workers` > 1, a large CSV's records are checked by that many forked processes (a command's
    choice: a web server's worker should not fork), with the same result: each record is checked on
    its own, and what depends on the others is decided here, in the file's order."""
    timeline = Timeline(name=name)
    reader = _Reader(timeline, progress, workers)
    try:
        text = _decode(data)
        if name.lower().endswith(".json") or text.lstrip().startswith("{"):
            reader.read_json(text)
        else:
            reader.read_csv(text)
    except _Refused as refused:
        timeline.errors.append(RowError(refused.line or 1, refused.reason))
    if progress and timeline.records >= PROGRESS_EVERY:
        progress(READ, timeline.records, timeline.records)
    timeline.errors.sort(key=lambda error: error.line)
    return timeline


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _Refused(
            _("not UTF-8 text (byte 0x%(byte)02x): save the file as UTF-8") % {"byte": data[exc.start]}, line
        ) from None


# --- Dates -----------------------------------------------------------------------------------------


def _cleaned(value: Any) -> Any:
    """A spreadsheet's number as TimelineJS reads it: "1,648" and " 7 " are 1648 and 7."""
    return "".join(value.split()).replace(",", "") if isinstance(value, str) else value


# Shown in any zone, a moment within a day of datetime's limits would overflow.
_LOWEST = datetime.datetime.min.replace(tzinfo=datetime.UTC) + datetime.timedelta(days=1)
_HIGHEST = datetime.datetime.max.replace(tzinfo=datetime.UTC) - datetime.timedelta(days=1)
_DIGITS = re.compile(r"\d+")
_SIGNED_DIGITS = re.compile(r"-?\d+")


# Translated when a reason is written, not for every row.
_START_LABEL = gettext_lazy("date")
_END_LABEL = gettext_lazy("end date")
_SECOND = pgettext_lazy("part of a time of day", "second")


_MOMENT_PARTS = ("year", "month", "day", "hour", "minute", "second", "display_date")


def moment_from_timelinejs(parts: dict[str, Any], *, label: str) -> tuple[datetime.datetime, str]:
    """The stored instant and precision of a TimelineJS date (year, month, day, hour, minute, second,
    display_date), or _Refused saying what is wrong, `label` ("date", "end date") leading the reason.
    Only those keys count, and a large file repeats the same dates: the answers are cached."""
    values = tuple(parts.get(key) for key in _MOMENT_PARTS)
    zone = timezone.get_default_timezone()
    try:
        found = _good_moment(values, zone)
    except TypeError:  # a part that is a JSON list or object is unhashable: no cache for it
        found = None
    return found or _moment(values, label, zone)  # _moment again, to refuse in the words of `label`


def _moment(values: tuple, label: str, zone: datetime.tzinfo) -> tuple[datetime.datetime, str]:
    parts = {
        key: (value if key == "display_date" else _cleaned(value))
        for key, value in zip(_MOMENT_PARTS, values, strict=True)
        if value is not None
    }
    year = parts.get("year")
    if isinstance(year, int | str) and _SIGNED_DIGITS.fullmatch(str(year)) and int(year) < 1:
        raise _Refused(
            _("%(label)s: year %(year)s is before year 1; the tracker's dates run from 1 AD to 9999")
            % {"label": label, "year": int(year)}
        )
    second = _number(parts.get("second"), 0, 59, _SECOND, label)
    try:
        moment, precision = date_from_timelinejs(parts, zone)
    except ValueError as exc:
        raise _Refused(_("%(label)s: %(reason)s") % {"label": label, "reason": exc}) from None
    except OverflowError:
        moment = None
    if moment is None or not _LOWEST <= moment <= _HIGHEST:
        raise _Refused(_("%(label)s: too close to the limits of the calendar (years 1 to 9999)") % {"label": label})
    if second and precision == dates.EXACT:
        moment += datetime.timedelta(seconds=second)
    return moment, precision


@functools.lru_cache(maxsize=65_536)
def _good_moment(values: tuple, zone: datetime.tzinfo) -> tuple[datetime.datetime, str] | None:
    """_moment's answer, None for a refusal (whose reason depends on the label and the language)."""
    try:
        return _moment(values, _START_LABEL, zone)
    except _Refused:
        return None


def _number(value: Any, low: int, high: int, what: str, label: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not _DIGITS.fullmatch(str(value)) or not low <= int(value) <= high:
        raise _Refused(
            _("%(label)s: %(what)s must be a whole number from %(low)s to %(high)s, not %(value)r")
            % {"label": label, "what": what, "low": low, "high": high, "value": value}
        )
    return int(value)


_AM_PM = re.compile(r"\s*([ap])\.?\s*m\.?\s*$", re.IGNORECASE)


def parse_time(value: str) -> dict[str, int]:
    """A spreadsheet's Time as TimelineJS reads it: "18:30", "18:30:05", "6:30 PM", "1830", "18.30"."""
    text = value.strip()
    period = _AM_PM.search(text)
    if period:
        text = text[: period.start()]
    if re.fullmatch(r"\d{3,4}", text):
        pieces = [text[:-2], text[-2:]]
    else:
        pieces = text.split(":") if ":" in text else text.split(".")
        if len(pieces) == 3:
            pieces[2] = re.split(r"[.,]", pieces[2])[0]  # fractions of a second are dropped
    if not 1 <= len(pieces) <= 3 or not all(re.fullmatch(r"\d{1,2}", piece) for piece in pieces):
        raise _Refused(_("Time “%(value)s” is not a time of day (such as 18:30 or 6:30 PM)") % {"value": value})
    hour, minute, second = ([int(piece) for piece in pieces] + [0, 0])[:3]
    if period:
        if not 1 <= hour <= 12:
            raise _Refused(_("Time “%(value)s”: an hour with AM or PM runs from 1 to 12") % {"value": value})
        hour = hour % 12 + (12 if period[1].lower() == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise _Refused(_("Time “%(value)s” is not a time of day (such as 18:30 or 6:30 PM)") % {"value": value})
    return {"hour": hour, "minute": minute, "second": second}


@functools.lru_cache(maxsize=4096)
def _parsed_time(value: str) -> tuple[tuple[str, int], ...]:
    # A file has at most 1,440 times of day to the minute; refusals are not cached.
    return tuple(parse_time(value).items())


# --- Text and media --------------------------------------------------------------------------------

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>")
_BLOCK_TAGS = {"p", "ul", "ol", "li", "blockquote", "pre"}
_VOID_TAGS = {"br"}
_BLANK_LOOKING_LINE = re.compile(r"(?<=\n) +\n")


def summary_from_html(text: str) -> str:
    """Imported HTML as a summary: sanitised, each top-level run of text and inline tags in a <p>,
    one block a line. Markdown passes block-level HTML through as it is, so rendering this summary
    (what `Event.save` does) gives back this same HTML: the import stores it as `summary_html`
    without running Markdown (milliseconds a row), and an editor's later save changes nothing."""
    clean = _text.sanitise_html(text) if text.strip() else ""
    blocks: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        run = "".join(inline).strip()
        inline.clear()
        if run:
            blocks.append(f"<p>{run}</p>")

    depth, done, node_start, node_is_block = 0, 0, 0, False
    # nh3's output is well-formed, escapes "<" and ">" in text and attributes: tags can be counted.
    for match in _TAG.finditer(clean):
        name = match[2].lower()
        if name in _VOID_TAGS:
            continue
        closing = match[1] == "/"
        if depth == 0:
            start = match.start()
            inline.append(clean[done:start])
            done = start
            if closing:  # a stray end tag: keep it with the text, the sanitiser made it harmless
                continue
            node_start, node_is_block = start, name in _BLOCK_TAGS
            if node_is_block:
                flush()
        depth += -1 if closing else 1
        if depth == 0:
            done = match.end()
            (blocks if node_is_block else inline).append(clean[node_start:done])
    inline.append(clean[done:])
    flush()
    return _markdown_whitespace("\n".join(blocks))


def _markdown_whitespace(text: str) -> str:
    """The whitespace Markdown would normalise before anything else (its NormalizeWhitespace:
    line endings, tabs to 4-column stops, blank-looking lines emptied), normalised here already."""
    if "\x02" in text or "\x03" in text:
        text = text.replace("\x02", "").replace("\x03", "")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\t" in text:
        text = text.expandtabs(4)
    return _BLANK_LOOKING_LINE.sub("\n", text) if " \n" in text else text


def plain_from_html(text: str) -> str:
    """A headline or a credit as plain text: tags dropped, entities decoded, spaces collapsed."""
    if "<" in text or "&" in text:
        return _plain_from_markup(text)
    return " ".join(text.split())


@functools.lru_cache(maxsize=4096)
def _plain_from_markup(text: str) -> str:
    # Cached: a file repeats its credits (an agency's link on every other row), and strip_tags is slow.
    return " ".join(html.unescape(strip_tags(_text.sanitise_html(text))).split())


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


_http_url = URLValidator(schemes=["http", "https"])
_IFRAME_SRC = re.compile(r"<iframe\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_HREF = re.compile(r"<a\b[^>]*\bhref\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
# The embed codes of posts on social networks (Twitter's, Instagram's, TikTok's, Bluesky's...).
_POST_EMBED = re.compile(r"<blockquote\b[^>]*\bclass\s*=\s*[\"'][^\"']*(tweet|instagram|tiktok|bluesky|threads)", re.I)
_URL_MAX = MediaItem._meta.get_field("url").max_length
_OUTLET_MAX = MediaItem._meta.get_field("outlet").max_length
_MEDIA_TITLE_MAX = MediaItem._meta.get_field("title").max_length
_CAPTION_MAX = MediaItem._meta.get_field("caption").max_length
_CREDIT_MAX = MediaItem._meta.get_field("credit").max_length


def _web_address(value: str) -> str | None:
    try:
        _http_url(value)
    except ValidationError:
        return None
    return value


def _thumbnail(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if len(value) > _URL_MAX or not _web_address(value):
        raise _Refused(_("Media Thumbnail “%(url)s” is not a web address (http or https)") % {"url": _cut(value, 60)})
    return value


def _media(
    url: str, credit: str, caption: str, *, link: str = "", thumbnail: str = "", title: str = ""
) -> tuple[ImportedMedia | None, str]:
    """The event's media item, and HTML to add to its text (media that is a quotation)."""
    url = url.strip()
    if not url:
        return None, ""
    text = {
        "credit": _cut(plain_from_html(credit), _CREDIT_MAX),
        "caption": _cut(plain_from_html(caption), _CAPTION_MAX),
        "title": _cut(plain_from_html(title), _MEDIA_TITLE_MAX),
    }
    kind = None
    if url.startswith("<"):
        embedded = _IFRAME_SRC.search(url)
        posted = [html.unescape(href) for href in _HREF.findall(url) if _web_address(html.unescape(href))]
        if embedded and _web_address(html.unescape(embedded[1])):
            url = html.unescape(embedded[1])
        elif _web_address(link.strip()) or posted:
            # The export's quotation card (linking to the page), or an embedded post (its address is
            # its last link, after the text): a link titled with the quoted text.
            address = link.strip() if _web_address(link.strip()) else posted[-1]
            text["title"] = text["title"] or _cut(plain_from_html(url), _MEDIA_TITLE_MAX)
            kind = MediaKind.SOCIAL if _POST_EMBED.search(url) else kind_of(address)
            url = address
        else:
            credited = " — ".join(filter(None, [caption, credit]))
            return None, url + (f"<p>{credited}</p>" if credited else "")
    if len(url) > _URL_MAX:
        raise _Refused(
            _("Media: the address is %(length)s characters long; %(max)s at most")
            % {"length": len(url), "max": _URL_MAX}
        )
    if not _web_address(url):
        raise _Refused(_("Media “%(url)s” is neither a web address (http or https) nor HTML") % {"url": _cut(url, 60)})
    media = ImportedMedia(
        kind=kind or kind_of(url),
        url=url,
        outlet=host_of(url)[:_OUTLET_MAX],
        thumbnail_url=_thumbnail(thumbnail),
        **text,
    )
    return media, ""


_TITLE_MAX = Event._meta.get_field("title").max_length
_STORY_TITLE_MAX = Story._meta.get_field("title").max_length
_EXTERNAL_ID_MAX = Event._meta.get_field("external_id").max_length


@functools.cache
def _kinds() -> dict[str, str]:
    """A Group as a kind: a kind's value, or its label in English (as the export writes it) or in any
    other language of the site (an export read in that language writes its label)."""
    kinds = {value: value for value in Event.Kind.values}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for value, label in Event.Kind.choices:
                kinds.setdefault(str(label).lower(), value)
    return kinds


def _text_value(value: Any, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _Refused(_("%(what)s must be text") % {"what": what})


# --- One record, whatever the format ---------------------------------------------------------------


@dataclass
class _Slide:
    """A record as both formats give it, before it is checked."""

    line: int
    start: dict[str, Any] | None
    end: dict[str, Any] | None
    headline: str
    text: str
    media_url: str = ""
    media_credit: str = ""
    media_caption: str = ""
    media_link: str = ""
    media_thumbnail: str = ""
    media_title: str = ""
    group: str = ""
    unique_id: str = ""


def _event(slide: _Slide) -> ImportedEvent:
    """The event a slide makes, or _Refused with every reason it cannot be one (joined by "; ")."""
    reasons: list[str] = []

    def attempt(make: Callable[[], Any]) -> Any:
        try:
            return make()
        except _Refused as refused:
            reasons.append(refused.reason)
            return None

    title = plain_from_html(slide.headline)
    if not title:
        reasons.append(_("no Headline: every event needs one"))
    elif len(title) > _TITLE_MAX:
        reasons.append(
            _("the Headline is %(length)s characters long; %(max)s at most") % {"length": len(title), "max": _TITLE_MAX}
        )
    start = attempt(lambda: moment_from_timelinejs(slide.start or {}, label=_START_LABEL))
    end = attempt(lambda: moment_from_timelinejs(slide.end, label=_END_LABEL)) if slide.end else None
    if start and end and end[0] < start[0]:
        said = {"end": dates.format_moment(*end), "start": dates.format_moment(*start)}
        if end[1] in (dates.YEAR, dates.MONTH) and dates.format_moment(*end) in dates.format_moment(*start):
            # "May 1618 – 1618": a year alone is stored as its first day, which is before the start.
            reasons.append(_("it ends (%(end)s) before it starts (%(start)s): give the end's month and day") % said)
        else:
            reasons.append(_("it ends (%(end)s) before it starts (%(start)s)") % said)
    media = attempt(
        lambda: _media(
            slide.media_url,
            slide.media_credit,
            slide.media_caption,
            link=slide.media_link,
            thumbnail=slide.media_thumbnail,
            title=slide.media_title,
        )
    )
    if reasons:
        raise _Refused("; ".join(reasons))
    item, quoted = media
    unique_id = slide.unique_id.strip()
    return ImportedEvent(
        line=slide.line,
        title=title,
        summary=summary_from_html(slide.text + quoted),
        start=start[0],
        start_precision=start[1],
        end=end[0] if end else None,
        end_precision=end[1] if end else dates.EXACT,
        kind=_kinds().get(slide.group.strip().lower(), Event.Kind.OTHER),
        media=item,
        external_id=_external_id(unique_id, slide, title),
        unique_id=unique_id,
    )


_DATE_KEYS = ("year", "month", "day", "hour", "minute", "second")


def _external_id(unique_id: str, slide: _Slide, title: str) -> str:
    if unique_id and len(unique_id) <= _EXTERNAL_ID_MAX:
        return unique_id
    if unique_id:
        return "uid:" + hashlib.sha256(unique_id.encode()).hexdigest()[:40]
    # Normalised parts ("07" and 7 agree), so the CSV and the JSON of one timeline give the same id.
    key = [*_date_key(slide.start), *_date_key(slide.end), title]
    return "row:" + hashlib.sha256("|".join(key).encode()).hexdigest()[:40]


_NO_DATE_KEY = ("",) * len(_DATE_KEYS)


def _date_key(date: dict[str, Any] | None) -> tuple[str, ...]:
    if not date:
        return _NO_DATE_KEY
    get = date.get
    return tuple(_id_part(get(k)) for k in _DATE_KEYS)


def _id_part(value: Any) -> str:
    if value is None or value == "":
        return ""
    return str(_cleaned(value) or "").lstrip("0")


# A CSV record checked on its own: (line, "event", ImportedEvent), (line, "error", reason),
# (line, "title", (headline, text)) or (line, "era", None). What depends on the records before it
# (a second title, the same event twice, the count) is the reader's, which takes them in order.
_Outcome = tuple[int, str, Any]


class _Reader:
    def __init__(self, timeline: Timeline, progress: Progress | None, workers: int = 1) -> None:
        self.timeline = timeline
        self.progress = progress
        self.workers = workers
        self.seen: dict[str, int] = {}  # external id -> the line that first gave it
        self.expected = 0  # records the file seems to hold (its rows or its events), for the progress

    def record(self) -> None:
        self.timeline.records += 1
        records = self.timeline.records
        if self.progress and records % PROGRESS_EVERY == 0:
            self.progress(READ, records, max(self.expected, records))

    def add(self, slide: _Slide) -> None:
        try:
            event = _event(slide)
        except _Refused as refused:
            self.timeline.errors.append(RowError(slide.line, refused.reason))
            return
        self.keep(slide.line, event)

    def keep(self, line: int, event: ImportedEvent) -> None:
        """The event, unless an earlier record gave the same one."""
        if event.external_id in self.seen:
            first = self.seen[event.external_id]
            why = _("the same unique_id") if event.unique_id else _("the same date and Headline")
            self.timeline.errors.append(
                RowError(line, _("the same event as line %(line)s (%(why)s)") % {"line": first, "why": why})
            )
            return
        self.seen[event.external_id] = line
        self.timeline.events.append(event)

    def title(self, line: int, headline: str, text: str) -> None:
        if self.timeline.title is not None:
            self.timeline.errors.append(
                RowError(
                    line, _("a second title row (the first is on line %(line)s)") % {"line": self.timeline.title.line}
                )
            )
            return
        title = plain_from_html(headline)
        if len(title) > _STORY_TITLE_MAX:
            self.timeline.errors.append(
                RowError(
                    line,
                    _("the title is %(length)s characters long; %(max)s at most")
                    % {"length": len(title), "max": _STORY_TITLE_MAX},
                )
            )
            return
        self.timeline.title = TitleSlide(line=line, title=title, summary=summary_from_html(text))

    # --- CSV ---------------------------------------------------------------------------------------

    def read_csv(self, text: str) -> None:
        delimiter = _delimiter(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        rows = _records(reader)
        header = next(rows, (1, []))[1]
        columns = _columns(header)
        if self.workers == 1:
            self.expected = _count_records(text, delimiter) - 1
            for line, cells in rows:
                self.take(_csv_record(line, cells, columns))
            return
        # The records are split off first (csv is quick), then checked by a pool of processes; a
        # break in the file refuses it after the records before it, as above.
        records: list[tuple[int, list[str]]] = []
        broken = None
        try:
            records.extend(rows)
        except _Refused as refused:
            broken = refused
        self.expected = len(records) if broken is None else _count_records(text, delimiter) - 1
        self.read_in_parallel(records, columns)
        if broken is not None:
            raise broken

    def read_in_parallel(self, records: list[tuple[int, list[str]]], columns: list[str | None]) -> None:
        if len(records) < PARALLEL_RECORDS or "fork" not in multiprocessing.get_all_start_methods():
            for line, cells in records:
                self.take(_csv_record(line, cells, columns))
            return
        chunks = [(columns, records[at : at + CHUNK_RECORDS]) for at in range(0, len(records), CHUNK_RECORDS)]
        # Forked, the workers have Django set up, the settings and the active language as they are here.
        with multiprocessing.get_context("fork").Pool(self.workers) as pool:
            for outcomes in pool.imap(_csv_chunk, chunks):
                for outcome in outcomes:
                    self.take(outcome)

    def take(self, outcome: _Outcome | None) -> None:
        """A record's outcome, in the file's order: counted, then kept as an event, an error, the title
        or an era."""
        if outcome is None:
            return
        self.record()
        line, what, value = outcome
        if what == "event":
            self.keep(line, value)
        elif what == "error":
            self.timeline.errors.append(RowError(line, value))
        elif what == "title":
            self.title(line, *value)
        else:
            self.timeline.eras += 1

    # --- JSON --------------------------------------------------------------------------------------

    def read_json(self, text: str) -> None:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _Refused(
                _("not valid JSON: %(message)s (column %(column)s)") % {"message": exc.msg, "column": exc.colno},
                exc.lineno,
            ) from None
        except RecursionError:  # "[[[[...": nested deeper than Python's parser goes
            raise _Refused(_("not valid JSON: nested too deeply"), 1) from None
        if not isinstance(document, dict) or not isinstance(document.get("events"), list):
            raise _Refused(_("a TimelineJS file is a JSON object with an “events” list"), 1)
        self.expected = len(document["events"]) + isinstance(document.get("title"), dict)
        starts = _json_starts(text)
        newlines = [match.start() for match in re.finditer("\n", text)]

        def line_of(offset: int | None) -> int:
            return bisect_left(newlines, offset) + 1 if offset is not None else 1

        title = document.get("title")
        if isinstance(title, dict):
            self.record()
            line = line_of(starts.get("title"))
            try:
                words = _json_text(title)
                self.title(line, words.get("headline", ""), words.get("text", ""))
            except _Refused as refused:
                self.timeline.errors.append(RowError(line, refused.reason))
        if isinstance(document.get("eras"), list):
            self.timeline.eras = len(document["eras"])
        event_starts = starts.get("events", [])
        for index, slide in enumerate(document["events"]):
            self.record()
            line = line_of(event_starts[index] if index < len(event_starts) else None)
            try:
                self.add(_json_slide(line, slide))
            except _Refused as refused:
                self.timeline.errors.append(RowError(line, refused.reason))


def _csv_record(line: int, cells: list[str], columns: list[str | None]) -> _Outcome | None:
    """What a CSV record is (None for a blank line). Needs no state, so worker processes can do it."""
    if not "".join(cells).strip():
        return None
    width = len(columns)
    if len(cells) > width and "".join(cells[width:]).strip():
        reason = _("%(cells)s cells where the header has %(columns)s: a comma in a field that is not quoted?")
        return line, "error", reason % {"cells": len(cells), "columns": width}
    row = {name: cell.strip() for name, cell in zip(columns, cells, strict=False) if name}
    get = row.get
    kind = get("Type", "").lower()
    if kind == "title":
        return line, "title", (get("Headline", ""), get("Text", ""))
    if kind == "era":
        return line, "era", None
    if not get("Year"):
        return line, "error", _("no Year: an event needs at least its year (a title row has Type “title”)")
    try:
        start = _csv_date(row, "")
        end = _csv_date(row, "End ") if any(get(name) for name in _END_COLUMNS) else None
        slide = _Slide(
            line=line,
            start=start,
            end=end,
            headline=get("Headline", ""),
            text=get("Text", ""),
            media_url=get("Media", ""),
            media_credit=get("Media Credit", ""),
            media_caption=get("Media Caption", ""),
            media_thumbnail=get("Media Thumbnail", ""),
            group=get("Group", ""),
        )
        return line, "event", _event(slide)
    except _Refused as refused:
        return line, "error", refused.reason


def _csv_chunk(chunk: tuple[list[str | None], list[tuple[int, list[str]]]]) -> list[_Outcome | None]:
    """A worker's share: the outcomes of consecutive records, in order."""
    columns, records = chunk
    return [_csv_record(line, cells, columns) for line, cells in records]


def _csv_date(row: dict[str, str], prefix: str) -> dict[str, Any]:
    year, month, day, time_of_day = _DATE_COLUMNS[prefix]
    if not row.get(year):
        raise _Refused(_("%(prefix)sMonth, Day or Time without an %(prefix)sYear") % {"prefix": prefix})
    parts: dict[str, Any] = {"year": row[year], "month": row.get(month, ""), "day": row.get(day, "")}
    if row.get(time_of_day):
        parts.update(_parsed_time(row[time_of_day]))
    if not prefix:
        parts["display_date"] = row.get("Display Date", "")
    return parts


_DATE_COLUMNS = {
    prefix: tuple(f"{prefix}{part}" for part in ("Year", "Month", "Day", "Time")) for prefix in ("", "End ")
}
_END_COLUMNS = _DATE_COLUMNS["End "]


def _delimiter(text: str) -> str:
    """Commas as TimelineJS's own; semicolons or tabs where a spreadsheet saved them so."""
    first = text.split("\n", 1)[0].lower()
    for delimiter in (",", ";", "\t"):
        if "year" in [cell.strip().strip('"') for cell in first.split(delimiter)]:
            return delimiter
    return ","


def _count_records(text: str, delimiter: str) -> int:
    """How many records the CSV holds (a quick pass, for the progress), up to a break if it has one."""
    count = 0
    try:
        for _cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            count += 1
    except csv.Error:
        pass
    return count


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(the physical line where each record starts, its cells); a quoted field may span lines."""
    next_line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                reason = _('a quoted field opened in this record is never closed (a " missing?)')
            else:
                reason = _("broken CSV: %(message)s") % {"message": exc}
            raise _Refused(reason, next_line) from None
        yield next_line, cells
        next_line = reader.line_num + 1


def _columns(header: list[str]) -> list[str | None]:
    columns: list[str | None] = []
    for cell in header:
        name = _COLUMN_NAMES.get(" ".join(cell.split()).lower())
        if name and name in columns:
            raise _Refused(_("the header has two “%(name)s” columns") % {"name": name}, 1)
        columns.append(name)
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            raise _Refused(
                _("the header has no “%(name)s” column (TimelineJS's columns are %(columns)s)")
                % {"name": name, "columns": ", ".join(COLUMNS)},
                1,
            )
    return columns


def _json_text(slide: dict[str, Any]) -> dict[str, str]:
    words = slide.get("text") or {}
    if not isinstance(words, dict):
        raise _Refused(_("“text” must be an object with a headline and a text"))
    return {"headline": _text_value(words.get("headline"), "headline"), "text": _text_value(words.get("text"), "text")}


def _json_date(slide: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = slide.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Refused(_("“%(key)s” must be an object with a year") % {"key": key})
    return value


def _json_slide(line: int, slide: Any) -> _Slide:
    if not isinstance(slide, dict):
        raise _Refused(_("an event must be a JSON object"))
    start = _json_date(slide, "start_date")
    if start is None:
        raise _Refused(_("no start_date: an event needs at least its year"))
    if slide.get("display_date") and not start.get("display_date"):
        start = {**start, "display_date": slide["display_date"]}
    media = slide.get("media") or {}
    if not isinstance(media, dict):
        raise _Refused(_("“media” must be an object with a url"))
    words = _json_text(slide)
    return _Slide(
        line=line,
        start=start,
        end=_json_date(slide, "end_date"),
        headline=words["headline"],
        text=words["text"],
        media_url=_text_value(media.get("url"), "media url"),
        media_credit=_text_value(media.get("credit"), "media credit"),
        media_caption=_text_value(media.get("caption"), "media caption"),
        media_link=_text_value(media.get("link"), "media link"),
        media_thumbnail=_text_value(media.get("thumbnail"), "media thumbnail"),
        media_title=_text_value(media.get("title"), "media title"),
        group=_text_value(slide.get("group"), "group"),
        unique_id=_text_value(slide.get("unique_id"), "unique_id"),
    )


_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _json_starts(text: str) -> dict[str, Any]:
    """Where the top-level "title" value and each "events" item start, as offsets into `text`
    (already known to be valid JSON). The last of duplicate keys wins, as with json.loads."""
    decoder = json.JSONDecoder()

    def skip(at: int) -> int:
        return _WHITESPACE.match(text, at).end()

    found: dict[str, Any] = {}
    at = skip(0) + 1  # past "{"
    at = skip(at)
    if text[at] == "}":
        return found
    while True:
        key, at = decoder.raw_decode(text, at)
        at = skip(skip(at) + 1)  # past ":"
        if key == "events" and text[at] == "[":
            items: list[int] = []
            at = skip(at + 1)
            while text[at] != "]":
                items.append(at)
                _, at = decoder.raw_decode(text, at)
                at = skip(at)
                if text[at] == ",":
                    at = skip(at + 1)
            at += 1
            found["events"] = items
        else:
            if key == "title":
                found["title"] = at
            _, at = decoder.raw_decode(text, at)
        at = skip(at)
        if text[at] == "}":
            return found
        at = skip(at + 1)  # past ","
