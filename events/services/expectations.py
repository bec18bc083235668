"""Expectations' life: raised by an editor (or with the event that raised it), edited, fulfilled by a
later event of the story, extended, cancelled or superseded, flagged overdue by the scheduled check and
announced to editors, reviewed by an editor.

Every change an editor makes is recorded in history with who made it (`set_history_user`) and, for a
transition, why (`_change_reason`); the reason an editor gives is kept in `status_reason` too. An
action taken from a page names the version the editor loaded (`expected_version`), so acting on an
expectation someone else changed meanwhile is refused by `lock_for_edit`.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from .. import dates
from ..bulk import among, among_selected, history_insert_sql, history_params, m2m_history_insert_sql, record_history
from ..models import Actor, DatePrecision, Event, Expectation, Place, Story, Topic, UnannouncedOverdue
from .base import ApplicationError, lock_for_edit, set_history_user, unique_slug

# django-simple-history's change reason is a 100-character column; the whole reason is in status_reason.
CHANGE_REASON_LENGTH = 100


def _change_reason(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(CHANGE_REASON_LENGTH)


def _lock_open(expectation: Expectation, expected_version: int | None, refusal: str) -> Expectation:
    """The expectation locked at `expected_version`, refused with `refusal` (which may name its
    %(title)s and %(status)s) unless it is still open."""
    current = lock_for_edit(Expectation, expectation.pk, expected_version)
    if current.status not in Expectation.OPEN_STATUSES:
        raise ApplicationError(refusal % {"title": current.title, "status": current.get_status_display().lower()})
    return current


def _write_m2m_unrecorded(expectation: Expectation, relations: dict[str, Iterable[Any]]) -> None:
    """Set many-to-many relations without a history entry for each: the save that follows (or
    preceded, on creation) records them with the fields, as one change."""
    expectation.skip_history_when_saving = True
    try:
        for name, values in relations.items():
            getattr(expectation, name).set(values)
    finally:
        del expectation.skip_history_when_saving


@transaction.atomic
def raise_expectation(
    *,
    story: Story,
    title: str,
    description: str = "",
    raised_by: Event | None = None,
    expected_actors: Iterable[Actor] = (),
    place: Place | None = None,
    topics: Iterable[Topic] = (),
    due_on: datetime.date | None = None,
    due_precision: str = DatePrecision.DAY,
    latest_on: datetime.date | None = None,
    by: AbstractBaseUser | None = None,
) -> Expectation:
    """Record something expected next. No `due_on`: open-ended, never overdue; no `latest_on`: it
    follows from the due date and its precision. An editor raising it has reviewed it.

    Raises ApplicationError when the raising event is of another story, ValidationError when the
    due window does not hold together."""
    if raised_by is not None and raised_by.story_id != story.pk:
        raise ApplicationError(_("The event that raised an expectation must be of the same story."))
    expectation = Expectation(
        story=story,
        title=title,
        slug=unique_slug(Expectation, title, max_length=250),
        description=description,
        raised_by=raised_by,
        place=place,
        due_on=due_on,
        due_precision=due_precision,
        latest_on=latest_on,
        reviewed_at=timezone.now(),
    )
    expectation.full_clean()
    expectation._change_reason = _("Raised")
    set_history_user(expectation, by)
    expectation.save()
    _write_m2m_unrecorded(expectation, {"expected_actors": list(expected_actors), "topics": list(topics)})
    # The creation's history entry was written before its actors were set: give it them (as the
    # history would have copied them), so that the first version in history is the one raised.
    created = expectation.history.get()
    recorded = created.expected_actors.model
    recorded.objects.bulk_create(
        recorded(history=created, id=row.pk, expectation_id=row.expectation_id, actor_id=row.actor_id)
        for row in Expectation.expected_actors.through.objects.filter(expectation=expectation)
    )
    return expectation


# What an editor may change with update_expectation; status moves only through the transitions below.
EDITABLE = (
    "story",
    "title",
    "description",
    "raised_by",
    "expected_actors",
    "place",
    "topics",
    "due_on",
    "due_precision",
    "latest_on",
)
_M2M = ("expected_actors", "topics")


@transaction.atomic
def update_expectation(
    *, expectation: Expectation, expected_version: int, by: AbstractBaseUser | None = None, **changes: Any
) -> Expectation:
    """Apply an editor's changes (fields of EDITABLE), refusing them if the expectation changed since
    `expected_version`. One history entry, relations included; saving it counts as reviewing it."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    current = lock_for_edit(Expectation, expectation.pk, expected_version)
    for field, value in changes.items():
        if field not in _M2M:
            setattr(current, field, value)
    raised_by = current.raised_by
    if raised_by is not None and raised_by.story_id != current.story_id:
        raise ApplicationError(_("The event that raised an expectation must be of the same story."))
    current.full_clean()
    _write_m2m_unrecorded(current, {name: changes[name] for name in _M2M if name in changes})
    current.reviewed_at = timezone.now()
    current.version += 1
    current._change_reason = _("Edited")
    set_history_user(current, by)
    current.save()
    return current


