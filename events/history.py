"""Reading the history of events and expectations (django-simple-history) as editors know it.

A change is shown with the field's label (the desk form's word, else its verbose name), and values as
an editor would read them: a choice's label, a related record's name, a date at its precision. The same
diff serves the history page (consecutive versions, or any two side by side) and the refusal of a stale
save ("since you opened it, Title became ...").

The history page diffs fifty pairs at once: `diff_pairs` compares them without a query each (the
historical relations come prefetched with `history_prefetches`) and fetches the names of every related
record the page mentions in one query per model, so the page's cost does not grow with its versions.
"""

import datetime
import difflib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Prefetch
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import dates

# Bookkeeping that changes with every save and means nothing to an editor.
NOT_SHOWN = {"id", "version", "created_at", "updated_at", "summary_html", "created_by", "_loaded_window"}

# What a change is labelled with.
LABELS = {
    # The fields' own verbose names, which the models leave to Django (so they are not translated).
    "story": gettext_lazy("Story"),
    "kind": gettext_lazy("Kind"),
    "title": gettext_lazy("Title"),
    "slug": gettext_lazy("Slug"),
    "summary": gettext_lazy("Summary"),
    "description": gettext_lazy("Description"),
    "place": gettext_lazy("Place"),
    "forum": gettext_lazy("Forum"),
    "status": gettext_lazy("Status"),
    "publication": gettext_lazy("Publication"),
    "topics": gettext_lazy("Topics"),
    "expected_actors": gettext_lazy("Expected actors"),
    # Where the desk's forms name a field otherwise than its verbose name, editors know the form's word.
    "start": gettext_lazy("Date"),
    "start_precision": gettext_lazy("Date precision"),
    "end": gettext_lazy("End"),
    "end_precision": gettext_lazy("End precision"),
    "published_at": gettext_lazy("Publication time"),
    "due_on": gettext_lazy("Due date"),
    "due_precision": gettext_lazy("Due date precision"),
    "latest_on": gettext_lazy("Latest acceptable date"),
    "raised_by": gettext_lazy("Raised by"),
    "fulfilled_by": gettext_lazy("Fulfilled by"),
    "flagged_overdue_at": gettext_lazy("Flagged overdue"),
    "overdue_announced_at": gettext_lazy("Editors told it is overdue"),
    "reviewed_at": gettext_lazy("Reviewed"),
    "resolved_at": gettext_lazy("Resolved"),
    "status_reason": gettext_lazy("Reason for the status"),
}

# A date is shown at the precision its record gives it.
PRECISION_OF = {"start": "start_precision", "end": "end_precision", "due_on": "due_precision"}

# An event's times are shown in its place's zone, as readers see them; bookkeeping times in the site's.
_LOCAL_TIMES = {"start", "end"}

EMPTY = "—"


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str
    # A long text (a summary, a description): shown as a line-by-line diff rather than old → new.
    is_text: bool = False

    @property
    def lines(self) -> list[tuple[str, str]]:
        """The text's lines, each marked "same", "removed" or "added", in reading order."""
        old = [] if self.old == EMPTY else self.old.splitlines()
        new = [] if self.new == EMPTY else self.new.splitlines()
        marked: list[tuple[str, str]] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
            if op == "equal":
                marked += [("same", line) for line in old[i1:i2]]
                continue
            marked += [("removed", line) for line in old[i1:i2]]
            marked += [("added", line) for line in new[j1:j2]]
        return marked


def label_for(field: models.Field) -> str:
    return str(LABELS.get(field.name, "")) or str(field.verbose_name).capitalize()


def history_prefetches(model: type[models.Model]) -> list[Prefetch]:
    """What a historical queryset of `model` needs prefetched for `diff` to run without queries."""
    historical = model.history.model
    prefetches = []
    for field in historical._history_m2m_fields:
        m2m_model = historical.__dict__[field.name].model
        accessor = next(
            rel.get_accessor_name() for rel in historical._meta.related_objects if rel.related_model is m2m_model
        )
        prefetches.append(Prefetch(accessor, to_attr=_prefetched(field.name)))
    return prefetches


def _prefetched(name: str) -> str:
    return f"_history_{name}"


def _m2m_ids(record: Any, field: models.ManyToManyField) -> list[int]:
    column = f"{field.m2m_reverse_field_name()}_id"
    rows = getattr(record, _prefetched(field.name), None)
    if rows is None:
        rows = getattr(record, field.name).all()
    return sorted(getattr(row, column) for row in rows)


def _diffed_fields(historical: Any) -> list[models.Field]:
    model = historical.instance_type
    tracked = {f.name for f in historical.tracked_fields} | {f.name for f in historical._history_m2m_fields}
    return [
        f
        for f in model._meta.get_fields()
        if f.name in tracked and f.name not in NOT_SHOWN and getattr(f, "editable", False)
    ]


def _value(record: Any, field: models.Field) -> Any:
    if isinstance(field, models.ManyToManyField):
        return _m2m_ids(record, field)
    return getattr(record, field.attname)


class _Names:
    """The names of related records a page of diffs mentions, fetched once per model."""

    def __init__(self) -> None:
        self.wanted: dict[type[models.Model], set[int]] = defaultdict(set)
        self.found: dict[type[models.Model], dict[int, models.Model]] = {}

    def want(self, model: type[models.Model], ids: Iterable[int | None]) -> None:
        self.wanted[model].update(pk for pk in ids if pk is not None)

    def fetch(self) -> None:
        for model, ids in self.wanted.items():
            self.found[model] = model._default_manager.in_bulk(ids) if ids else {}

    def get(self, model: type[models.Model], pk: int | None) -> models.Model | None:
        return self.found.get(model, {}).get(pk)


