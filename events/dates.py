"""Dates that carry their precision, and how readers see them.

A time is stored in UTC and shown in the zone of the place it happened (else the site's zone), at the
precision it is known: "7 Feb 2022, 18:00 MSK", "7 Feb 2022", "Feb 2022", "2022", "around 10 Feb 2022".
A date known only to the day, month or roughly is a calendar date, not an instant: it is stored at noon
UTC on that day (the first of the month for a month) and read back from UTC, so it never slips to a
neighbouring day whatever zone it is shown in.
"""

import calendar
import datetime
import zoneinfo

from django.utils import timezone

EXACT, DAY, MONTH, YEAR, APPROXIMATE = "exact", "day", "month", "year", "approximate"

# How long after an approximate due date an expectation still counts as on time.
APPROXIMATE_GRACE = datetime.timedelta(days=7)


def zone_for(name: str | None) -> zoneinfo.ZoneInfo:
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


def _day(value: datetime.date) -> str:
    return f"{value.day} {value:%b %Y}"


def format_date(value: datetime.date, precision: str) -> str:
    if precision == YEAR:
        return str(value.year)
    if precision == MONTH:
        return f"{value:%b %Y}"
    if precision == APPROXIMATE:
        return f"around {_day(value)}"
    return _day(value)


def calendar_date(value: datetime.datetime, precision: str, zone: datetime.tzinfo | None = None) -> datetime.date:
    """The day a reader sees for `value`: local for an exact time, the stored calendar date otherwise."""
    if precision == EXACT:
        return value.astimezone(zone or timezone.get_default_timezone()).date()
    return value.astimezone(datetime.UTC).date()


def format_moment(value: datetime.datetime, precision: str, zone: datetime.tzinfo | None = None) -> str:
    if precision == EXACT:
        local = value.astimezone(zone or timezone.get_default_timezone())
        return f"{_day(local)}, {local:%H:%M} {local.tzname()}"
    return format_date(calendar_date(value, precision), precision)


def format_span(
    start: datetime.datetime,
    start_precision: str,
    end: datetime.datetime | None,
    end_precision: str,
    zone: datetime.tzinfo | None = None,
) -> str:
    first = format_moment(start, start_precision, zone)
    if end is None:
        return first
    zone = zone or timezone.get_default_timezone()
    same_day = calendar_date(start, start_precision, zone) == calendar_date(end, end_precision, zone)
    if same_day and start_precision == end_precision == EXACT:
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        return f"{_day(local_start)}, {local_start:%H:%M}–{local_end:%H:%M} {local_end.tzname()}"
    if same_day:
        return first
    return f"{first} – {format_moment(end, end_precision, zone)}"


def anchor(day: datetime.date, precision: str) -> datetime.datetime:
    """The stored instant of a date known only at `precision` (an exact time is stored as it is)."""
    if precision == YEAR:
        day = day.replace(month=1, day=1)
    elif precision == MONTH:
        day = day.replace(day=1)
    return datetime.datetime.combine(day, datetime.time(12, 0), datetime.UTC)


def window_end(due_on: datetime.date, precision: str) -> datetime.date:
    """The last date on which something due on `due_on` (at `precision`) is still on time."""
    if precision == YEAR:
        return due_on.replace(month=12, day=31)
    if precision == MONTH:
        return due_on.replace(day=calendar.monthrange(due_on.year, due_on.month)[1])
    if precision == APPROXIMATE:
        return due_on + APPROXIMATE_GRACE
    return due_on
