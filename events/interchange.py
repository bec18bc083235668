"""Data out: a story as Knight Lab TimelineJS JSON, as an iCalendar, and the entries of its Atom feeds.

Each export is bounded, so the answer stays usable however big the story grows:
- the Atom feeds hold the FEED_ENTRIES (50) entries most recently updated (an entry is updated when its
  event is edited or corrected; its id never changes);
- the calendar holds published events dated from CALENDAR_PAST_DAYS (30) days ago on that are
  scheduled or still ahead (the CALENDAR_UPCOMING next ones, the CALENDAR_RECENT latest of the past
  30 days), and the open expectations with a due date from 30 days ago on (the first CALENDAR_UPCOMING);
- timeline.json holds the TIMELINE_EVENTS (1,000) newest published events.

A slide's `media` is its event's lead item, the first of its media (timeline_media); a feed entry
shows the event's lead picture. The calendar carries no media: its clients show no pictures of an
entry, and the event's page, at its URL, has them all.

Each export is read through its *windows*: the bounded querysets of what it shows. `fingerprint()`
aggregates those same windows (how many rows, the sum of their ids, their newest change) into the
validator the views answer conditional requests with and cache the built answer under: it moves when
an event in the window is edited, published, withdrawn, corrected or deleted, or when another one
enters it, and costs what the window costs, never a scan of the whole story.

TimelineJS's date objects are built by `timelinejs_date()` and read back by `date_from_timelinejs()`,
its inverse, which the TimelineJS import uses: one mapping between our date precisions and theirs.
"""

import datetime
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.db import models
from django.db.models import Count, F, Max, Prefetch, QuerySet, Sum
from django.db.models.functions import RowNumber
from django.utils import formats, timezone
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from . import dates
from .media import links
from .media.specs import THUMBNAIL_WIDTHS
from .models import Correction, Event, Expectation, MediaItem, MediaKind, Story
from .text import html_to_plain

FEED_ENTRIES = 50
CALENDAR_UPCOMING = 500
CALENDAR_RECENT = 500
CALENDAR_PAST_DAYS = 30
TIMELINE_EVENTS = 1000
# Over this many calendar months, the timeline's eras are years instead of months.
ERA_MONTHS_MAX = 24


# --- Validators ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A bounded (sliced) queryset an export shows, and the field that says when a row last changed."""

    rows: QuerySet
    changed_field: str = "updated_at"


@dataclass(frozen=True)
class Fingerprint:
    """What an export depends on, reduced to an ETag and a Last-Modified time."""

    parts: tuple
    last_modified: datetime.datetime | None

    @property
    def etag(self) -> str:
        return f'W/"{hashlib.sha256(repr(self.parts).encode()).hexdigest()[:32]}"'


def fingerprint(
    windows: Iterable[Window], *, story: Story | None = None, day: datetime.date | None = None
) -> Fingerprint:
    """One aggregate per window, plus the story's own last change (its title and summary are shown)
    and `day` when the export's window moves with the date (Last-Modified then moves daily too)."""
    parts: list[Any] = [settings.SITE_URL]  # every link in an answer starts with it
    moments: list[datetime.datetime | None] = []
    for window in windows:
        row = window.rows.aggregate(count=Count("pk"), ids=Sum("pk"), changed=Max(window.changed_field))
        parts += [row["count"], row["ids"], row["changed"]]
        moments.append(row["changed"])
    if story is not None:
        parts.append(story.updated_at)
        moments.append(story.updated_at)
    if day is not None:
        parts.append(day)
        moments.append(datetime.datetime.combine(day, datetime.time.min, timezone.get_current_timezone()))
    known = [moment for moment in moments if moment is not None]
    return Fingerprint(parts=tuple(parts), last_modified=max(known) if known else None)


# --- Atom feeds ----------------------------------------------------------------------------------


def feed_windows(events: QuerySet) -> list[Window]:
    """The FEED_ENTRIES events of `events` edited last, and the FEED_ENTRIES corrections made last."""
    return [
        Window(events.order_by("-updated_at", "-id")[:FEED_ENTRIES]),
        Window(
            Correction.objects.filter(event__in=events.values("pk")).order_by("-created_at", "-id")[:FEED_ENTRIES],
            "created_at",
        ),
    ]


