"""The data of a developing story: what happened, who took part, and what is expected next.

The database guards the rules that matter (check constraints, unique slugs, deliberate on_delete);
services.py is the only writer that changes state, and selectors.py the only reader for pages.
"""

import datetime
import re
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from imagekit.models import ImageSpecField
from simple_history.models import HistoricalRecords

from . import dates
from .addresses import slug_path
from .media.specs import THUMBNAIL_WIDTHS, Thumbnail
from .text import render_markdown


def _label(choices: type[models.Choices], value: str) -> str:
    """A choice's label in the active language, for a get_FOO_display() of our own: Django's hashes
    every lazy label of the field's choices on each call (a catalog lookup each), and cards call it
    thrice each. A value outside the choices (the database's checks refuse one) shows as it is."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _choices_check(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", re.IGNORECASE)


def validate_language_tag(value: str) -> None:
    if not _LANGUAGE_TAG.fullmatch(value):
        raise ValidationError(_("“%(value)s” is not a language tag (try en, fr, uk or pt-br).") % {"value": value})


def validate_time_zone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone (try Europe/Moscow).") % {"value": value})


class DatePrecision(models.TextChoices):
    EXACT = "exact", _("Exact time")
    DAY = "day", pgettext_lazy("date precision", "Day")
    MONTH = "month", pgettext_lazy("date precision", "Month")
    YEAR = "year", pgettext_lazy("date precision", "Year")
    APPROXIMATE = "approximate", pgettext_lazy("date precision", "Approximate")


# --- Stories and the things they involve ---------------------------------------------------------


class StoryQuerySet(models.QuerySet):
    def developing(self) -> "StoryQuerySet":
        return self.filter(status=Story.Status.DEVELOPING)

    def newest_development_first(self) -> "StoryQuerySet":
        return self.order_by(models.F("last_development_at").desc(nulls_last=True), "-id")


class StoryStatus(models.TextChoices):
    DEVELOPING = "developing", pgettext_lazy("story status", "Developing")
    CONCLUDED = "concluded", pgettext_lazy("story status", "Concluded")


class Story(models.Model):
    Status = StoryStatus

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.TextField(blank=True)
    # The summary rendered and sanitised once, when saved (as Event.summary_html).
    summary_html = models.TextField(blank=True, editable=False)
    status = models.CharField(max_length=20, choices=Status, default=Status.DEVELOPING)
    # The language its texts and its events' texts are written in (a BCP 47 tag such as "fr" or
    # "uk"), whatever the reader's interface language: pages mark it with lang="..." for screen readers
    # and search engines. Any language, not only the interface's (forms offer Django's list).
    language = models.CharField(max_length=16, default=settings.LANGUAGE_CODE, validators=[validate_language_tag])
    # Kept by services when an event is published, so the front page sorts without aggregating.
    last_development_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # When editors were last told it had gone quiet: told once per quiet spell, not once a day.
    quiet_nudged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = _("stories")
        ordering = ["-last_development_at", "-id"]
        constraints = [_choices_check("status", StoryStatus, "story_status_valid")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.summary_html = render_markdown(self.summary)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "summary" in update_fields:
            kwargs["update_fields"] = {*update_fields, "summary_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return slug_path("events:story_detail", self.slug)


class ActorKind(models.TextChoices):
    PERSON = "person", _("Person")
    COUNTRY = "country", _("Country")
    ORGANISATION = "organisation", _("Organisation")


class Actor(models.Model):
    Kind = ActorKind

    kind = models.CharField(max_length=20, choices=Kind)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.CharField(max_length=300, blank=True)
    # Macron -> France. PROTECT: removing France must not silently orphan its president.
    affiliation = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="affiliates")
    aliases = models.JSONField(default=list, blank=True, help_text=_("Other names readers may search for."))

    class Meta:
        ordering = ["name"]
        constraints = [
            _choices_check("kind", ActorKind, "actor_kind_valid"),
            models.CheckConstraint(condition=~Q(affiliation=models.F("id")), name="actor_not_affiliated_to_self"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return slug_path("events:actor_detail", self.slug)


class Place(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    country = models.CharField(max_length=100, blank=True)
    latitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("IANA zone, such as Europe/Moscow. Times of events here are shown in it."),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="place_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.country}" if self.country else self.name

    def get_absolute_url(self) -> str:
        return slug_path("events:place_detail", self.slug)


class Topic(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return slug_path("events:topic_detail", self.slug)


class Forum(models.Model):
    """A recurring multilateral format: the Normandy format, the OSCE Permanent Council..."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(Actor, blank=True, related_name="forums")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Events --------------------------------------------------------------------------------------