@transaction.atomic
def fulfil_expectation(
    *,
    expectation: Expectation,
    event: Event,
    by: AbstractBaseUser | None = None,
    expected_version: int | None = None,
) -> Expectation:
    """Link an open expectation to the event of its story that fulfilled it. Fulfilling it again with
    the same event is harmless (a double submit); with another event it is refused, as is an event
    of another story or a cancelled or superseded expectation."""
    current = Expectation.objects.select_for_update().get(pk=expectation.pk)
    if current.status == Expectation.Status.FULFILLED and current.fulfilled_by_id == event.pk:
        return current
    refusal = _("“%(title)s” is %(status)s; only a pending or overdue expectation can be fulfilled.")
    current = _lock_open(current, expected_version, refusal)
    if not current.can_be_fulfilled_by(event):
        raise ApplicationError(_(Expectation.FOREIGN_FULFILMENT))
    current.status = Expectation.Status.FULFILLED
    current.fulfilled_by = event
    current.resolved_at = timezone.now()
    current.reviewed_at = current.resolved_at
    current.version += 1
    current._change_reason = _change_reason(_("Fulfilled by “%(event)s”") % {"event": event.title})
    set_history_user(current, by)
    current.save()
    return current


@transaction.atomic
def extend_expectation(
    *,
    expectation: Expectation,
    due_on: datetime.date,
    due_precision: str,
    latest_on: datetime.date | None = None,
    reason: str,
    by: AbstractBaseUser | None = None,
    expected_version: int | None,
) -> Expectation:
    """Give an open expectation a later due window, saying why (kept in `status_reason`).

    `latest_on=None` lets the window follow from the due date and its precision. The new window must
    end no earlier than the old one and differ from it. An overdue expectation whose new window has not
    passed is pending again, its flag and announcement cleared so the check may flag it anew."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError(_("Give the reason for the new due date."))
    refusal = _("“%(title)s” is %(status)s; only a pending or overdue expectation can be extended.")
    current = _lock_open(expectation, expected_version, refusal)
    if latest_on is not None and latest_on < due_on:
        raise ApplicationError(_("The latest acceptable date cannot be before the due date."))
    new_end = latest_on or dates.window_end(due_on, due_precision)
    old_display = current.due_display
    if current.latest_on and new_end < current.latest_on:
        raise ApplicationError(
            _(
                "An extension gives more time: the new window ends on %(new)s, before the current one "
                "(%(old)s). To bring the date forward, edit the expectation."
            )
            % {
                "new": dates.format_date(new_end, DatePrecision.DAY),
                "old": dates.format_date(current.latest_on, DatePrecision.DAY),
            }
        )
    if (current.due_on, current.due_precision, current.latest_on) == (due_on, due_precision, new_end):
        raise ApplicationError(_("The new due date is the one it already has (%(due)s).") % {"due": old_display})
    current.due_on, current.due_precision, current.latest_on = due_on, due_precision, latest_on
    current.derive_latest_on()
    if current.status == Expectation.Status.OVERDUE and not current.is_overdue_on(timezone.localdate()):
        current.status = Expectation.Status.PENDING
        current.flagged_overdue_at = None
        current.overdue_announced_at = None
        # Not to be announced as overdue now (the job queues it again if it is flagged anew).
        UnannouncedOverdue.objects.filter(expectation=current).delete()
    current.status_reason = reason
    current.reviewed_at = timezone.now()
    current.version += 1
    current._change_reason = _change_reason(
        _("Extended from %(old)s to %(new)s: %(reason)s")
        % {"old": old_display, "new": current.due_display, "reason": reason}
    )
    set_history_user(current, by)
    current.full_clean()
    current.save()
    return current


@transaction.atomic
def cancel_expectation(
    *,
    expectation: Expectation,
    by: AbstractBaseUser | None = None,
    superseded: bool = False,
    reason: str = "",
    expected_version: int | None = None,
) -> Expectation:
    """Close an open expectation that will not happen (cancelled) or that a newer one replaces
    (superseded), with the editor's reason. Repeating the same decision is harmless."""
    target = Expectation.Status.SUPERSEDED if superseded else Expectation.Status.CANCELLED
    current = Expectation.objects.select_for_update().get(pk=expectation.pk)
    if current.status == target:
        return current
    current = _lock_open(current, expected_version, _("“%(title)s” is already %(status)s."))
    reason = reason.strip()
    current.status = target
    current.status_reason = reason
    current.resolved_at = timezone.now()
    current.reviewed_at = current.resolved_at
    current.version += 1
    if superseded:
        verdict = _("Superseded: %(reason)s") % {"reason": reason} if reason else _("Superseded")
    else:
        verdict = _("Cancelled: %(reason)s") % {"reason": reason} if reason else _("Cancelled")
    current._change_reason = _change_reason(verdict)
    set_history_user(current, by)
    current.save()
    return current


