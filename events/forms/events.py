"""The desk's "Log a development" form: an event with its participants, sources, discussion points and
what it makes people expect next, in one page.

The labels are part of the desk's contract (DESIGN.md): Story, Title, Kind, Date, Time, Precision,
Summary; rows of Actor and Role, Source URL. No other label begins with Date, Time or Precision, so
other rows say "Due date", "End date", "Published on".

`DevelopmentForm.development()` turns the cleaned input into a `Development`, which the services
write in one transaction: the forms only read (actors are looked up here, created by the service).
"""

import datetime
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import dates
from ..media import links
from ..media.uploads import StoredUpload, store_upload
from ..models import (
    LINKED_KINDS,
    UPLOADED_KINDS,
    Actor,
    ActorKind,
    DatePrecision,
    Event,
    EventKind,
    EventStatus,
    Forum,
    MediaItem,
    MediaKind,
    ParticipationRole,
    Place,
    Story,
    Topic,
)
from ..services.media import MediaRow

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
# Precisions a due date can have: "by 10 Feb", "in February", "in 2022", "around 10 Feb".
DUE_PRECISIONS = [(value, label) for value, label in DatePrecision.choices if value != DatePrecision.EXACT]


@dataclass(frozen=True)
class ActorRef:
    """An actor picked from the list, or a new one the service creates (name and kind)."""

    actor: Actor | None
    name: str
    kind: str = ""


@dataclass(frozen=True)
class Side:
    actor: ActorRef
    stance: str


@dataclass(frozen=True)
class Point:
    title: str
    topic: Topic | None
    summary: str
    sides: list[Side]


