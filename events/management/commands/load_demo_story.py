"""Load the demo story (events/demo_story.py) and an editor who can log in to work on it.

Safe to run twice: every row is keyed on its slug (or on its natural key: an event and an actor, an
event and a URL, an event and a media item's title), and a row is written only when its data differ,
so a second run writes nothing and leaves no history behind. The demo's pictures (drawn by
events/demo_media.py) are uploaded only when their event lacks them: a second run stores no file.
It never undoes an editor's decision: an expectation already fulfilled, cancelled or flagged overdue
keeps its status, and rows (media among them) the demo does not define are left alone.
"""

import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandParser
from django.db import models, transaction
from django.utils import timezone

from events import dates, demo_story, services
from events.media.uploads import store_upload
from events.models import (
    Actor,
    DiscussionPoint,
    Event,
    Expectation,
    Forum,
    MediaItem,
    Participation,
    Place,
    Position,
    Source,
    Story,
    Topic,
)
from events.services.media import TEXT_FIELDS, MediaRow, write_media

# What the editors group may do, by model name. Whatever an editor adds they may change; they delete
# only the small rows they fix in the admin's inlines. Events and expectations are never deleted (they
# are cancelled, or corrected, with history), nor is reference data that events point to.
EDITORIAL_MODELS = {
    "story",
    "actor",
    "place",
    "topic",
    "forum",
    "event",
    "participation",
    "discussionpoint",
    "position",
    "correction",
    "expectation",
    "source",
    "mediaitem",
}
DELETABLE_MODELS = {"participation", "discussionpoint", "position", "correction", "source", "mediaitem"}


def upsert(model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]) -> tuple[Any, bool]:
    """The row matching `lookup`, created with `values` or brought up to date with them.

    Saves only when a value differs, so re-running leaves `updated_at` and the history untouched.
    Returns the row and whether it was written.
    """
    row = model.objects.filter(**lookup).first()
    if row is None:
        return model.objects.create(**lookup, **values), True
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    if not changed:
        return row, False
    for name, value in changed.items():
        setattr(row, name, value)
    row.save()
    return row, True


def add_missing(manager: Any, wanted: list[models.Model]) -> None:
    """Add what is missing to a many-to-many relation, and call nothing when nothing is (history)."""
    present = set(manager.values_list("pk", flat=True))
    missing = [obj for obj in wanted if obj.pk not in present]
    if missing:
        manager.add(*missing)


