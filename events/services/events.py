"""Logging and editing developments: publishing keeps the story's `last_development_at`.

A development is saved whole, in one transaction and as one history entry: the event's fields and
topics, its participants (creating actors new to the tracker), sources, discussion points with each
side's position, and the expectations it raised.
"""

import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Actor, DiscussionPoint, Event, Expectation, Participation, Position, Source
from .base import lock_for_edit, set_history_user, touch_story, unique_slug
from .digests import queue_alerts
from .media import write_media

if TYPE_CHECKING:
    from ..forms.events import ActorRef, Development


def _mark_published(event: Event, at: datetime.datetime | None = None) -> None:
    event.publication = Event.Publication.PUBLISHED
    event.published_at = at or timezone.now()


@transaction.atomic
def publish_event(*, event: Event, by: AbstractBaseUser | None = None, at: datetime.datetime | None = None) -> Event:
    """Publish a draft. Publishing twice is harmless: the first publication time is kept."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.is_published:
        return event
    _mark_published(event, at)
    event.version += 1
    set_history_user(event, by)
    event.save()
    touch_story(event.story_id, panel=False)
    queue_alerts()
    return event


@transaction.atomic
def update_event(*, event: Event, expected_version: int, by: AbstractBaseUser | None = None, **changes: Any) -> Event:
    """Apply an editor's changes, refusing them if the event changed since `expected_version`."""
    current = lock_for_edit(Event, event.pk, expected_version)
    for field, value in changes.items():
        setattr(current, field, value)
    current.full_clean()
    current.version += 1
    set_history_user(current, by)
    current.save()
    if current.is_published:
        touch_story(current.story_id, panel=False)
    return current


def _actor(ref: "ActorRef", created: dict[str, Actor]) -> Actor:
    """The actor a row names; one new to the tracker is created once, however many rows name it."""
    if ref.actor is not None:
        return ref.actor
    key = ref.name.lower()
    if key not in created:
        existing = Actor.objects.filter(name__iexact=ref.name).first()
        created[key] = existing or Actor.objects.create(name=ref.name, kind=ref.kind, slug=unique_slug(Actor, ref.name))
    return created[key]


def _write_rows(event: Event, development: "Development", *, replace: bool) -> None:
    """Participants, sources and discussion points as the form has them (replacing the old ones), and
    the media as arranged (kept items are updated in place: their files stay)."""
    if replace:
        event.participations.all().delete()
        event.sources.all().delete()
        event.discussion_points.all().delete()
    created: dict[str, Actor] = {}
    participations: dict[int, Participation] = {}
    for ref, role in development.participants:
        actor = _actor(ref, created)
        # The same actor twice: the first row's role stands (one participation per actor and event).
        participations.setdefault(actor.pk, Participation(event=event, actor=actor, role=role))
    Participation.objects.bulk_create(participations.values())
    Source.objects.bulk_create(Source(event=event, **source) for source in development.sources)
    for order, point in enumerate(development.points):
        discussion_point = DiscussionPoint.objects.create(
            event=event, title=point.title, topic=point.topic, summary=point.summary, order=order
        )
        Position.objects.bulk_create(
            Position(discussion_point=discussion_point, actor=_actor(side.actor, created), stance=side.stance)
            for side in point.sides
        )
    if development.media is not None:
        write_media(event, development.media)


def _raise_expectations(event: Event, development: "Development", by: AbstractBaseUser | None) -> None:
    now = timezone.now()
    for row in development.expectations:
        expectation = Expectation(
            story=event.story,
            raised_by=event,
            title=row["title"],
            slug=unique_slug(Expectation, row["title"]),
            due_on=row["due_on"],
            due_precision=row["due_precision"],
            # The editor who records it has looked at it.
            reviewed_at=now,
        )
        set_history_user(expectation, by)
        expectation.save()


def _save_with_topics(event: Event, development: "Development", by: AbstractBaseUser | None, reason: str) -> None:
    """Save the event and set its topics as ONE history entry (a separate one per relation otherwise)."""
    event.skip_history_when_saving = True
    event.save()
    event.topics.set(development.topics)
    del event.skip_history_when_saving
    set_history_user(event, by)
    event._change_reason = reason
    event.save()


@transaction.atomic
def log_development(*, development: "Development", publish: bool, by: AbstractBaseUser | None = None) -> Event:
    """A new event with everything "Log a development" gathered, saved as a draft or published."""
    fields = development.fields
    event = Event(**fields, created_by=by)
    if publish:
        _mark_published(event)
    event.full_clean(exclude=["slug"])
    for attempt in range(3):
        event.slug = unique_slug(Event, fields["title"], max_length=250)
        try:
            with transaction.atomic():
                _save_with_topics(event, development, by, _("Published") if publish else _("Saved as a draft"))
            break
        except IntegrityError:
            # Another editor took the same slug a moment ago: take the next one.
            event.pk = None
            if attempt == 2:
                raise
    _write_rows(event, development, replace=False)
    _raise_expectations(event, development, by)
    if publish:
        touch_story(event.story_id, panel=False)
        queue_alerts()
    return event


@transaction.atomic
def revise_development(
    *,
    event: Event,
    development: "Development",
    expected_version: int,
    publish: bool = False,
    unpublish: bool = False,
    by: AbstractBaseUser | None = None,
) -> Event:
    """Save an editor's edit of an event over the version they opened, or raise StaleVersionError.

    A published event stays published unless `unpublish` takes it back to the drafts (off the
    timeline); `publish` publishes a draft. The slug never changes: links to the event keep working."""
    current = lock_for_edit(Event, event.pk, expected_version)
    old_story_id = current.story_id
    for name, value in development.fields.items():
        setattr(current, name, value)
    was_published = current.is_published
    reason = _("Edited")
    if publish and not was_published:
        _mark_published(current)
        reason = _("Published")
    elif unpublish and was_published:
        current.publication = Event.Publication.DRAFT
        reason = _("Taken back to the drafts")
    current.full_clean()
    current.version += 1
    _save_with_topics(current, development, by, reason)
    _write_rows(current, development, replace=True)
    _raise_expectations(current, development, by)
    if current.is_published or was_published:
        for story_id in {old_story_id, current.story_id}:
            # The event's save told its new story's panel; the one it left may have named it.
            touch_story(story_id, panel=story_id != current.story_id)
    if current.is_published and not was_published:
        queue_alerts()
    return current
