"""Keyset pagination for the API's lists, never OFFSET: a page after another costs what the first costs.

A list is ordered by one field and then by id, nulls last. The cursor (`after=`) is the last item's
`value~id`, or `~id` once the list has reached the items without a value; a list ordered by a unique
field (a slug) needs only the value. The timeline's events use the timeline's own cursor instead
(events.selectors.Cursor).
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, Model, Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _
from ninja import Field, Schema

from .errors import InvalidParameters

MAX_LIMIT = 100
MAX_ID = 2**63 - 1  # PostgreSQL's bigint: a cursor naming a larger id was not written here
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


class ListQuery(Schema):
    after: str | None = Field(None, max_length=100, description="The cursor of the next page, from `next`.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="How many items a page holds.")


def _bad_cursor() -> InvalidParameters:
    return InvalidParameters({"after": [_("This link to the next page is damaged. Start again from the first page.")]})


def parse_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise ValueError(raw)
    return int(raw)


def format_time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime(_TIME)


def parse_time(raw: str) -> datetime.datetime:
    return datetime.datetime.strptime(raw, _TIME).replace(tzinfo=datetime.UTC)


def parse_date(raw: str) -> datetime.date:
    return datetime.date.fromisoformat(raw)


def parse_slug(raw: str) -> str:
    if not _SLUG.fullmatch(raw):
        raise ValueError(raw)
    return raw


@dataclass(frozen=True)
class Ordering:
    """How a list is ordered: by `field` (ascending or not, nulls last), then by id the same way."""

    field: str
    descending: bool
    parse: Callable[[str], object]
    format: Callable[[object], str]
    unique: bool = False

    def apply(self, queryset: QuerySet) -> QuerySet:
        direction = "desc" if self.descending else "asc"
        keys = [getattr(F(self.field), direction)(nulls_last=True)]
        if not self.unique:
            keys.append("-id" if self.descending else "id")
        return queryset.order_by(*keys)

    def cursor_of(self, item: Model) -> str:
        value = getattr(item, self.field)
        if self.unique:
            return self.format(value)
        return f"{'' if value is None else self.format(value)}~{item.pk}"

    def after(self, queryset: QuerySet, cursor: str) -> QuerySet:
        """The items after `cursor`; raises InvalidParameters for one this module did not write."""
        beyond = "lt" if self.descending else "gt"
        try:
            if self.unique:
                return queryset.filter(**{f"{self.field}__{beyond}": self.parse(cursor)})
            raw_value, raw_id = cursor.split("~")
            pk = parse_id(raw_id)
            if raw_value == "":
                return queryset.filter(**{f"{self.field}__isnull": True, f"id__{beyond}": pk})
            value = self.parse(raw_value)
        except (ValueError, OverflowError):
            raise _bad_cursor() from None
        return queryset.filter(
            Q(**{f"{self.field}__{beyond}": value})
            | Q(**{self.field: value, f"id__{beyond}": pk})
            | Q(**{f"{self.field}__isnull": True})
        )


def page(queryset: QuerySet, ordering: Ordering, *, after: str | None, limit: int) -> tuple[list, str | None]:
    """One page of `queryset` in `ordering`'s order, and the cursor of the next (None on the last)."""
    queryset = ordering.apply(queryset)
    if after:
        queryset = ordering.after(queryset, after)
    items = list(queryset[: limit + 1])
    if len(items) <= limit:
        return items, None
    return items[:limit], ordering.cursor_of(items[limit - 1])


def next_link(request: HttpRequest, cursor: object | None) -> str | None:
    """This request's URL with `after=` the given cursor: the link to the next page."""
    if cursor is None:
        return None
    query: QueryDict = request.GET.copy()
    query["after"] = str(cursor)
    return f"{request.path}?{query.urlencode()}"