class Loader:
    def __init__(self) -> None:
        self.actors: dict[str, Actor] = {}
        self.places: dict[str, Place] = {}
        self.topics: dict[str, Topic] = {}
        self.forums: dict[str, Forum] = {}
        self.events: dict[str, Event] = {}
        self.written = 0

    def _count(self, written: bool) -> None:
        self.written += int(written)

    def load(self) -> Story:
        story, written = upsert(
            Story,
            {"slug": demo_story.STORY["slug"]},
            {k: v for k, v in demo_story.STORY.items() if k != "slug"},
        )
        self._count(written)
        self._load_reference_data()
        for data in demo_story.EVENTS:
            self.events[data.slug] = self._load_event(story, data)
        for data in demo_story.EXPECTATIONS:
            self._load_expectation(story, data)
        story.refresh_from_db()
        return story

    def _load_reference_data(self) -> None:
        # Countries and organisations first: people are affiliated to them.
        for data in sorted(demo_story.ACTORS, key=lambda a: a.affiliation is not None):
            affiliation = self.actors[data.affiliation] if data.affiliation else None
            actor, written = upsert(
                Actor,
                {"slug": data.slug},
                {
                    "kind": data.kind,
                    "name": data.name,
                    "description": data.description,
                    "affiliation_id": affiliation.pk if affiliation else None,
                    "aliases": list(data.aliases),
                },
            )
            self._count(written)
            self.actors[data.slug] = actor
        for data in demo_story.PLACES:
            place, written = upsert(
                Place,
                {"slug": data.slug},
                {
                    "name": data.name,
                    "country": data.country,
                    "latitude": data.latitude,
                    "longitude": data.longitude,
                    "time_zone": data.time_zone,
                },
            )
            self._count(written)
            self.places[data.slug] = place
        for data in demo_story.TOPICS:
            topic, written = upsert(Topic, {"slug": data.slug}, {"name": data.name, "description": data.description})
            self._count(written)
            self.topics[data.slug] = topic
        for data in demo_story.FORUMS:
            forum, written = upsert(Forum, {"slug": data.slug}, {"name": data.name, "description": data.description})
            self._count(written)
            add_missing(forum.members, [self.actors[slug] for slug in data.members])
            self.forums[data.slug] = forum

    def _start(self, data: demo_story.EventData) -> datetime.datetime:
        if isinstance(data.start, datetime.datetime):
            return data.start.astimezone(datetime.UTC)
        return dates.anchor(data.start, data.precision)

    def _load_event(self, story: Story, data: demo_story.EventData) -> Event:
        start = self._start(data)
        values = {
            "story_id": story.pk,
            "kind": data.kind,
            "title": data.title,
            "summary": data.summary,
            "start": start,
            "start_precision": data.precision,
            "place_id": self.places[data.place].pk if data.place else None,
            "forum_id": self.forums[data.forum].pk if data.forum else None,
            "status": data.status,
        }
        event = Event.objects.filter(slug=data.slug).first()
        if event is None:
            event = Event.objects.create(slug=data.slug, publication=Event.Publication.DRAFT, **values)
            self._count(True)
        else:
            changes = {name: value for name, value in values.items() if getattr(event, name) != value}
            if changes:
                event = services.update_event(event=event, expected_version=event.version, **changes)
                self._count(True)
        add_missing(event.topics, [self.topics[slug] for slug in data.topics])

        for actor_slug, role in data.participants:
            _, written = upsert(Participation, {"event": event, "actor": self.actors[actor_slug]}, {"role": role})
            self._count(written)
        for order, point_data in enumerate(data.discussion_points):
            point, written = upsert(
                DiscussionPoint,
                {"event": event, "title": point_data.title},
                {"topic_id": self.topics[point_data.topic].pk, "summary": point_data.summary, "order": order},
            )
            self._count(written)
            for position in point_data.positions:
                _, written = upsert(
                    Position,
                    {"discussion_point": point, "actor": self.actors[position.actor]},
                    {"stance": position.stance},
                )
                self._count(written)
        for source in data.sources:
            self._load_source({"event": event}, source)
        self._load_media(event, data.media)

        if not event.is_published:
            event = services.publish_event(event=event, at=start + data.published_after)
            self._count(True)
        return event

    def _load_source(self, owner: dict[str, Any], data: demo_story.SourceData) -> None:
        _, written = upsert(
            Source,
            {**owner, "url": data.url},
            {"outlet": data.outlet, "title": data.title, "published_on": data.published_on},
        )
        self._count(written)

    def _load_media(self, event: Event, wanted: tuple[demo_story.MediaData, ...]) -> None:
        """The demo's media first, in its order, then any an editor added; an item is the demo's when
        it has the demo's title and kind. Only a missing picture is drawn and uploaded."""
        if not wanted:
            return
        items = list(event.media.all())
        present = {(item.kind, item.title): item for item in items}
        rows: list[MediaRow] = []
        changed = False
        for data in wanted:
            values = {
                "title": data.title,
                "caption": data.caption,
                "credit": data.credit,
                "alt_text": data.alt_text,
                "url": data.url,
                "outlet": data.outlet,
            }
            item = present.pop((data.kind, data.title), None)
            if item is None:
                upload = None
                if data.draw is not None:
                    slug = data.title.split(":")[0].lower()
                    upload = store_upload(SimpleUploadedFile(f"{slug}.png", data.draw(), "image/png"), data.kind)
                rows.append(MediaRow(kind=data.kind, upload=upload, **values))
                changed = True
                continue
            changed |= any(getattr(item, name) != value for name, value in values.items())
            rows.append(MediaRow(kind=item.kind, item_id=item.pk, **(_row_values(item) | values)))
        # An editor's own media stay, after the demo's.
        rows += [MediaRow(kind=item.kind, item_id=item.pk, **_row_values(item)) for item in present.values()]
        changed |= [row.item_id for row in rows] != [item.pk for item in items]
        if changed:
            write_media(event, rows)
            # Exports cache their answer by the events' last change: the media are part of it.
            Event.objects.filter(pk=event.pk).update(updated_at=timezone.now())
            self._count(True)

    def _load_expectation(self, story: Story, data: demo_story.ExpectationData) -> Expectation:
        expectation, written = upsert(
            Expectation,
            {"slug": data.slug},
            {
                "story_id": story.pk,
                "title": data.title,
                "description": data.description,
                "raised_by_id": self.events[data.raised_by].pk if data.raised_by else None,
                "place_id": self.places[data.place].pk if data.place else None,
                "due_on": data.due_on,
                "due_precision": data.due_precision,
                "latest_on": dates.window_end(data.due_on, data.due_precision) if data.due_on else None,
            },
        )
        self._count(written)
        add_missing(expectation.expected_actors, [self.actors[slug] for slug in data.expected_actors])
        add_missing(expectation.topics, [self.topics[slug] for slug in data.topics])
        for source in data.sources:
            self._load_source({"expectation": expectation}, source)

        # Only an open expectation is moved on; one an editor already resolved keeps their decision.
        if data.outcome and expectation.status in (Expectation.Status.PENDING, Expectation.Status.OVERDUE):
            verb, event_slug = data.outcome
            if verb == "fulfilled_by":
                expectation = services.fulfil_expectation(expectation=expectation, event=self.events[event_slug])
            else:
                expectation = services.cancel_expectation(expectation=expectation)
            self._count(True)
        return expectation