class EventQuerySet(models.QuerySet):
    def published(self) -> "EventQuerySet":
        return self.filter(publication=Event.Publication.PUBLISHED)

    def drafts(self) -> "EventQuerySet":
        return self.filter(publication=Event.Publication.DRAFT)

    def newest_first(self) -> "EventQuerySet":
        return self.order_by("-start", "-id")


class EventKind(models.TextChoices):
    MEETING = "meeting", _("Meeting")
    VISIT = "visit", _("Visit")
    CALL = "call", _("Phone call")
    MULTILATERAL = "multilateral", _("Multilateral session")
    STATEMENT = "statement", _("Statement")
    SANCTION = "sanction", _("Sanction")
    MILITARY_MOVE = "military_move", _("Military move")
    AGREEMENT = "agreement", _("Agreement")
    OTHER = "other", pgettext_lazy("event kind", "Other")


class EventStatus(models.TextChoices):
    SCHEDULED = "scheduled", pgettext_lazy("event status", "Scheduled")
    HAPPENED = "happened", pgettext_lazy("event status", "Happened")
    POSTPONED = "postponed", pgettext_lazy("event status", "Postponed")
    CANCELLED = "cancelled", pgettext_lazy("event status", "Cancelled")


class EventPublication(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("event publication", "Draft")
    PUBLISHED = "published", pgettext_lazy("event publication", "Published")


class Event(models.Model):
    Kind = EventKind
    Status = EventStatus
    Publication = EventPublication

    # A story owns its events: deleting a story (an admin act) takes them with it.
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind)
    title = models.CharField(max_length=250)
    slug = models.SlugField(max_length=250, unique=True)
    summary = models.TextField(blank=True, help_text=_("Markdown. Rendered and sanitised for readers."))
    # The summary rendered and sanitised once, when saved: pages never run Markdown per view.
    summary_html = models.TextField(blank=True, editable=False)
    start = models.DateTimeField(help_text=_("Stored in UTC."))
    start_precision = models.CharField(max_length=12, choices=DatePrecision, default=DatePrecision.EXACT)
    end = models.DateTimeField(null=True, blank=True)
    end_precision = models.CharField(max_length=12, choices=DatePrecision, default=DatePrecision.EXACT)
    # Places and forums are reference data: refuse to delete one that events still point to.
    place = models.ForeignKey(Place, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    forum = models.ForeignKey(Forum, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    status = models.CharField(max_length=20, choices=Status, default=Status.HAPPENED)
    participants = models.ManyToManyField(Actor, through="Participation", related_name="events")
    topics = models.ManyToManyField(Topic, blank=True, related_name="events")
    publication = models.CharField(max_length=20, choices=Publication, default=Publication.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Where an imported event came from (a TimelineJS unique_id, or a hash of its row), so that
    # importing the same file twice creates nothing new. Blank for events logged on the desk.
    external_id = models.CharField(max_length=200, blank=True, editable=False)
    # Optimistic locking: an edit names the version it started from; services refuse a stale one.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The first image among the event's media, kept by services.media so that a timeline card shows
    # its picture through a join, not a query per card.
    lead_image = models.ForeignKey(
        "MediaItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    history = HistoricalRecords(m2m_fields=[topics], excluded_fields=["lead_image"])
    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="event_end_not_before_start",
            ),
            _choices_check("start_precision", DatePrecision, "event_start_precision_valid"),
            _choices_check("end_precision", DatePrecision, "event_end_precision_valid"),
            _choices_check("kind", EventKind, "event_kind_valid"),
            _choices_check("status", EventStatus, "event_status_valid"),
            _choices_check("publication", EventPublication, "event_publication_valid"),
            models.CheckConstraint(
                condition=Q(publication="draft") | Q(published_at__isnull=False),
                name="event_published_has_published_at",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="event_version_positive"),
            models.UniqueConstraint(
                fields=["story", "external_id"], condition=~Q(external_id=""), name="event_external_id_unique"
            ),
        ]
        indexes = [
            # The timeline: a story's published events, newest first, keyset on (start, id).
            models.Index(
                fields=["story", "-start", "-id"],
                name="event_timeline_idx",
                condition=Q(publication="published"),
            ),
            models.Index(fields=["story", "kind", "-start"], name="event_story_kind_idx"),
            # The live notice: "anything published in this story since I loaded?"
            models.Index(fields=["story", "-published_at"], name="event_story_published_idx"),
            models.Index(fields=["place", "-start"], name="event_place_start_idx"),
            models.Index(fields=["story", "-updated_at"], name="event_story_updated_idx"),
            # The desk: drafts and all events, the most recently changed first.
            models.Index(
                fields=["-updated_at", "-id"], name="event_drafts_changed_idx", condition=Q(publication="draft")
            ),
            models.Index(fields=["-updated_at", "-id"], name="event_changed_idx"),
            # Drafts and published events of a story by date: finding the event that fulfilled an expectation.
            models.Index(fields=["story", "-start", "-id"], name="event_story_start_idx"),
            # An actor's or topic's page: published events across stories, newest first.
            models.Index(
                fields=["-start", "-id"], name="event_published_newest_idx", condition=Q(publication="published")
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.summary_html = render_markdown(self.summary)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "summary" in update_fields:
            kwargs["update_fields"] = {*update_fields, "summary_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return slug_path("events:event_detail", self.slug)

    def get_kind_display(self) -> str:
        return _label(self.Kind, self.kind)

    def get_status_display(self) -> str:
        return _label(self.Status, self.status)

    def clean(self) -> None:
        if self.end and self.start and self.end < self.start:
            raise ValidationError({"end": _("An event cannot end before it starts.")})

    @property
    def is_published(self) -> bool:
        return self.publication == self.Publication.PUBLISHED

    @property
    def display_zone(self) -> zoneinfo.ZoneInfo:
        return dates.zone_for(self.place.time_zone if self.place_id and self.place else "")

    @property
    def when(self) -> str:
        """The start (and end) as readers see them, at the precision they are known."""
        return dates.format_span(self.start, self.start_precision, self.end, self.end_precision, self.display_zone)

    @property
    def local_day(self) -> datetime.date:
        """The day the timeline files this event under (in the site's zone for an exact time)."""
        return dates.calendar_date(self.start, self.start_precision)


class ParticipationRole(models.TextChoices):
    HOST = "host", pgettext_lazy("participation role", "Host")
    GUEST = "guest", pgettext_lazy("participation role", "Guest")
    MEDIATOR = "mediator", pgettext_lazy("participation role", "Mediator")
    OBSERVER = "observer", pgettext_lazy("participation role", "Observer")
    PARTICIPANT = "participant", pgettext_lazy("participation role", "Participant")


class Participation(models.Model):
    Role = ParticipationRole

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participations")
    # An actor who took part in events cannot be deleted out from under them.
    actor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="participations")
    role = models.CharField(max_length=20, choices=Role, default=Role.PARTICIPANT)

    class Meta:
        ordering = ["event", "role", "actor__name"]
        constraints = [
            models.UniqueConstraint(fields=["event", "actor"], name="participation_unique_actor_per_event"),
            _choices_check("role", ParticipationRole, "participation_role_valid"),
        ]
        indexes = [models.Index(fields=["actor", "event"], name="participation_actor_event_idx")]

    def __str__(self) -> str:
        return gettext("%(actor)s (%(role)s) at %(event)s") % {
            "actor": self.actor,
            "role": self.get_role_display(),
            "event": self.event,
        }

    def get_role_display(self) -> str:
        return _label(self.Role, self.role)


class DiscussionPoint(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="discussion_points")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["event", "order", "id"]

    def __str__(self) -> str:
        return self.title


class Position(models.Model):
    """One side's stance on a discussion point: what Macron pushed for, what Putin reiterated."""

    discussion_point = models.ForeignKey(DiscussionPoint, on_delete=models.CASCADE, related_name="positions")
    actor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="positions")
    stance = models.TextField()

    class Meta:
        ordering = ["discussion_point", "id"]
        constraints = [
            models.UniqueConstraint(fields=["discussion_point", "actor"], name="position_unique_actor_per_point"),
        ]

    def __str__(self) -> str:
        return f"{self.actor}: {self.stance[:60]}"


class Correction(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="corrections")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["event", "created_at"]

    def __str__(self) -> str:
        return gettext("Correction to %(event)s") % {"event": self.event}


# --- Media -----------------------------------------------------------------------------------------


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Photo or picture")
    DOCUMENT = "document", _("Document (PDF)")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio clip")
    SOCIAL = "social", _("Social-media post")
    PAGE = "page", _("Web page")


UPLOADED_KINDS = frozenset({MediaKind.IMAGE, MediaKind.DOCUMENT})
LINKED_KINDS = frozenset({MediaKind.VIDEO, MediaKind.AUDIO, MediaKind.SOCIAL, MediaKind.PAGE})


def _by_month(folder: str, filename: str) -> str:
    # Names are chosen by events.media.uploads (a random hex and the format's extension); this only
    # files them by month, so that no folder grows without bound.
    return timezone.now().strftime(f"{folder}/%Y/%m/") + filename.rsplit("/", 1)[-1]


def media_image_path(instance: "MediaItem | None", filename: str) -> str:
    return _by_month("images", filename)


def media_document_path(instance: "MediaItem | None", filename: str) -> str:
    return _by_month("documents", filename)


class MediaItem(models.Model):
    """A photo, a document, or a link to a video, an audio clip, a post or a page, shown with an event.

    Uploads are checked and cleaned (metadata stripped) by events.media.uploads before they are
    stored; links are shown as cards, and never load a third party's scripts or frames unasked.
    """

    Kind = MediaKind

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="media")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=Kind)
    image = models.ImageField(upload_to=media_image_path, max_length=200, blank=True)
    document = models.FileField(upload_to=media_document_path, max_length=200, blank=True)
    # The stored image's size, so that pages reserve its room before it loads (no layout shift).
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    file_size = models.PositiveIntegerField(null=True, blank=True, help_text=_("In bytes."))
    url = models.URLField(max_length=2000, blank=True)
    # A link's preview image elsewhere (TimelineJS's Media Thumbnail): kept for the export, never
    # shown here, as readers' browsers would fetch it from a third party.
    thumbnail_url = models.URLField(max_length=2000, blank=True)
    title = models.CharField(max_length=300, blank=True)
    outlet = models.CharField(max_length=200, blank=True)
    caption = models.TextField(max_length=1000, blank=True)
    credit = models.CharField(max_length=300, blank=True)
    alt_text = models.CharField(max_length=500, blank=True)
    taken_on = models.DateField(null=True, blank=True, help_text=_("When it was taken or published."))
    created_at = models.DateTimeField(auto_now_add=True)

    # Resized copies for srcset, made when the image is saved (imagekit's optimistic strategy):
    # building their addresses touches neither the storage nor the database.
    thumbnail_small = ImageSpecField(source="image", spec=Thumbnail.of(THUMBNAIL_WIDTHS[0]))
    thumbnail_medium = ImageSpecField(source="image", spec=Thumbnail.of(THUMBNAIL_WIDTHS[1]))
    thumbnail_large = ImageSpecField(source="image", spec=Thumbnail.of(THUMBNAIL_WIDTHS[2]))

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            _choices_check("kind", MediaKind, "media_kind_valid"),
            # An image is accessible and credited, always; an upload has its file, a link its address.
            models.CheckConstraint(
                condition=~Q(kind="image") | (~Q(image="") & ~Q(credit="") & ~Q(alt_text="") & Q(width__gt=0)),
                name="media_image_complete",
                violation_error_message=_("A photo or picture needs its file, its credit and its alt text."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="document") | ~Q(document=""),
                name="media_document_has_file",
                violation_error_message=_("A document needs its PDF file."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=sorted(UPLOADED_KINDS)) | (~Q(url="") & Q(image="") & Q(document="")),
                name="media_link_has_url",
                violation_error_message=_("A link to a video, an audio clip, a post or a page needs its address."),
            ),
        ]
        indexes = [models.Index(fields=["event", "position", "id"], name="media_event_position_idx")]

    def __str__(self) -> str:
        return self.caption[:60] or self.title or self.url or self.image.name or self.document.name

    @property
    def is_image(self) -> bool:
        return self.kind == MediaKind.IMAGE

    @property
    def is_link(self) -> bool:
        return self.kind in LINKED_KINDS

    def thumbnails(self) -> list[tuple[ImageSpecField, int, int]]:
        """(file, width, height) of each resized copy, smallest first; none is wider than the original."""
        if not (self.is_image and self.width and self.height):
            return []
        sizes = []
        for spec, width in zip(
            (self.thumbnail_small, self.thumbnail_medium, self.thumbnail_large), THUMBNAIL_WIDTHS, strict=True
        ):
            width = min(width, self.width)
            sizes.append((spec, width, max(1, round(self.height * width / self.width))))
        return sizes

    @property
    def srcset(self) -> str:
        # A picture narrower than a copy's width gets copies of the same width: list one (the last,
        # as thumbnail_for picks), since srcset must not offer two candidates with one descriptor.
        candidates = {width: spec.url for spec, width, _height in self.thumbnails()}
        return ", ".join(f"{url} {width}w" for width, url in sorted(candidates.items()))

    def thumbnail_for(self, width: int) -> tuple[ImageSpecField, int, int] | None:
        """The smallest resized copy at least `width` wide (the largest there is, else)."""
        sizes = self.thumbnails()
        return next((size for size in sizes if size[1] >= width), sizes[-1] if sizes else None)