def feed_entries(events: QuerySet) -> list[Event]:
    """The FEED_ENTRIES published events of `events` most recently updated, newest first, each with
    `entry_updated`: its last edit or its last correction, whichever is later. Four queries."""
    edited, corrected = feed_windows(events)
    ids = {*edited.rows.values_list("pk", flat=True), *corrected.rows.values_list("event_id", flat=True)}
    entries = list(
        Event.objects.filter(pk__in=ids)
        .select_related("place", "story", "lead_image")
        .prefetch_related(Prefetch("corrections", queryset=Correction.objects.order_by("created_at", "id")))
    )
    for event in entries:
        event.entry_updated = max([event.updated_at, *(c.created_at for c in event.corrections.all())])
    entries.sort(key=lambda event: (event.entry_updated, event.pk), reverse=True)
    return entries[:FEED_ENTRIES]


def _lead_picture(event: Event) -> str:
    """The event's lead picture as a figure (its medium copy, its alt text, caption and credit)."""
    image = event.lead_image
    if image is None:
        return ""
    size = image.thumbnail_for(THUMBNAIL_WIDTHS[1])
    src, width, height = (size[0].url, size[1], size[2]) if size else (image.image.url, image.width, image.height)
    caption = " — ".join(filter(None, [image.caption, image.credit]))
    return format_html(
        '<figure><img src="{}" width="{}" height="{}" alt="{}">{}</figure>',
        absolute_url(src),
        width,
        height,
        image.alt_text,
        format_html("<figcaption>{}</figcaption>", caption) if caption else "",
    )


def entry_html(event: Event) -> str:
    """An entry's content: when and where, the lead picture, the summary, and each correction with
    its date."""
    where = format_html(" · {}", str(event.place)) if event.place_id else ""
    corrections = format_html_join(
        "",
        "<p><strong>{}</strong> {}</p>",
        (
            (
                _("Correction, %(date)s:") % {"date": dates.format_date(timezone.localdate(c.created_at), dates.DAY)},
                c.text,
            )
            for c in event.corrections.all()
        ),
    )
    summary = mark_safe(event.summary_html)  # noqa: S308 (sanitised by nh3 when the event was saved)
    return format_html(
        "<p><strong>{}</strong>{}</p>{}{}{}", event.when, where, _lead_picture(event), summary, corrections
    )


def entry_summary(event: Event) -> str:
    """A short plain-text summary, escaped for Atom's `type="html"`."""
    return escape(html_to_plain(event.summary_html, 300))


# --- TimelineJS ----------------------------------------------------------------------------------


def timelinejs_date(moment: datetime.datetime, precision: str, zone: datetime.tzinfo) -> dict[str, Any]:
    """A TimelineJS date object for `moment` known at `precision`, `zone` being the event's display zone.

    YEAR gives {"year"}, MONTH {"year", "month"}, DAY {"year", "month", "day"}; APPROXIMATE gives the
    day with display_date "around 10 Feb 2022"; EXACT gives the local hour and minute in `zone` with
    display_date "7 Feb 2022, 18:30 MSK" (TimelineJS would show the time without its zone). A date
    below the exact precision is read from UTC, where it is stored (see events/dates.py).

    Read back by `date_from_timelinejs`: which keys are present says the precision, a display_date
    starting with "around " says APPROXIMATE."""
    if precision == dates.EXACT:
        local = moment.astimezone(zone)
        return {
            "year": local.year,
            "month": local.month,
            "day": local.day,
            "hour": local.hour,
            "minute": local.minute,
            "display_date": dates.format_moment(moment, precision, zone),
        }
    day = dates.calendar_date(moment, precision)
    if precision == dates.YEAR:
        return {"year": day.year}
    if precision == dates.MONTH:
        return {"year": day.year, "month": day.month}
    value = {"year": day.year, "month": day.month, "day": day.day}
    if precision == dates.APPROXIMATE:
        value["display_date"] = dates.format_date(day, precision)
    return value


APPROXIMATE_PREFIX = "around "


