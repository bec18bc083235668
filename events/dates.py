"""Dates that carry their precision, and how readers see them.

A time is stored in UTC and shown in the zone of the place it happened (else the site's zone), at the
precision it is known: "7 Feb 2022, 18:00 MSK", "7 Feb 2022", "Feb 2022", "2022", "around 10 Feb 2022",
in the active language's own way (CLDR's patterns through Babel: "7 févr. 2022", "7. Feb. 2022",
"лют. 2022 р."), which Django's formats do not give for a month alone or a day with a weekday.
A date known only to the day, month or roughly is a calendar date, not an instant: it is stored at noon
UTC on that day (the first of the month for a month) and read back from UTC, so it never slips to a
neighbouring day whatever zone it is shown in.
"""

import calendar
import datetime
import functools
import zoneinfo

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_skeleton
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

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


@functools.cache
def _locale_of(language: str) -> Locale:
    return Locale.parse(translation.to_locale(language))


def _locale() -> Locale:
    return _locale_of(translation.get_language() or settings.LANGUAGE_CODE)


def _day(value: datetime.date) -> str:
    return format_skeleton("yMMMd", value, locale=_locale())


def _time(value: datetime.datetime) -> str:
    return format_skeleton("Hm", value, locale=_locale())


def _date_and_time(day: str, time: str) -> str:
    """The language's way of joining a date and a time ("{1}, {0}" in CLDR's terms)."""
    return _locale().datetime_formats["medium"].replace("{1}", day).replace("{0}", time)


def format_day(value: datetime.date) -> str:
    """7 Feb 2022 (7 févr. 2022, 7. Feb. 2022, 7 лют. 2022 р.)."""
    return _day(value)


def format_long_day(value: datetime.date) -> str:
    """7 February 2022."""
    return format_skeleton("yMMMMd", value, locale=_locale())


def format_weekday(value: datetime.date) -> str:
    """Monday, 7 February 2022 (a timeline's day heading)."""
    return babel_date(value, "full", locale=_locale())


def format_local(value: datetime.datetime, zone: datetime.tzinfo | None = None) -> str:
    """7 Feb 2022, 18:00 in the site's zone (or `zone`): when something was done, on the desk and in emails."""
    local = timezone.localtime(value, zone)
    return _date_and_time(_day(local), _time(local))


def format_date(value: datetime.date, precision: str) -> str:
    if precision == YEAR:
        return format_skeleton("y", value, locale=_locale())
    if precision == MONTH:
        return format_skeleton("yMMM", value, locale=_locale())
    if precision == APPROXIMATE:
        return _("around %(date)s") % {"date": _day(value)}
    return _day(value)


def calendar_date(value: datetime.datetime, precision: str, zone: datetime.tzinfo | None = None) -> datetime.date:
    """The day a reader sees for `value`: local for an exact time, the stored calendar date otherwise."""
    if precision == EXACT:
        return value.astimezone(zone or timezone.get_default_timezone()).date()
    return value.astimezone(datetime.UTC).date()


def format_moment(value: datetime.datetime, precision: str, zone: datetime.tzinfo | None = None) -> str:
    if precision == EXACT:
        local = value.astimezone(zone or timezone.get_default_timezone())
        return f"{_date_and_time(_day(local), _time(local))} {local.tzname()}"
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
        hours = f"{_time(local_start)}–{_time(local_end)}"
        return f"{_date_and_time(_day(local_start), hours)} {local_end.tzname()}"
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