def _row_values(item: MediaItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in TEXT_FIELDS}


def ensure_editors_group() -> Group:
    group, _ = Group.objects.get_or_create(name="editors")
    wanted = []
    for model in apps.get_app_config("events").get_models():
        name = model._meta.model_name
        actions = ["view"]
        if name in EDITORIAL_MODELS:
            actions += ["add", "change"]
        if name in DELETABLE_MODELS:
            actions.append("delete")
        wanted += [f"{action}_{name}" for action in actions]
    permissions = Permission.objects.filter(content_type__app_label="events", codename__in=wanted)
    add_missing(group.permissions, list(permissions))
    return group


def ensure_editor(username: str, password: str, group: Group) -> None:
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "email": f"{username}@localhost"}
    )
    if created or not user.check_password(password) or not user.is_staff or not user.is_active:
        user.set_password(password)
        user.is_staff = user.is_active = True
        user.save()
    add_missing(user.groups, [group])


class Command(BaseCommand):
    help = "Load the demo story (Ukraine crisis diplomacy, Feb 2022) and an editor login. Safe to run twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--editor-username", default="editor", help="Editor's user name (default: editor).")
        parser.add_argument(
            "--editor-password", default="tracker-demo", help="Editor's password (default: tracker-demo)."
        )

    def handle(self, *args: Any, editor_username: str, editor_password: str, **options: Any) -> None:
        loader = Loader()
        with transaction.atomic():
            story = loader.load()
            group = ensure_editors_group()
            ensure_editor(editor_username, editor_password, group)
        events = story.events.count()
        expectations = story.expectations.count()
        change = f"{loader.written} row(s) written" if loader.written else "already up to date"
        self.stdout.write(f"Demo story “{story.title}”: {events} events, {expectations} expectations ({change}).")
        self.stdout.write(f"Editor login: user {editor_username}, password {editor_password}")