def _part(value: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    raw = value.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise ValueError(_("%(key)s must be a whole number, not %(raw)r") % {"key": key, "raw": raw}) from None
    if not low <= number <= high:
        limits = {"key": key, "low": low, "high": high, "number": number}
        raise ValueError(_("%(key)s must be between %(low)s and %(high)s, not %(number)s") % limits)
    return number


def date_from_timelinejs(value: Mapping[str, Any], zone: datetime.tzinfo) -> tuple[datetime.datetime, str]:
    """The stored instant and precision of a TimelineJS date object (the inverse of `timelinejs_date`).

    Values may be numbers or strings (a spreadsheet's cells); empty strings count as missing. An hour
    makes it EXACT (a local time in `zone`, stored in UTC), a day DAY (APPROXIMATE when display_date
    starts with "around "), a month MONTH, a year alone YEAR. Raises ValueError saying what is wrong."""
    year = _part(value, "year", 1, 9999)
    if year is None:
        raise ValueError(_("a date needs a year"))
    month = _part(value, "month", 1, 12)
    day = _part(value, "day", 1, 31)
    hour = _part(value, "hour", 0, 23)
    minute = _part(value, "minute", 0, 59) or 0
    if day is not None and month is None:
        raise ValueError(_("a day needs a month"))
    if hour is not None and day is None:
        raise ValueError(_("a time needs a day"))
    try:
        calendar_day = datetime.date(year, month or 1, day or 1)
    except ValueError:
        parts = {"year": year, "month": month, "day": day}
        raise ValueError(_("%(year)s-%(month)s-%(day)s is not a date") % parts) from None
    if hour is not None:
        local = datetime.datetime.combine(calendar_day, datetime.time(hour, minute), zone)
        return local.astimezone(datetime.UTC), dates.EXACT
    if day is not None:
        approximate = str(value.get("display_date") or "").strip().lower().startswith(APPROXIMATE_PREFIX)
        precision = dates.APPROXIMATE if approximate else dates.DAY
    else:
        precision = dates.MONTH if month is not None else dates.YEAR
    return dates.anchor(calendar_day, precision), precision


# Links TimelineJS shows itself (a player, a post, an article it knows how to draw). Any other address,
# a news article or a file, it would draw as a broken image: such a link goes out as a quotation card.
# Images elsewhere are not among them: the tracker never hotlinks a third party's pictures.
_TIMELINEJS_SHOWS = re.compile(
    r"^https?://([a-z0-9-]+\.)*(youtube\.com|youtu\.be|vimeo\.com|dailymotion\.com|soundcloud\.com"
    r"|spotify\.com|twitter\.com|instagram\.com|flickr\.com|flic\.kr|wikipedia\.org|documentcloud\.org)/",
    re.IGNORECASE,
)


def absolute_url(url: str) -> str:
    """A storage address as other sites need it: a relative one (the local storage's /media/...) is
    put on SITE_URL; an S3 address is absolute already."""
    return url if urlsplit(url).scheme else settings.SITE_URL + url


def lead_media(event: Event) -> MediaItem | None:
    """The event's first media item by position, whatever its kind: from `timeline_events`' prefetch
    when there is one, else read (one query)."""
    items = getattr(event, "lead_media", None)
    if items is None:
        items = event.media.order_by("position", "id")[:1]
    return next(iter(items), None)


def _image_url(item: MediaItem) -> str:
    # The original (a JPEG, PNG or WebP, stripped of its metadata) unless it is wider than the largest
    # resized copy, which then stands in for it: an embedded timeline need not load 50 megapixels.
    sizes = item.thumbnails()
    if sizes and item.width > THUMBNAIL_WIDTHS[-1]:
        return sizes[-1][0].url
    return item.image.url


def timeline_media(event: Event) -> dict[str, str] | None:
    """The media of an event's slide: its lead item, or None when it has no media.

    An uploaded image gives its absolute URL, its small copy as the thumbnail and its alt text
    (TimelineJS sets the <img>'s alt from `alt`); a link TimelineJS can show gives its address (and
    the thumbnail_url it came with, if any). A document, or a link TimelineJS would draw as a broken
    image (an article, a post on a network it does not know), becomes a quotation card: its title in
    a blockquote, linking to it. Caption and credit are plain text here, escaped for TimelineJS,
    which reads them as HTML."""
    item = lead_media(event)
    if item is None:
        return None
    media: dict[str, str] = {}
    if item.kind == MediaKind.IMAGE:
        media["url"] = absolute_url(_image_url(item))
        if sizes := item.thumbnails():
            media["thumbnail"] = absolute_url(sizes[0][0].url)
        media["alt"] = item.alt_text
    else:
        address = absolute_url(item.document.url) if item.kind == MediaKind.DOCUMENT else item.url
        if item.kind != MediaKind.DOCUMENT and _TIMELINEJS_SHOWS.search(address):
            media["url"] = address
            if item.title:
                media["title"] = item.title
        else:
            quoted = item.title or item.caption or item.outlet or links.host_of(address) or address
            media["url"] = format_html("<blockquote>{}</blockquote>", quoted)
            media["link"] = address
            media["link_target"] = "_blank"
        if item.thumbnail_url:
            media["thumbnail"] = item.thumbnail_url
    if item.caption:
        media["caption"] = str(conditional_escape(item.caption))
    if item.credit:
        media["credit"] = str(conditional_escape(item.credit))
    return media


def timeline_slide(event: Event) -> dict[str, Any]:
    zone = event.display_zone
    slide: dict[str, Any] = {
        "unique_id": event.slug,  # a published event's slug never changes
        "start_date": timelinejs_date(event.start, event.start_precision, zone),
        "text": {"headline": event.title, "text": event.summary_html},
        "group": str(event.get_kind_display()),
    }
    if event.end is not None:
        slide["end_date"] = timelinejs_date(event.end, event.end_precision, zone)
    if media := timeline_media(event):
        slide["media"] = media
    return slide


def _month_after(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def timeline_eras(days: Iterable[datetime.date]) -> list[dict[str, Any]]:
    """One era per calendar month from the first event to the last (per year when that is more than
    ERA_MONTHS_MAX months), each cut to the events' span; none when they all fall in one month."""
    days = sorted(days)
    if not days or (days[0].year, days[0].month) == (days[-1].year, days[-1].month):
        return []
    first, last = days[0], days[-1]
    by_year = (last.year - first.year) * 12 + last.month - first.month + 1 > ERA_MONTHS_MAX
    eras = []
    start = first.replace(month=1, day=1) if by_year else first.replace(day=1)
    while start <= last:
        after = start.replace(year=start.year + 1) if by_year else _month_after(start)
        era_start, era_end = max(start, first), min(after - datetime.timedelta(days=1), last)
        label = str(start.year) if by_year else formats.date_format(start, "F Y")
        eras.append(
            {
                "start_date": {"year": era_start.year, "month": era_start.month, "day": era_start.day},
                "end_date": {"year": era_end.year, "month": era_end.month, "day": era_end.day},
                "text": {"headline": label},
            }
        )
        start = after
    return eras


def timeline_window(story: Story) -> Window:
    """The TIMELINE_EVENTS newest published events (the export's bound)."""
    newest = Event.objects.published().filter(story=story).order_by("-start", "-id")
    return Window(newest[:TIMELINE_EVENTS])


def lead_media_prefetch() -> Prefetch:
    """Each event's first media item only (a window function ranks them): the export reads one row per
    event with media, however many media an event has."""
    ranked = MediaItem.objects.annotate(
        rank=models.Window(RowNumber(), partition_by=F("event_id"), order_by=(F("position").asc(), F("id").asc()))
    )
    return Prefetch("media", queryset=ranked.filter(rank=1), to_attr="lead_media")


def timeline_events(story: Story) -> list[Event]:
    """The events of `timeline_window`, oldest first, each with its lead media item. Two queries."""
    events = list(timeline_window(story).rows.select_related("place").prefetch_related(lead_media_prefetch()))
    events.reverse()
    return events


def story_timeline(story: Story, events: list[Event]) -> dict[str, Any]:
    """The story in TimelineJS's JSON format (https://timeline.knightlab.com/docs/json-format.html)."""
    slides = [timeline_slide(event) for event in events]
    starts = (slide["start_date"] for slide in slides)
    return {
        "title": {"text": {"headline": story.title, "text": story.summary_html}},
        "events": slides,
        "eras": timeline_eras(datetime.date(d["year"], d.get("month", 1), d.get("day", 1)) for d in starts),
    }


# --- iCalendar -----------------------------------------------------------------------------------


def calendar_windows(story: Story, *, now: datetime.datetime) -> list[Window]:
    """Published events ahead of `now` (the next CALENDAR_UPCOMING), the scheduled ones of the past
    CALENDAR_PAST_DAYS days (the latest CALENDAR_RECENT), and the open expectations with a due date
    from CALENDAR_PAST_DAYS days ago on (the first CALENDAR_UPCOMING by due date)."""
    published = Event.objects.published().filter(story=story)
    past = now - datetime.timedelta(days=CALENDAR_PAST_DAYS)
    since = timezone.localdate(now) - datetime.timedelta(days=CALENDAR_PAST_DAYS)
    return [
        Window(published.filter(start__gte=now).order_by("start", "id")[:CALENDAR_UPCOMING]),
        Window(
            published.filter(status=Event.Status.SCHEDULED, start__lt=now, start__gte=past).order_by("-start", "-id")[
                :CALENDAR_RECENT
            ]
        ),
        Window(
            Expectation.objects.filter(story=story, due_on__gte=since)
            .open()
            .order_by("due_on", "id")[:CALENDAR_UPCOMING]
        ),
    ]


def calendar_entries(story: Story, *, now: datetime.datetime) -> tuple[list[Event], list[Expectation]]:
    """The events (by date) and expectations (by due date) of `calendar_windows`. Three queries."""
    upcoming, recent, expected = calendar_windows(story, now=now)
    events = [*upcoming.rows.select_related("place"), *recent.rows.select_related("place")]
    events.sort(key=lambda event: (event.start, event.pk))
    return events, list(expected.rows.select_related("place"))


_ICAL_STATUS = {
    Event.Status.SCHEDULED: "CONFIRMED",
    Event.Status.HAPPENED: "CONFIRMED",
    Event.Status.POSTPONED: "TENTATIVE",
    Event.Status.CANCELLED: "CANCELLED",
}


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _when(
    entry: icalendar.Event, start: datetime.datetime, precision: str, end: datetime.datetime | None, end_precision: str
) -> None:
    """An exact time in UTC; anything less precise an all-day entry on its day (a month, a year or an
    approximate date on its anchor day, the precision being said in the title)."""
    if precision == dates.EXACT:
        entry.add("dtstart", start.astimezone(datetime.UTC))
        if end is not None and end_precision == dates.EXACT:
            entry.add("dtend", end.astimezone(datetime.UTC))
        return
    first = dates.calendar_date(start, precision)
    last = dates.calendar_date(end, end_precision) if end is not None and end_precision == dates.DAY else first
    entry.add("dtstart", first)
    entry.add("dtend", max(first, last) + datetime.timedelta(days=1))  # DTEND of a day is exclusive


def _titled(title: str, moment: datetime.date, precision: str) -> str:
    if precision in (dates.MONTH, dates.YEAR, dates.APPROXIMATE):
        return f"{title} ({dates.format_date(moment, precision)})"
    return title


def _common(entry: icalendar.Event, *, uid: str, record: Event | Expectation, url: str, description: str) -> None:
    entry.add("uid", uid)
    entry.add("sequence", record.version)  # bumped on every change: a subscribed calendar updates it
    # The time the entry last changed, not the time of the request, so an unchanged calendar is the
    # same bytes.
    entry.add("dtstamp", record.updated_at.astimezone(datetime.UTC))
    entry.add("last-modified", record.updated_at.astimezone(datetime.UTC))
    entry.add("created", record.created_at.astimezone(datetime.UTC))
    entry.add("url", url)
    if description:
        entry.add("description", description)
    if record.place_id:
        entry.add("location", str(record.place))


def story_calendar(story: Story, events: list[Event], expectations: list[Expectation]) -> bytes:
    """The story's scheduled events and pending expectations as an iCalendar (RFC 5545). UIDs are
    event-<pk>@<host> and expectation-<pk>@<host> (SITE_URL's host), SEQUENCE the record's version."""
    host, site = _host(), settings.SITE_URL
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//Story Tracker//{host}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", story.title)
    calendar.add("x-wr-caldesc", html_to_plain(story.summary_html, 500))
    for event in events:
        entry = icalendar.Event()
        day = dates.calendar_date(event.start, event.start_precision)
        entry.add("summary", _titled(event.title, day, event.start_precision))
        _when(entry, event.start, event.start_precision, event.end, event.end_precision)
        entry.add("status", _ICAL_STATUS.get(event.status, "CONFIRMED"))
        entry.add("categories", [str(event.get_kind_display())])
        _common(
            entry,
            uid=f"event-{event.pk}@{host}",
            record=event,
            url=site + event.get_absolute_url(),
            description=html_to_plain(event.summary_html, 2000),
        )
        calendar.add_component(entry)
    for expectation in expectations:
        entry = icalendar.Event()
        title = _("Expected: %(title)s") % {"title": expectation.title}
        entry.add("summary", _titled(title, expectation.due_on, expectation.due_precision))
        entry.add("dtstart", expectation.due_on)
        entry.add("dtend", expectation.due_on + datetime.timedelta(days=1))
        entry.add("status", "TENTATIVE")
        entry.add("transp", "TRANSPARENT")  # a date to watch, not time taken
        due_by = ""
        if expectation.latest_on:
            due_by = _("Due by %(date)s.") % {"date": dates.format_date(expectation.latest_on, dates.DAY)}
        _common(
            entry,
            uid=f"expectation-{expectation.pk}@{host}",
            record=expectation,
            url=site + story.get_absolute_url(),
            description=" ".join(filter(None, [expectation.description, due_by])),
        )
        calendar.add_component(entry)
    return calendar.to_ical()