@dataclass
class Development:
    """Everything "Log a development" collects, cleaned: what the services write."""

    fields: dict[str, Any]
    topics: list[Topic]
    participants: list[tuple[ActorRef, str]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    # None leaves the event's media as they are (a form without the media rows); [] removes them all.
    media: list[MediaRow] | None = None
    expectations: list[dict[str, Any]] = field(default_factory=list)


def find_actor(name: str) -> list[Actor]:
    """Actors an editor means by `name`: its exact name, slug or one of its aliases, in any case."""
    key = name.strip().lower()
    candidates = Actor.objects.annotate(alias_text=Cast("aliases", TextField())).filter(
        Q(name__iexact=key) | Q(slug__iexact=key) | Q(alias_text__icontains=key)
    )[:20]
    return [
        actor
        for actor in candidates
        if key in (actor.name.lower(), actor.slug.lower(), *(alias.lower() for alias in actor.aliases))
    ]


def resolve_actor(name: str, new_kind: str) -> ActorRef:
    """The actor named `name`, or a new one of `new_kind`; ValidationError when neither can be."""
    matches = find_actor(name)
    if len(matches) == 1:
        return ActorRef(actor=matches[0], name=matches[0].name)
    if len(matches) > 1:
        raise ValidationError(
            _("Several actors are called “%(name)s” (%(slugs)s): type the one you mean by its short name."),
            params={"name": name, "slugs": ", ".join(actor.slug for actor in matches)},
        )
    if not new_kind:
        raise ValidationError(
            _("No actor is called “%(name)s” yet: pick one from the list, or choose what kind of actor to add."),
            params={"name": name},
            code="unknown",
        )
    return ActorRef(actor=None, name=name.strip(), kind=new_kind)


class RowForm(forms.Form):
    """A row of a formset: blank rows are skipped, so an editor may leave the spare ones empty."""

    def has_content(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.fields if name != "DELETE")


class ActorInput(forms.TextInput):
    """A text input offering known actors as you type: htmx refills the page's <datalist> with the
    names matching what is typed; without JavaScript the list holds the first names and any name
    typed is looked up when the form is sent."""

    def __init__(self) -> None:
        super().__init__(
            attrs={
                "list": "actor-suggestions",
                "autocomplete": "off",
                "hx-get": reverse_lazy("desk:actor_suggestions"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#actor-suggestions",
                "hx-swap": "innerHTML",
                "hx-sync": "this:queue last",
            }
        )


NEW_ACTOR_KIND = forms.ChoiceField(
    label=gettext_lazy("Type, if new"),
    choices=[("", gettext_lazy("(known actor)")), *ActorKind.choices],
    required=False,
    help_text=gettext_lazy("Only for someone not in the list yet: they are added as this kind of actor."),
)


class ParticipantForm(RowForm):
    actor = forms.CharField(label=gettext_lazy("Actor"), max_length=200, required=False, widget=ActorInput())
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=ParticipationRole.choices, initial="participant")
    new_kind = NEW_ACTOR_KIND

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("actor"):
            try:
                data["actor_ref"] = resolve_actor(data["actor"], data.get("new_kind", ""))
            except ValidationError as error:
                self.add_error("actor", error)
        return data

    def has_content(self) -> bool:
        return bool(self.cleaned_data.get("actor"))


class SourceForm(RowForm):
    url = forms.URLField(label=gettext_lazy("Source URL"), max_length=500, required=False, assume_scheme="https")
    outlet = forms.CharField(
        label=gettext_lazy("Outlet"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Left blank, the site's address is used."),
    )
    headline = forms.CharField(label=gettext_lazy("Article headline"), max_length=300, required=False)
    published_on = forms.DateField(label=gettext_lazy("Published on"), required=False, widget=DATE_INPUT)
    quote = forms.CharField(label=gettext_lazy("Quote"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("url") and any(data.get(name) for name in ("outlet", "headline", "published_on", "quote")):
            self.add_error("url", _("Give the source's address."))
        if data.get("url") and not data.get("outlet"):
            data["outlet"] = (urlsplit(data["url"]).hostname or "").removeprefix("www.")
        return data

    def has_content(self) -> bool:
        return bool(self.cleaned_data.get("url"))


class PointForm(RowForm):
    """A discussion point with each side's position (what Macron pushed for, what Putin reiterated)."""

    title = forms.CharField(label=gettext_lazy("Point discussed"), max_length=200, required=False)
    # A plain choice, its options given once per page by DevelopmentForm (not one query per row).
    topic = forms.TypedChoiceField(
        label=gettext_lazy("Topic of the point"), required=False, coerce=int, empty_value=None
    )
    summary = forms.CharField(
        label=gettext_lazy("What was said"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    side_a = forms.CharField(label=gettext_lazy("First side"), max_length=200, required=False, widget=ActorInput())
    stance_a = forms.CharField(
        label=gettext_lazy("First side's position"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    side_b = forms.CharField(label=gettext_lazy("Second side"), max_length=200, required=False, widget=ActorInput())
    stance_b = forms.CharField(
        label=gettext_lazy("Second side's position"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, topics: dict[int, Topic] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.topics = topics if topics is not None else {t.pk: t for t in Topic.objects.order_by("name")}
        self.fields["topic"].choices = [("", "—"), *((pk, topic.name) for pk, topic in self.topics.items())]

    def full_clean(self) -> None:
        self.unknown_sides: list[tuple[str, ValidationError]] = []
        super().full_clean()

    def clean_topic(self) -> Topic | None:
        pk = self.cleaned_data["topic"]
        return self.topics.get(pk) if pk else None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        sides = []
        for side, stance in (("side_a", "stance_a"), ("side_b", "stance_b")):
            if data.get(stance) and not data.get(side):
                self.add_error(side, _("Say whose position this is."))
            elif data.get(side) and not data.get(stance):
                self.add_error(stance, _("Give this side's position, or leave the side blank."))
            elif data.get(side):
                try:
                    sides.append(Side(actor=resolve_actor(data[side], ""), stance=data[stance]))
                except ValidationError as error:
                    if error.code != "unknown":
                        self.add_error(side, error)
                    else:
                        # Perhaps a participant added in this same form: DevelopmentForm decides.
                        self.unknown_sides.append((side, error))
                        sides.append(Side(actor=ActorRef(actor=None, name=data[side].strip()), stance=data[stance]))
        if len(sides) == 2 and sides[0].actor.actor == sides[1].actor.actor:
            self.add_error("side_b", _("The two sides are the same actor."))
        if self.has_content() and not data.get("title"):
            self.add_error("title", _("Name the point discussed."))
        data["sides"] = sides
        return data


class ExpectedNextForm(RowForm):
    """Something this development makes people expect next ("Macron is expected in Kyiv")."""

    title = forms.CharField(label=gettext_lazy("Expected next"), max_length=250, required=False)
    due_on = forms.DateField(
        label=gettext_lazy("Due date"),
        required=False,
        widget=DATE_INPUT,
        help_text=gettext_lazy("Blank when no date was given."),
    )
    due_precision = forms.ChoiceField(
        label=gettext_lazy("Due precision"), choices=DUE_PRECISIONS, initial=DatePrecision.DAY
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("due_on") and not data.get("title"):
            self.add_error("title", _("Say what is expected."))
        return data

    def has_content(self) -> bool:
        return bool(self.cleaned_data.get("title"))


@dataclass(frozen=True)
class MediaPreview:
    """What a media row shows of its file: a small picture (for an image) and the file's name."""

    name: str
    href: str
    staged: bool
    src: str = ""
    width: int | None = None
    height: int | None = None


PREVIEW_WIDTH = 160


def _preview_size(width: int | None, height: int | None) -> tuple[int | None, int | None]:
    if not (width and height):
        return None, None
    shown = min(PREVIEW_WIDTH, width)
    return shown, max(1, round(height * shown / width))


class MediaForm(RowForm):
    """A photo, a PDF document or a link shown with the event.

    A posted file is checked and stored as soon as the form is read (events.media.uploads), and the
    row then carries the stored upload's signed token in its hidden `upload` field: shown again (a
    mistake elsewhere, one more row, a move), the form keeps the file without the editor choosing it
    twice. A saved item of the event is named by its id in the hidden `item` field."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of media"),
        choices=[("", gettext_lazy("From the file or the address")), *MediaKind.choices],
        required=False,
    )
    file = forms.FileField(
        label=gettext_lazy("File"),
        required=False,
        widget=forms.FileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf,.jpg,.jpeg,.png,.webp,.pdf"}
        ),
        help_text=gettext_lazy("A photo or picture (JPEG, PNG or WebP), or a document as a PDF."),
    )
    url = forms.URLField(
        label=gettext_lazy("Web address"),
        max_length=2000,
        required=False,
        assume_scheme="https",
        validators=[
            URLValidator(
                schemes=["http", "https"],
                message=gettext_lazy("Give an address beginning with https:// (or http://)."),
                code="scheme",  # not "invalid", which the field's own message would replace
            )
        ],
        help_text=gettext_lazy("For a video, an audio clip, a post or a page elsewhere."),
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300, required=False)
    outlet = forms.CharField(
        label=gettext_lazy("Outlet"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Left blank for a link, the site's address is used."),
    )
    caption = forms.CharField(
        label=gettext_lazy("Caption"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    credit = forms.CharField(
        label=gettext_lazy("Credit"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Who took the photo or made it, and for whom: “Jane Doe / Reuters”."),
    )
    alt_text = forms.CharField(
        label=gettext_lazy("Alt text"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("What the photo shows, for readers who cannot see it."),
    )
    taken_on = forms.DateField(label=gettext_lazy("Taken or published on"), required=False, widget=DATE_INPUT)
    item = forms.IntegerField(widget=forms.HiddenInput, required=False)
    upload = forms.CharField(widget=forms.HiddenInput, required=False)

    CONTENT = ("file", "upload", "item", "url", "title", "outlet", "caption", "credit", "alt_text", "taken_on")

    def __init__(self, *args: Any, items: dict[int, MediaItem] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items or {}
        self.staged: StoredUpload | None = None
        # A refused file is said even when the form is shown again without judging it (DevelopmentForm.hide_errors).
        self.refused_upload: ValidationError | None = None
        self._stored: dict[int, StoredUpload | ValidationError] = {}

    def has_content(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.CONTENT)

    @property
    def existing(self) -> MediaItem | None:
        """The saved item this row shows, if any (from the posted id, or the edit form's initial rows)."""
        pk = self["item"].value()
        try:
            return self.items.get(int(pk)) if pk not in (None, "") else None
        except (TypeError, ValueError):
            return None

    @property
    def preview(self) -> MediaPreview | None:
        if upload := self.staged:
            width, height = _preview_size(upload.width, upload.height)
            is_image = upload.kind == MediaKind.IMAGE
            return MediaPreview(
                name=upload.filename or upload.name.rsplit("/", 1)[-1],
                href=upload.url,
                staged=True,
                src=upload.url if is_image else "",
                width=width,
                height=height,
            )
        item = self.existing
        if item is None or not (item.image or item.document):
            return None
        if item.image:
            width, height = _preview_size(item.width, item.height)
            small = item.thumbnail_for(PREVIEW_WIDTH)
            return MediaPreview(
                name=item.image.name.rsplit("/", 1)[-1],
                href=item.image.url,
                staged=False,
                src=small[0].url if small else item.image.url,
                width=width,
                height=height,
            )
        return MediaPreview(name=item.document.name.rsplit("/", 1)[-1], href=item.document.url, staged=False)

    def _store(self, file: Any, kind: str) -> StoredUpload:
        """The posted file checked and stored, once however often the form is cleaned."""
        if id(file) not in self._stored:
            try:
                self._stored[id(file)] = store_upload(file, kind)
            except ValidationError as error:
                self._stored[id(file)] = error
        result = self._stored[id(file)]
        if isinstance(result, ValidationError):
            raise result
        return result

    def _keep_token(self, token: str) -> None:
        """The hidden `upload` field as the page shows it again."""
        self.data = self.data.copy()
        self.data[self.add_prefix("upload")] = token

    def _upload(self, data: dict[str, Any], chosen_kind: str) -> StoredUpload | None:
        """The row's stored upload: the file posted now (checked and stored), else the staged token's."""
        file, token = data.get("file"), data.get("upload")
        if file:
            if chosen_kind in LINKED_KINDS:
                self.add_error(
                    "file", _("A link has no file: choose “Photo or picture” or “Document (PDF)” as its kind.")
                )
                return None
            kind = chosen_kind or _kind_of_file(file)
            try:
                upload = self._store(file, kind)
            except ValidationError as error:
                self.refused_upload = error
                self.add_error("file", error)
                return None
            self._keep_token(upload.token)
            return upload
        if token:
            try:
                return StoredUpload.from_token(token)
            except ValidationError as error:
                self._keep_token("")
                self.add_error("file", error)
        return None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("DELETE"):
            return data
        item = None
        if data.get("item") is not None:
            item = self.items.get(data["item"])
            if item is None:
                self.add_error(None, _("This media item is not one of this event's: reload the page."))
                return data
        upload = self.staged = self._upload(data, data.get("kind", ""))
        if self.has_error("file"):
            return data
        url = data.get("url", "")
        kind = data.get("kind") or (upload.kind if upload else item.kind if item else links.kind_of(url) if url else "")
        data["kind"] = kind
        # A new file makes the row a new item; the one it replaces is removed when the event is saved.
        data["item_id"] = item.pk if item and upload is None else None
        if not self.has_content():
            return data
        if upload is not None and upload.kind != kind:
            self.add_error(
                "file",
                _("This file is a photo: choose “Photo or picture” as its kind, or another file.")
                if upload.kind == MediaKind.IMAGE
                else _("This file is a PDF: choose “Document (PDF)” as its kind, or another file."),
            )
        elif item and upload is None and kind != item.kind and not (item.is_link and kind in LINKED_KINDS):
            self.add_error("kind", _("A saved photo or document keeps its kind: remove it and add the new one."))
        elif kind in UPLOADED_KINDS:
            self._check_upload(data, kind, has_file=upload is not None or item is not None)
        elif kind in LINKED_KINDS:
            if not url:
                self.add_error("url", _("Give the web address of the video, the clip, the post or the page."))
            elif not data.get("outlet"):
                data["outlet"] = links.host_of(url)
        else:
            self.add_error("file", _("Choose a file, or give the web address of the media."))
        data["upload"] = upload
        return data

    def _check_upload(self, data: dict[str, Any], kind: str, *, has_file: bool) -> None:
        if data.get("url"):
            self.add_error("url", _("A photo or a document is uploaded, not linked: clear the web address."))
        if kind == MediaKind.DOCUMENT:
            if not has_file:
                self.add_error("file", _("Choose the document's PDF file."))
            return
        if not has_file:
            self.add_error("file", _("Choose the photo's file."))
        if not data.get("credit"):
            self.add_error("credit", _("Every photo needs a credit: who took or made it, and for whom."))
        if not data.get("alt_text"):
            self.add_error(
                "alt_text", _("Every photo needs alt text, so that everyone can read the page: say what it shows.")
            )

    def media_row(self) -> MediaRow:
        data = self.cleaned_data
        return MediaRow(
            kind=data["kind"],
            item_id=data["item_id"],
            upload=data["upload"],
            url=data["url"],
            thumbnail_url=self.items[data["item_id"]].thumbnail_url if data["item_id"] else "",
            title=data["title"],
            outlet=data["outlet"],
            caption=data["caption"],
            credit=data["credit"],
            alt_text=data["alt_text"],
            taken_on=data["taken_on"],
        )


def _kind_of_file(file: Any) -> str:
    """A file posted with its kind left to us: a PDF by its first bytes, an image otherwise."""
    file.seek(0)
    head = file.read(1024)
    file.seek(0)
    return MediaKind.DOCUMENT if b"%PDF-" in head else MediaKind.IMAGE


class MediaFormSet(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["DELETE"].label = gettext_lazy("Remove")

    def clean(self) -> None:
        seen: set[int] = set()
        for form in self.forms:
            pk = getattr(form, "cleaned_data", {}).get("item_id")
            if pk is not None and not form.cleaned_data.get("DELETE"):
                if pk in seen:
                    raise ValidationError(_("The same media item is in two rows: reload the page."))
                seen.add(pk)


MEDIA_FORMSET = forms.formset_factory(
    MediaForm, formset=MediaFormSet, extra=0, can_delete=True, max_num=50, absolute_max=60, validate_max=True
)


def _formset(form: type[forms.Form], extra: int) -> type[forms.BaseFormSet]:
    return forms.formset_factory(form, extra=extra, max_num=50, absolute_max=60, validate_max=True)


FORMSETS: dict[str, tuple[type[forms.BaseFormSet], str]] = {
    "participants": (_formset(ParticipantForm, 2), gettext_lazy("Add a participant")),
    "sources": (_formset(SourceForm, 1), gettext_lazy("Add a source")),
    # No blank media row until asked for: most developments have none.
    "media": (MEDIA_FORMSET, gettext_lazy("Add a media item")),
    "points": (_formset(PointForm, 1), gettext_lazy("Add a discussion point")),
    "expected": (_formset(ExpectedNextForm, 1), gettext_lazy("Add an expectation")),
}


class EventForm(forms.Form):
    """The event itself. Its date is entered as a local date (and time) in a zone, at a precision."""

    story = forms.ModelChoiceField(label=gettext_lazy("Story"), queryset=Story.objects.order_by("title"))
    title = forms.CharField(label=gettext_lazy("Title"), max_length=250)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=EventKind.choices)
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=EventStatus.choices, initial=EventStatus.HAPPENED)
    date = forms.DateField(label=gettext_lazy("Date"), widget=DATE_INPUT)
    time = forms.TimeField(
        label=gettext_lazy("Time"),
        required=False,
        widget=TIME_INPUT,
        help_text=gettext_lazy("Local time in the time zone below; blank when only the day is known."),
    )
    precision = forms.ChoiceField(
        label=gettext_lazy("Precision"),
        choices=DatePrecision.choices,
        initial=DatePrecision.DAY,
        help_text=gettext_lazy("How exactly the date is known. For a year alone, give any day of that year."),
    )
    time_zone = forms.CharField(
        label=gettext_lazy("Time zone"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
        help_text=gettext_lazy("Where the time was local, such as Europe/Moscow. Blank: the place's, else the site's."),
    )
    end_date = forms.DateField(label=gettext_lazy("End date"), required=False, widget=DATE_INPUT)
    end_time = forms.TimeField(label=gettext_lazy("End time"), required=False, widget=TIME_INPUT)
    place = forms.ModelChoiceField(label=gettext_lazy("Place"), queryset=Place.objects.order_by("name"), required=False)
    forum = forms.ModelChoiceField(label=gettext_lazy("Forum"), queryset=Forum.objects.order_by("name"), required=False)
    topics = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Topics"),
        queryset=Topic.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    summary = forms.CharField(
        label=gettext_lazy("Summary"),
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "hx-post": reverse_lazy("desk:markdown_preview"),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#summary-preview",
                "hx-swap": "innerHTML",
                "hx-sync": "this:queue last",
            }
        ),
        help_text=gettext_lazy("Markdown: *emphasis*, [links](https://…), lists. A preview shows below."),
    )
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        if name and name not in zoneinfo.available_timezones():
            raise ValidationError(_("“%(zone)s” is not a time zone we know: try Europe/Moscow."), params={"zone": name})
        return name

    def _zone(self, data: dict[str, Any]) -> zoneinfo.ZoneInfo:
        place = data.get("place")
        return dates.zone_for(data.get("time_zone") or (place.time_zone if place else "") or settings.TIME_ZONE)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        day, precision = data.get("date"), data.get("precision")
        if day is None or precision is None:
            return data
        zone = self._zone(data)
        time = data.get("time")
        if time and precision == DatePrecision.DAY:
            # A time typed with the default precision means the time is known.
            precision = data["precision"] = DatePrecision.EXACT
        if precision == DatePrecision.EXACT and time is None:
            self.add_error("time", _("Give the time, or choose a precision that needs none (Day, Month, Year)."))
            return data
        if time and precision != DatePrecision.EXACT:
            self.add_error(
                "time", _("A time is kept only with the precision “Exact time”: clear it or change the precision.")
            )
            return data
        data["start"] = _instant(day, time, precision, zone)
        data["end"] = None
        end_day, end_time = data.get("end_date"), data.get("end_time")
        if end_time and not end_day:
            self.add_error("end_date", _("Give the end date for the end time."))
        elif end_day:
            end_precision = (
                DatePrecision.EXACT
                if end_time
                else (DatePrecision.DAY if precision == DatePrecision.EXACT else precision)
            )
            data["end"] = _instant(end_day, end_time, end_precision, zone)
            data["end_precision"] = end_precision
            if data["end"] < data["start"]:
                self.add_error("end_date", _("The end is before the start."))
        return data

    def event_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "story": data["story"],
            "title": data["title"],
            "kind": data["kind"],
            "status": data["status"],
            "start": data["start"],
            "start_precision": data["precision"],
            "end": data["end"],
            "end_precision": data.get("end_precision", DatePrecision.EXACT),
            "place": data.get("place"),
            "forum": data.get("forum"),
            "summary": data["summary"],
        }


def _instant(
    day: datetime.date, time: datetime.time | None, precision: str, zone: datetime.tzinfo
) -> datetime.datetime:
    if precision == DatePrecision.EXACT:
        return datetime.datetime.combine(day, time, zone).astimezone(datetime.UTC)
    return dates.anchor(day, precision)


def initial_for(event: Event) -> dict[str, Any]:
    """The event as the form shows it: its start back in the zone it is shown in."""
    zone = event.display_zone
    exact = event.start_precision == DatePrecision.EXACT
    local = timezone.localtime(event.start, zone) if exact else None
    initial = {
        "story": event.story_id,
        "title": event.title,
        "kind": event.kind,
        "status": event.status,
        "date": local.date() if local else dates.calendar_date(event.start, event.start_precision),
        "time": local.time().replace(second=0, microsecond=0) if local else None,
        "precision": event.start_precision,
        "time_zone": zone.key if exact else "",
        "place": event.place_id,
        "forum": event.forum_id,
        "topics": [topic.pk for topic in event.topics.all()],
        "summary": event.summary,
        "loaded_version": event.version,
    }
    if event.end:
        end_exact = event.end_precision == DatePrecision.EXACT
        end_local = timezone.localtime(event.end, zone) if end_exact else None
        initial["end_date"] = end_local.date() if end_local else dates.calendar_date(event.end, event.end_precision)
        initial["end_time"] = end_local.time().replace(second=0, microsecond=0) if end_local else None
    return initial


def rows_initial(event: Event) -> dict[str, list[dict[str, Any]]]:
    """The event's participants, sources and discussion points as the formsets' initial rows."""
    points = []
    for point in event.discussion_points.all():
        row: dict[str, Any] = {"title": point.title, "topic": point.topic_id, "summary": point.summary}
        for (side, stance), position in zip(
            (("side_a", "stance_a"), ("side_b", "stance_b")), point.positions.all(), strict=False
        ):
            row[side], row[stance] = position.actor.name, position.stance
        points.append(row)
    return {
        "participants": [{"actor": p.actor.name, "role": p.role} for p in event.participations.all()],
        "sources": [
            {"url": s.url, "outlet": s.outlet, "headline": s.title, "published_on": s.published_on, "quote": s.quote}
            for s in event.sources.all()
        ],
        "points": points,
        "media": [media_initial(item) for item in event.media.all()],
        "expected": [],
    }


def media_initial(item: MediaItem) -> dict[str, Any]:
    """A saved media item as its row of the edit form (its file stays where it is, named by `item`)."""
    fields = ("kind", "url", "title", "outlet", "caption", "credit", "alt_text", "taken_on")
    return {"item": item.pk, **{name: getattr(item, name) for name in fields}}


class DevelopmentForm:
    """The event form and its four formsets, validated and read as one."""

    def __init__(
        self,
        data: Any = None,
        files: Any = None,
        *,
        initial: dict | None = None,
        rows: dict | None = None,
        media: Iterable[MediaItem] = (),
    ) -> None:
        """`media` are the event's saved media items: the only ones its rows may name."""
        self.event = EventForm(data, initial=initial)
        rows = dict(rows or {})
        media = list(media)
        # Data without the media rows at all (not this page's form) leaves the event's media as they
        # are, and the page shown again offers them as saved.
        self.has_media = data is None or "media-TOTAL_FORMS" in data
        if not self.has_media:
            rows["media"] = [media_initial(item) for item in media]
        topics = {topic.pk: topic for topic in Topic.objects.order_by("name")}
        kwargs = {"points": {"topics": topics}, "media": {"items": {item.pk: item for item in media}}}
        self.formsets = {
            prefix: formset_class(
                *((data, files) if prefix != "media" or self.has_media else (None, None)),
                prefix=prefix,
                initial=rows.get(prefix) or None,
                form_kwargs=kwargs.get(prefix, {}),
            )
            for prefix, (formset_class, _label) in FORMSETS.items()
        }

    def is_valid(self) -> bool:
        valid = self.event.is_valid()
        for prefix, formset in self.formsets.items():
            if prefix != "media" or self.has_media:
                valid = formset.is_valid() and valid
        return self._sides_are_known() and valid

    def _sides_are_known(self) -> bool:
        """A side of a discussion point names a known actor or someone added as a participant."""
        new_names = {
            row["actor_ref"].name.lower()
            for row in (f.cleaned_data for f in self.formsets["participants"].forms if hasattr(f, "cleaned_data"))
            if row.get("actor_ref") and row["actor_ref"].actor is None
        }
        known = True
        for form in self.formsets["points"].forms:
            for side, error in getattr(form, "unknown_sides", []):
                if form.cleaned_data.get(side, "").strip().lower() not in new_names:
                    form.add_error(side, error)
                    known = False
        return known

    def hide_errors(self) -> None:
        """After adding a row without JavaScript the page is shown again, not judged: no messages yet."""
        for form in [self.event, *(f for formset in self.formsets.values() for f in formset.forms)]:
            form.full_clean()
            form._errors = forms.utils.ErrorDict()
            if refused := getattr(form, "refused_upload", None):
                # The file chosen was refused: say so now, or it would seem to vanish.
                form.add_error("file", refused)
        for formset in self.formsets.values():
            formset.full_clean()
            formset._non_form_errors = formset.error_class()

    @property
    def rows(self) -> list[tuple[str, forms.BaseFormSet, str]]:
        return [(prefix, self.formsets[prefix], FORMSETS[prefix][1]) for prefix in FORMSETS]

    def _filled_forms(self, prefix: str) -> list[forms.Form]:
        return [
            form
            for form in self.formsets[prefix].forms
            if form.cleaned_data and form.has_content() and not form.cleaned_data.get("DELETE")
        ]

    def _filled(self, prefix: str) -> list[dict[str, Any]]:
        return [form.cleaned_data for form in self._filled_forms(prefix)]

    def development(self) -> Development:
        """The cleaned input; call after is_valid()."""
        return Development(
            fields=self.event.event_fields(),
            topics=list(self.event.cleaned_data["topics"]),
            participants=[(row["actor_ref"], row["role"]) for row in self._filled("participants")],
            sources=[
                {
                    "url": row["url"],
                    "outlet": row["outlet"],
                    "title": row["headline"],
                    "published_on": row["published_on"],
                    "quote": row["quote"],
                }
                for row in self._filled("sources")
            ],
            points=[
                Point(title=row["title"], topic=row["topic"], summary=row["summary"], sides=row["sides"])
                for row in self._filled("points")
            ],
            media=[form.media_row() for form in self._filled_forms("media")] if self.has_media else None,
            expectations=[
                {"title": row["title"], "due_on": row["due_on"], "due_precision": row["due_precision"]}
                for row in self._filled("expected")
            ],
        )


MOVE = re.compile(r"^(?P<prefix>[a-z]+)-(?P<index>\d+)-(?P<direction>up|down)$")


def with_row_moved(data: Any, files: Any, move: str) -> tuple[Any, Any]:
    """Copies of posted data and files with row `<prefix>-<index>` swapped with the one above or
    below (`move` is "media-2-up"); a move off either end changes nothing."""
    data, files = data.copy(), files.copy()
    match = MOVE.match(move)
    if not match or match["prefix"] not in FORMSETS:
        return data, files
    prefix, index = match["prefix"], int(match["index"])
    other = index - 1 if match["direction"] == "up" else index + 1
    total = int(data.get(f"{prefix}-TOTAL_FORMS") or 0)
    if not (0 <= index < total and 0 <= other < total):
        return data, files
    names = [*FORMSETS[prefix][0].form.base_fields, "DELETE"]
    for posted in (data, files):
        for name in names:
            here, there = f"{prefix}-{index}-{name}", f"{prefix}-{other}-{name}"
            values = {key: posted.getlist(key) for key in (here, there)}
            for key, value in ((here, values[there]), (there, values[here])):
                if value:
                    posted.setlist(key, value)
                else:
                    posted.pop(key, None)
    return data, files


def with_one_more_row(data: Any, prefix: str) -> Any:
    """A copy of posted data with one more (empty) row in formset `prefix`, its fields at their initial."""
    formset_class, _label = FORMSETS[prefix]
    data = data.copy()
    index = int(data.get(f"{prefix}-TOTAL_FORMS") or 0)
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, form_field in formset_class.form.base_fields.items():
        if form_field.initial is not None:
            data[f"{prefix}-{index}-{name}"] = str(form_field.initial)
    return data