@transaction.atomic
def mark_reviewed(*, expectations: QuerySet, by: AbstractBaseUser | None = None) -> int:
    """An editor has looked at these expectations. Each is a change like any other: recorded in
    history, and an edit form opened before it is now stale. Returns how many were unreviewed."""
    now = timezone.now()
    marked = 0
    for expectation in expectations.unreviewed().select_for_update(of=("self",)).order_by("pk"):
        expectation.reviewed_at = now
        expectation.version += 1
        expectation._change_reason = _("Marked as reviewed")
        set_history_user(expectation, by)
        expectation.save()
        marked += 1
    return marked


@transaction.atomic
def review_expectation(
    *, expectation: Expectation, expected_version: int | None, by: AbstractBaseUser | None = None
) -> bool:
    """Mark one expectation reviewed from its page, if it is still the version the editor looked at.
    Returns whether it was unreviewed."""
    lock_for_edit(Expectation, expectation.pk, expected_version)
    return mark_reviewed(expectations=Expectation.objects.filter(pk=expectation.pk), by=by) == 1


FLAGGED_OVERDUE = "Flagged overdue by the scheduled check"

# An overdue announcement lists this many, by latest date; the rest are counted ("And 9,950 more.").
OVERDUE_LISTED = 50


@transaction.atomic
def flag_overdue_expectations(*, now: datetime.datetime | None = None) -> list[int]:
    """Mark pending expectations whose latest acceptable date has passed as overdue.

    Returns the ids of the newly flagged ones (by latest date, then id); a second run returns none.
    Set-based, so a million expectations cost the same few queries as ten, and no instance is built:
    one UPDATE, which takes its rows with FOR UPDATE SKIP LOCKED (two concurrent runs split the work
    instead of flagging, and announcing, an item twice), then the history of every flagged row in
    bulk (events.bulk): its record (the change reason, version + 1) and, as django-simple-history
    would copy them on a save, its expected actors; and each flagged row queued for the announcement
    (UnannouncedOverdue). On PostgreSQL the four are one statement.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    update, params = _update_sql(
        Expectation.objects.pending().past_due(today).select_for_update(skip_locked=True).order_by().values("pk"),
        # Being flagged asks for a decision: it is unreviewed again until an editor looks.
        {"status": Expectation.Status.OVERDUE, "flagged_overdue_at": now, "reviewed_at": None, "updated_at": now},
    )
    recorded = {"date": now, "user_id": None, "reason": FLAGGED_OVERDUE, "history_type": "~"}
    if connection.vendor == "postgresql":
        return _update_recording_history(update, params, recorded, m2m=("expected_actors",), queue=True)
    with connection.cursor() as cursor:
        cursor.execute(f"{update} RETURNING id, latest_on", params)
        # SQLite returns the dates as ISO text, which sorts as the dates do.
        ids = [pk for pk, _ in sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))]
    record_history(Expectation, ids, **recorded, m2m=("expected_actors",))
    UnannouncedOverdue.objects.bulk_create([UnannouncedOverdue(expectation_id=pk) for pk in ids], ignore_conflicts=True)
    return ids


def _update_sql(rows: QuerySet, values: dict[str, Any]) -> tuple[str, list]:
    """The UPDATE of the expectations `rows` selects (a values("pk") queryset, locked as it says)
    with `values` and version + 1, and its parameters."""
    opts = Expectation._meta
    quote = connection.ops.quote_name
    select, select_params = rows.query.sql_with_params()
    assignments, params = [], []
    for name, value in values.items():
        field = opts.get_field(name)
        assignments.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    version = quote(opts.get_field("version").column)
    # Names quoted from the model's own metadata, values as parameters: nothing from outside in the text.
    sql = (
        f"UPDATE {quote(opts.db_table)} SET {', '.join(assignments)}, {version} = {version} + 1 "  # noqa: S608
        f"WHERE {among_selected(quote(opts.pk.column), select)}"
    )
    return sql, [*params, *select_params]


def _update_recording_history(
    update: str, params: list, recorded: dict[str, Any], *, m2m: Iterable[str], queue: bool = False
) -> list[int]:
    """PostgreSQL: `update`, the history records of the rows it changed and their many-to-many
    relations (and, with `queue`, their place in the announcement's queue) as one statement
    (data-modifying WITH), the records copied from what the UPDATE returns rather than read again.
    Returns the rows' ids by latest date, then id."""
    steps = [f"flagged AS ({update} RETURNING *)", f"recorded AS ({history_insert_sql(Expectation, 'flagged')})"]
    steps += [f"m2m_{n} AS ({m2m_history_insert_sql(Expectation, field, 'recorded')})" for n, field in enumerate(m2m)]
    if queue:
        steps.append(f"queued AS ({_queue_sql('flagged')})")
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {', '.join(steps)} SELECT id FROM flagged ORDER BY latest_on, id",  # noqa: S608 - quoted model names
            [*params, *history_params(**recorded)],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _queue_sql(source: str) -> str:
    """An INSERT into the announcement's queue of the expectations of `source` (a relation with
    their `id`s); one already there stays as it is."""
    quote = connection.ops.quote_name
    opts = UnannouncedOverdue._meta
    return (
        f"INSERT INTO {quote(opts.db_table)} ({quote(opts.pk.column)})"  # noqa: S608 - quoted model names
        f" SELECT id FROM {source} ON CONFLICT DO NOTHING"
    )


@dataclass(frozen=True)
class OverdueAnnouncement:
    """What one message tells the editors: the first expectations newly overdue (with their story),
    by latest date, and how many there are in all."""

    listed: list[Expectation]
    count: int

    @property
    def more(self) -> int:
        return self.count - len(self.listed)


@transaction.atomic
def announce_overdue(
    *,
    send: Callable[[OverdueAnnouncement], None],
    listed: int = OVERDUE_LISTED,
    now: datetime.datetime | None = None,
) -> int:
    """Tell the editors about every flagged expectation not yet announced, in one message that lists
    the first `listed` of them and counts the rest. Returns how many it told of.

    Five queries, however many there are: the queue (UnannouncedOverdue) rid of what is no longer
    overdue; the ids from the queue, their rows locked (SKIP LOCKED, so a concurrent run tells of the
    others); the listed ones with their story; after the send, one UPDATE that marks them all and
    one DELETE that takes them off the queue.
    The rows stay locked while `send` runs and are marked only after it returns, so a crash or a
    failed send leaves them to the next run: nothing goes untold (at worst a message is repeated).
    """
    _forget_no_longer_overdue()
    ids = _lock_unannounced()
    if not ids:
        return 0
    first = Expectation.objects.filter(pk__in=ids[:listed]).select_related("story").order_by("latest_on", "id")
    send(OverdueAnnouncement(listed=list(first), count=len(ids)))
    _mark_announced(ids, when=now or timezone.now())
    return len(ids)


# The queue's rows are reached from the queue, each expectation by its primary key (bulk.among_selected):
# the planner, misled by a queue table that is empty between runs, would otherwise hash the queue
# against a scan of all the expectations (a quarter of a second at a million).


def _queued_ids() -> str:
    quote = connection.ops.quote_name
    queue = UnannouncedOverdue._meta
    return f"SELECT {quote(queue.pk.column)} FROM {quote(queue.db_table)}"  # noqa: S608 - quoted model names


def _forget_no_longer_overdue() -> None:
    """Take off the queue what was fulfilled, cancelled or superseded before it was told of."""
    quote = connection.ops.quote_name
    opts, queue = Expectation._meta, UnannouncedOverdue._meta
    pk, status = quote(opts.pk.column), quote(opts.get_field("status").column)
    queued = among_selected(pk, _queued_ids())
    gone = f"SELECT {pk} FROM {quote(opts.db_table)} WHERE {queued} AND {status} <> %s"  # noqa: S608 - quoted names
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quote(queue.db_table)} WHERE {among_selected(quote(queue.pk.column), gone)}",  # noqa: S608
            [Expectation.Status.OVERDUE],
        )