@dataclass(frozen=True)
class _RawChange:
    field: models.Field
    old_record: Any
    new_record: Any
    old: Any
    new: Any


def _raw_changes(old: Any, new: Any) -> list[_RawChange]:
    changes = []
    for field in _diffed_fields(new):
        old_value, new_value = _value(old, field), _value(new, field)
        if old_value != new_value:
            changes.append(_RawChange(field, old, new, old_value, new_value))
    return changes


def _zone(record: Any, names: _Names) -> datetime.tzinfo:
    place = names.get(record.instance_type._meta.get_field("place").related_model, record.place_id)
    return dates.zone_for(place.time_zone if place is not None else "")


def _display(field: models.Field, record: Any, value: Any, names: _Names) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(field, models.ManyToManyField):
        related = [names.get(field.related_model, pk) for pk in value]
        return ", ".join(sorted(str(r) for r in related if r is not None)) or _("(deleted)")
    if field.is_relation:
        related = names.get(field.related_model, value)
        return str(related) if related is not None else _("(deleted)")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    precision = getattr(record, PRECISION_OF[field.name]) if field.name in PRECISION_OF else dates.EXACT
    if isinstance(value, datetime.datetime):
        zone = _zone(record, names) if field.name in _LOCAL_TIMES else None
        return dates.format_moment(value, precision, zone)
    if isinstance(value, datetime.date):
        return dates.format_date(value, precision if field.name in PRECISION_OF else dates.DAY)
    return str(value)


def diff_pairs(pairs: Sequence[tuple[Any, Any]]) -> list[list[FieldChange]]:
    """What changed in each (older, newer) pair of historical records, in form order.

    The related records named anywhere in the pairs are fetched in one query per model."""
    raw = [_raw_changes(old, new) for old, new in pairs]
    names = _Names()
    for (old, new), changes in zip(pairs, raw, strict=True):
        if any(c.field.name in _LOCAL_TIMES for c in changes):
            names.want(new.instance_type._meta.get_field("place").related_model, [old.place_id, new.place_id])
        for change in changes:
            if isinstance(change.field, models.ManyToManyField):
                names.want(change.field.related_model, [*change.old, *change.new])
            elif change.field.is_relation:
                names.want(change.field.related_model, [change.old, change.new])
    names.fetch()
    return [
        [
            FieldChange(
                field=c.field.name,
                label=label_for(c.field),
                old=_display(c.field, c.old_record, c.old, names),
                new=_display(c.field, c.new_record, c.new, names),
                is_text=isinstance(c.field, models.TextField),
            )
            for c in changes
        ]
        for changes in raw
    ]


def diff(old: Any, new: Any) -> list[FieldChange]:
    """What changed from historical record `old` to historical record `new`, in form order."""
    return diff_pairs([(old, new)])[0]


def ordered_history(record: models.Model) -> models.QuerySet:
    """`record`'s historical records, newest first (the id breaks ties within one instant)."""
    return record.history.order_by("-history_date", "-history_id")


def changes_since(record: models.Model, version: int) -> list[FieldChange]:
    """What others changed in `record` since an editor loaded `version` of it (newest saved state)."""
    history = ordered_history(record)
    newest = history.first()
    loaded = history.filter(version=version).first()
    if newest is None or loaded is None or newest.pk == loaded.pk:
        return []
    return diff(loaded, newest)


# --- The history page ----------------------------------------------------------------------------


def author(historical: Any) -> str:
    """Who made a version: the editor, else the scheduled check or the system."""
    user = historical.history_user
    if user is not None:
        return user.get_full_name() or user.get_username()
    if "scheduled check" in (historical.history_change_reason or ""):
        return _("the scheduled check")
    return _("the system")


@dataclass(frozen=True)
class Version:
    record: Any
    changes: list[FieldChange]
    # The first version there is, or a version whose predecessor was not kept.
    is_first: bool
    is_current: bool

    @property
    def number(self) -> int:
        return self.record.version

    @property
    def history_id(self) -> int:
        return self.record.history_id

    @property
    def author(self) -> str:
        return author(self.record)

    @property
    def when(self) -> str:
        # To the second: an edit and the relation change that follows it are often the same minute.
        local = timezone.localtime(self.record.history_date)
        return dateformat.format(local, "j M Y, H:i:s T")


@dataclass(frozen=True)
class HistoryPage:
    page: Page
    versions: list[Version]


def history_page(record: models.Model, *, number: Any = 1, size: int = 50) -> HistoryPage:
    """One page of `record`'s versions, newest first, each with what changed from the one before.

    Fixed cost whatever the number of versions: a count, one query for the page's versions and the one
    before its oldest (with their editors), one per historical relation, one per related model named."""
    history = ordered_history(record)
    page = Paginator(history, size).get_page(number)
    start = page.start_index() - 1 if page.paginator.count else 0
    rows = list(
        history.select_related("history_user").prefetch_related(*history_prefetches(type(record)))[
            start : start + size + 1
        ]
    )
    shown, before = rows[:size], rows[1:]
    pairs = [(older, newer) for newer, older in zip(shown, before, strict=False)]
    changes = diff_pairs(pairs)
    versions = [
        Version(
            record=row,
            changes=changes[i] if i < len(pairs) else [],
            is_first=i >= len(pairs),
            is_current=start + i == 0,
        )
        for i, row in enumerate(shown)
    ]
    return HistoryPage(page=page, versions=versions)


def versions_of(record: models.Model, history_ids: Iterable[int]) -> dict[int, Any]:
    """These versions of `record` (by history id), ready to diff; ids of other records are left out."""
    rows = ordered_history(record).filter(history_id__in=list(history_ids))
    return {
        row.history_id: row
        for row in rows.select_related("history_user").prefetch_related(*history_prefetches(type(record)))
    }
