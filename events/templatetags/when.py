"""Dates in the reader's language (events.dates): {{ value|day }}, {{ value|long_day }},
{{ value|weekday }}, {{ value|local }}. Django's |date takes a format of its own per language; these
take CLDR's, which also knows a month alone, a weekday's form and how a date meets a time."""

import datetime

from django import template

from events import dates

register = template.Library()


def _date_of(value: datetime.date | datetime.datetime) -> datetime.date:
    # A datetime is a moment: its day is the one in the site's zone.
    if isinstance(value, datetime.datetime):
        return dates.timezone.localtime(value).date()
    return value


@register.filter
def day(value: datetime.date | datetime.datetime | None) -> str:
    return dates.format_day(_date_of(value)) if value else ""


@register.filter
def long_day(value: datetime.date | datetime.datetime | None) -> str:
    return dates.format_long_day(_date_of(value)) if value else ""


@register.filter
def weekday(value: datetime.date | datetime.datetime | None) -> str:
    return dates.format_weekday(_date_of(value)) if value else ""


@register.filter
def local(value: datetime.datetime | None) -> str:
    return dates.format_local(value) if value else ""
