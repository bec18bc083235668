"""Domain actions: the only code that changes a story's state.

Each service is atomic, checks its rule before writing (the database backs the rule with a
constraint), leaves a history record through django-simple-history, and queues follow-up work with
transaction.on_commit so a rolled-back change never sends anything.
"""

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from .models import Event, Expectation, Story


class ApplicationError(Exception):
    """A domain rule refused the action; the message is meant for the editor."""


class StaleVersionError(ApplicationError):
    """Someone else saved the record since this edit started."""


def unique_slug(model: type, text: str, *, max_length: int = 200) -> str:
    """A slug for `text` not yet used by `model`: "macron-in-moscow", then "macron-in-moscow-2"."""
    base = slugify(text)[: max_length - 6].strip("-") or "item"
    taken = set(model.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _touch_story(story_id: int) -> None:
    """Keep `last_development_at` equal to the newest publication in the story."""
    newest = Event.objects.filter(story_id=story_id).published().aggregate(m=Max("published_at"))["m"]
    Story.objects.filter(pk=story_id).update(last_development_at=newest)


def _set_history_user(instance: Any, by: AbstractBaseUser | None) -> None:
    if by is not None:
        instance._history_user = by


@transaction.atomic
def publish_event(*, event: Event, by: AbstractBaseUser | None = None, at: datetime.datetime | None = None) -> Event:
    """Publish a draft. Publishing twice is harmless: the first publication time is kept."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.is_published:
        return event
    event.publication = Event.Publication.PUBLISHED
    event.published_at = at or timezone.now()
    event.version += 1
    _set_history_user(event, by)
    event.save()
    _touch_story(event.story_id)
    return event


@transaction.atomic
def update_event(*, event: Event, expected_version: int, by: AbstractBaseUser | None = None, **changes: Any) -> Event:
    """Apply an editor's changes, refusing them if the event changed since `expected_version`."""
    current = Event.objects.select_for_update().get(pk=event.pk)
    if current.version != expected_version:
        raise StaleVersionError(
            f"“{current.title}” was changed by someone else (now version {current.version}, "
            f"you edited version {expected_version}). Reload it and apply your change again."
        )
    for field, value in changes.items():
        setattr(current, field, value)
    current.full_clean()
    current.version += 1
    _set_history_user(current, by)
    current.save()
    if current.is_published:
        _touch_story(current.story_id)
    return current


@transaction.atomic
def fulfil_expectation(*, expectation: Expectation, event: Event, by: AbstractBaseUser | None = None) -> Expectation:
    expectation = Expectation.objects.select_for_update().get(pk=expectation.pk)
    if expectation.status == Expectation.Status.FULFILLED and expectation.fulfilled_by_id == event.pk:
        return expectation
    if expectation.status not in Expectation.OPEN_STATUSES:
        raise ApplicationError(
            f"“{expectation.title}” is {expectation.get_status_display().lower()}; "
            "only a pending or overdue expectation can be fulfilled."
        )
    if not expectation.can_be_fulfilled_by(event):
        raise ApplicationError(Expectation.FOREIGN_FULFILMENT)
    expectation.status = Expectation.Status.FULFILLED
    expectation.fulfilled_by = event
    expectation.resolved_at = timezone.now()
    expectation.reviewed_at = expectation.resolved_at
    expectation.version += 1
    _set_history_user(expectation, by)
    expectation.save()
    return expectation


@transaction.atomic
def cancel_expectation(
    *, expectation: Expectation, by: AbstractBaseUser | None = None, superseded: bool = False
) -> Expectation:
    expectation = Expectation.objects.select_for_update().get(pk=expectation.pk)
    target = Expectation.Status.SUPERSEDED if superseded else Expectation.Status.CANCELLED
    if expectation.status == target:
        return expectation
    if expectation.status not in Expectation.OPEN_STATUSES:
        raise ApplicationError(f"“{expectation.title}” is already {expectation.get_status_display().lower()}.")
    expectation.status = target
    expectation.resolved_at = timezone.now()
    expectation.reviewed_at = expectation.resolved_at
    expectation.version += 1
    _set_history_user(expectation, by)
    expectation.save()
    return expectation


@transaction.atomic
def mark_reviewed(*, expectations: QuerySet, by: AbstractBaseUser | None = None) -> int:
    """An editor has looked at these expectations. Each is a change like any other: recorded in
    history, and an edit form opened before it is now stale. Returns how many were unreviewed."""
    now = timezone.now()
    marked = 0
    for expectation in expectations.unreviewed().select_for_update(of=("self",)).order_by("pk"):
        expectation.reviewed_at = now
        expectation.version += 1
        expectation._change_reason = "Marked as reviewed"
        _set_history_user(expectation, by)
        expectation.save()
        marked += 1
    return marked


@transaction.atomic
def flag_overdue_expectations(*, now: datetime.datetime | None = None) -> list[Expectation]:
    """Mark pending expectations whose latest acceptable date has passed as overdue.

    Returns the newly flagged ones; a second run returns none. Rows are locked with SKIP LOCKED so
    two concurrent runs split the work instead of flagging (and announcing) an item twice.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = list(
        Expectation.objects.pending()
        .past_due(today)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("story")
        .order_by("latest_on", "id")
    )
    for expectation in due:
        expectation.status = Expectation.Status.OVERDUE
        expectation.flagged_overdue_at = now
        # Being flagged asks for a decision: it is unreviewed again until an editor looks.
        expectation.reviewed_at = None
        expectation.version += 1
        expectation._change_reason = "Flagged overdue by the scheduled check"
        expectation.save()
    return due


@transaction.atomic
def announce_overdue(*, send: Callable[[list[Expectation]], None], now: datetime.datetime | None = None) -> int:
    """Tell the editors about every flagged expectation not yet announced, in one message.

    The rows stay locked while `send` runs and are marked only after it returns, so a crash or a
    failed send leaves them to the next run: nothing goes untold (at worst a message is repeated).
    """
    pending = list(
        Expectation.objects.flagged_unannounced()
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("story")
        .order_by("latest_on", "id")
    )
    if pending:
        send(pending)
        Expectation.objects.filter(pk__in=[e.pk for e in pending]).update(overdue_announced_at=now or timezone.now())
    return len(pending)


@transaction.atomic
def restore_version(*, record: Event | Expectation, history_id: int, by: AbstractBaseUser | None = None):
    """Bring a record back to an earlier version from its history; the restore is itself recorded."""
    model = type(record)
    current = model.objects.select_for_update().get(pk=record.pk)
    try:
        old = current.history.get(history_id=history_id)
    except model.history.model.DoesNotExist:
        raise ApplicationError(f"Version {history_id} is not in the history of “{current}”.") from None
    restored = old.instance
    restored.version = current.version + 1
    restored._change_reason = f"Restored the version of {old.history_date:%d %b %Y %H:%M}"
    _set_history_user(restored, by)
    restored.full_clean(validate_unique=False)
    m2m = {"Event": ("topics", "topic"), "Expectation": ("expected_actors", "actor")}.get(model.__name__)
    if m2m:
        # Set the relations first, unrecorded, so that the save below records the whole restore
        # (fields and relations) as one history entry instead of one per relation change.
        field, column = m2m
        current.skip_history_when_saving = True
        getattr(current, field).set(_historical_m2m_ids(old, field, column))
        del current.skip_history_when_saving
    restored.save()
    if isinstance(restored, Event):
        # Restoring a draft version unpublishes the event: the story's last development moves too.
        for story_id in {current.story_id, restored.story_id}:
            _touch_story(story_id)
    return restored


def _historical_m2m_ids(historical: Any, field: str, column: str) -> Iterable[int]:
    return [getattr(row, f"{column}_id") for row in getattr(historical, field).all()]