# --- Expectations --------------------------------------------------------------------------------


class ExpectationQuerySet(models.QuerySet):
    def open(self) -> "ExpectationQuerySet":
        """Still waiting for the event that would fulfil them (pending, or flagged overdue)."""
        return self.filter(status__in=Expectation.OPEN_STATUSES)

    def pending(self) -> "ExpectationQuerySet":
        return self.filter(status=Expectation.Status.PENDING)

    def past_due(self, today: datetime.date) -> "ExpectationQuerySet":
        """Their latest acceptable date is behind us, whether or not a job has flagged them yet."""
        return self.filter(latest_on__lt=today)

    def not_past_due(self, today: datetime.date) -> "ExpectationQuerySet":
        return self.filter(Q(latest_on__isnull=True) | Q(latest_on__gte=today))

    def flagged_unannounced(self) -> "ExpectationQuerySet":
        """Flagged overdue by the job and not yet told to the editors: the rows of its queue
        (UnannouncedOverdue), which stays as small as one run's worth whatever the table's size."""
        return self.filter(status=Expectation.Status.OVERDUE, unannounced_overdue__isnull=False)

    def unreviewed(self) -> "ExpectationQuerySet":
        return self.filter(reviewed_at__isnull=True)

    def by_due_date(self) -> "ExpectationQuerySet":
        return self.order_by(models.F("due_on").asc(nulls_last=True), "id")


class ExpectationStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("expectation status", "Pending")
    FULFILLED = "fulfilled", pgettext_lazy("expectation status", "Fulfilled")
    OVERDUE = "overdue", pgettext_lazy("expectation status", "Overdue")
    CANCELLED = "cancelled", pgettext_lazy("expectation status", "Cancelled")
    SUPERSEDED = "superseded", pgettext_lazy("expectation status", "Superseded")


class Expectation(models.Model):
    """Something reported as expected next ("Macron is expected to travel to Kyiv")."""

    Status = ExpectationStatus

    # The foreign keys' own indexes are left out (db_index=False) where Meta.indexes has a better one:
    # a story's expectations are found by the indexes that lead with it, and the others, empty on
    # most rows (fulfilled_by on every open one), are indexed where set. Each index is a write on
    # every change of status (the overdue job flags 10,000 rows at a time).
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="expectations", db_index=False)
    title = models.CharField(max_length=250)
    slug = models.SlugField(max_length=250, unique=True)
    description = models.TextField(blank=True)
    raised_by = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="expectations_raised", db_index=False
    )
    expected_actors = models.ManyToManyField(Actor, blank=True, related_name="expectations")
    place = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.PROTECT, related_name="expectations", db_index=False
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="expectations")
    # The due window: due_on at its precision, and the last date that still counts as on time.
    # No due_on: open-ended ("in the coming weeks"), never overdue.
    due_on = models.DateField(null=True, blank=True)
    due_precision = models.CharField(max_length=12, choices=DatePrecision, default=DatePrecision.DAY)
    latest_on = models.DateField(
        null=True,
        blank=True,
        help_text=_("Last acceptable date. Left blank, it follows from the due date and its precision."),
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    # Deleting the event that fulfilled an expectation would rewrite history: refuse it. RESTRICT, not
    # PROTECT, so deleting the whole story (which takes the expectation too) is still allowed.
    fulfilled_by = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.RESTRICT, related_name="expectations_fulfilled", db_index=False
    )
    flagged_overdue_at = models.DateTimeField(null=True, blank=True)
    # Set once the editors have been told; a run that crashed before telling them tells them next time.
    overdue_announced_at = models.DateTimeField(null=True, blank=True)
    # "Unreviewed" (no editor has looked since it was raised or flagged) is a separate fact from overdue.
    reviewed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Why it was cancelled or superseded, or why its due date moved: an editor's words.
    status_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    # History is read by expectation (id) and by date, never by these: their indexes would only cost
    # every write (the overdue job's 10,000 records at a time).
    history = HistoricalRecords(
        m2m_fields=[expected_actors], no_db_index=["slug", "story", "place", "raised_by", "fulfilled_by"]
    )
    objects = ExpectationQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="fulfilled") & Q(fulfilled_by__isnull=False))
                | (~Q(status="fulfilled") & Q(fulfilled_by__isnull=True)),
                name="expectation_fulfilled_iff_fulfilled_by",
            ),
            models.CheckConstraint(
                condition=Q(latest_on__isnull=True) | Q(due_on__isnull=False, latest_on__gte=models.F("due_on")),
                name="expectation_latest_not_before_due",
            ),
            _choices_check("due_precision", DatePrecision, "expectation_due_precision_valid"),
            _choices_check("status", ExpectationStatus, "expectation_status_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="expectation_version_positive"),
        ]
        indexes = [
            # The overdue job and "what's next": open expectations by deadline.
            models.Index(
                fields=["latest_on"],
                name="expectation_open_deadline_idx",
                condition=Q(status__in=["pending", "overdue"]),
            ),
            models.Index(fields=["story", "status", "due_on"], name="expectation_story_status_idx"),
            # A story's "what's next": its open expectations by deadline, and the latest fulfilled.
            models.Index(
                fields=["story", "latest_on", "id"],
                name="expectation_story_open_idx",
                condition=Q(status__in=["pending", "overdue"]),
            ),
            models.Index(
                fields=["story", "-resolved_at", "-id"],
                name="expectation_fulfilled_idx",
                condition=Q(status="fulfilled"),
            ),
            # The list of a story's expectations, by deadline.
            models.Index(fields=["story", "latest_on", "id"], name="expectation_deadline_idx"),
            # The desk's "unreviewed", newest first: a seq scan over every expectation without it.
            models.Index(
                fields=["-created_at", "-id"], name="expectation_unreviewed_idx", condition=Q(reviewed_at__isnull=True)
            ),
            # An event's or a place's expectations (its page, and what deleting it must check or clear).
            *(
                models.Index(fields=[name], name=f"expectation_{name}_idx", condition=Q(**{f"{name}__isnull": False}))
                for name in ("raised_by", "fulfilled_by", "place")
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.derive_latest_on()
        super().save(*args, **kwargs)

    def derive_latest_on(self) -> None:
        """Fill the latest acceptable date from the due date and its precision when none was chosen,
        and move it with the due date when it was derived (a postponed "Feb 2022" becomes "Mar 2022")."""
        loaded = getattr(self, "_loaded_window", None)
        was_derived = bool(loaded and loaded[0] and loaded[2] == dates.window_end(loaded[0], loaded[1]))
        if was_derived and (self.due_on, self.due_precision) != loaded[:2] and self.latest_on == loaded[2]:
            self.latest_on = None
        if self.due_on and not self.latest_on:
            self.latest_on = dates.window_end(self.due_on, self.due_precision)

    def clean(self) -> None:
        self.derive_latest_on()
        if self.latest_on and not self.due_on:
            raise ValidationError({"due_on": _("Give the due date when giving a latest acceptable date.")})
        if self.latest_on and self.due_on and self.latest_on < self.due_on:
            raise ValidationError({"latest_on": _("The latest acceptable date cannot be before the due date.")})
        if self.fulfilled_by_id and self.story_id and not self.can_be_fulfilled_by(self.fulfilled_by):
            raise ValidationError({"fulfilled_by": gettext(self.FOREIGN_FULFILMENT)})
        if (self.status == self.Status.FULFILLED) != bool(self.fulfilled_by_id):
            raise ValidationError(
                {
                    "fulfilled_by": _(
                        "A fulfilled expectation names the event that fulfilled it, and only a fulfilled one does."
                    )
                }
            )

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        # Remember the due window as loaded, to tell a derived latest date from one an editor chose.
        instance._loaded_window = (
            instance.__dict__.get("due_on"),
            instance.__dict__.get("due_precision"),
            instance.__dict__.get("latest_on"),
        )
        return instance

    OPEN_STATUSES = (ExpectationStatus.PENDING, ExpectationStatus.OVERDUE)
    # Plain English (marked for translation), so that it can be compared; translated where it is said.
    FOREIGN_FULFILMENT = gettext_noop("An expectation can only be fulfilled by an event of its own story.")

    def can_be_fulfilled_by(self, event: "Event") -> bool:
        return event.story_id == self.story_id

    @property
    def due_by(self) -> datetime.date | None:
        return self.latest_on

    def is_overdue_on(self, today: datetime.date) -> bool:
        """Overdue from its dates alone: readers see it as soon as the date passes, job or no job."""
        return self.status in self.OPEN_STATUSES and bool(self.latest_on and self.latest_on < today)

    @property
    def is_overdue(self) -> bool:
        return self.is_overdue_on(timezone.localdate())

    @property
    def due_display(self) -> str:
        if not self.due_on:
            return gettext("no date given")
        return dates.format_date(self.due_on, self.due_precision)


class UnannouncedOverdue(models.Model):
    """An expectation the overdue job has flagged and the editors have not been told of yet.

    The announcement's queue: the job adds a row as it flags, the announcement removes it once sent
    (and sets Expectation.overdue_announced_at). Finding them here rather than through an index on
    overdue_announced_at leaves that column out of every index, so marking the announced ones is a
    HOT update (no index entries written) of the rows the flag has just written.
    """

    expectation = models.OneToOneField(
        Expectation, primary_key=True, on_delete=models.CASCADE, related_name="unannounced_overdue"
    )

    class Meta:
        # The admin stays in English, as every model's names do.
        verbose_name = "overdue expectation not yet announced"
        verbose_name_plural = "overdue expectations not yet announced"

    def __str__(self) -> str:
        return str(self.expectation_id)


class Source(models.Model):
    """Where a fact comes from. It backs either an event or an expectation."""

    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.CASCADE, related_name="sources")
    expectation = models.ForeignKey(
        Expectation, null=True, blank=True, on_delete=models.CASCADE, related_name="sources"
    )
    url = models.URLField(max_length=500)
    outlet = models.CharField(max_length=200)
    title = models.CharField(max_length=300, blank=True)
    published_on = models.DateField(null=True, blank=True)
    quote = models.TextField(blank=True)

    class Meta:
        ordering = ["published_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(event__isnull=False, expectation__isnull=True)
                | Q(event__isnull=True, expectation__isnull=False),
                name="source_backs_exactly_one_thing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outlet}: {self.title or self.url}"


# --- Subscribers and digests ---------------------------------------------------------------------


def _new_token() -> str:
    return uuid.uuid4().hex


class SubscriberQuerySet(models.QuerySet):
    def confirmed(self) -> "SubscriberQuerySet":
        return self.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)


class SubscriberFrequency(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediately")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class Subscriber(models.Model):
    Frequency = SubscriberFrequency

    email = models.EmailField()
    # The secret in confirmation, preferences and unsubscribe links: no account, no password.
    token = models.CharField(max_length=64, unique=True, default=_new_token, editable=False)
    frequency = models.CharField(max_length=20, choices=Frequency, default=Frequency.DAILY)
    # The language of their emails: one of the interface's, chosen when they subscribe.
    language = models.CharField(max_length=16, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    stories = models.ManyToManyField(Story, blank=True, related_name="subscribers")
    topics = models.ManyToManyField(Topic, blank=True, related_name="subscribers")
    actors = models.ManyToManyField(Actor, blank=True, related_name="subscribers")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="subscriber_email_unique_ci"),
            _choices_check("frequency", SubscriberFrequency, "subscriber_frequency_valid"),
        ]
        indexes = [
            models.Index(
                fields=["frequency", "last_digest_at"],
                name="subscriber_due_idx",
                condition=Q(confirmed_at__isnull=False, unsubscribed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.email


class DigestDelivery(models.Model):
    """One digest for one subscriber and period. The unique constraint makes a retry or a concurrent
    run find the row instead of sending again; `sent_at` stays empty until the mail has left."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=[("digest", _("Digest")), ("alert", _("Alert"))], default="digest")
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = _("digest deliveries")
        ordering = ["-period_end"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "period_start"], name="digest_unique_per_period"),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")), name="digest_period_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Digest for %(subscriber)s (%(start)s to %(end)s)") % {
            "subscriber": self.subscriber,
            "start": f"{self.period_start:%Y-%m-%d %H:%M}",
            "end": f"{self.period_end:%Y-%m-%d %H:%M}",
        }