def _lock_unannounced() -> list[int]:
    """The ids of Expectation.objects.flagged_unannounced() by latest date, then id, their rows
    locked (SKIP LOCKED)."""
    quote = connection.ops.quote_name
    opts = Expectation._meta
    pk = quote(opts.pk.column)
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    status = quote(opts.get_field("status").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk} FROM {quote(opts.db_table)} WHERE {among_selected(pk, _queued_ids())}"  # noqa: S608
            f" AND {status} = %s ORDER BY {quote(opts.get_field('latest_on').column)}, {pk}{lock}",
            [Expectation.Status.OVERDUE],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _mark_announced(ids: list[int], *, when: datetime.datetime) -> None:
    """One UPDATE for them all, the ids as one array parameter on PostgreSQL (events.bulk.among),
    then one DELETE from the queue. overdue_announced_at is in no index, so on a page with room (the
    table's fillfactor) the UPDATE is HOT: a new row version and no index entries."""
    opts = Expectation._meta
    quote = connection.ops.quote_name
    field = opts.get_field("overdue_announced_at")
    where, params = among(quote(opts.pk.column), ids)
    queue = UnannouncedOverdue._meta
    queued, queued_params = among(quote(queue.pk.column), ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(opts.db_table)} SET {quote(field.column)} = %s WHERE {where}",  # noqa: S608 - quoted model names
            [field.get_db_prep_save(when, connection), *params],
        )
        cursor.execute(f"DELETE FROM {quote(queue.db_table)} WHERE {queued}", queued_params)  # noqa: S608
