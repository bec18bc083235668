"""The Django admin: every model, for editors on day one.

Events and expectations keep their history (django-simple-history): the history page lists who
changed what and when, and "Revert" on an earlier version restores it through
`services.restore_version`, which moves the version counter forward instead of back. Their change
forms carry the version they were loaded with and refuse to save over someone else's change.
"""

from typing import Any

from django import forms
from django.conf import global_settings, settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .forms import EventAdminForm, ExpectationAdminForm
from .models import (
    Actor,
    Correction,
    DigestDelivery,
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
    Subscriber,
    Topic,
    UnannouncedOverdue,
)
from .services.media import refresh_lead_image


def _short(text: str, length: int = 80) -> str:
    return Truncator(text).chars(length)


def _count_of(model: type, fk: str) -> Coalesce:
    """A per-row count as a correlated subquery: two joined COUNTs would multiply each other."""
    counted = model.objects.filter(**{fk: OuterRef("pk")}).order_by().values(fk).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


class VersionedHistoryAdmin(SimpleHistoryAdmin):
    """History with restore through `services.restore_version`, and an optimistically locked form.

    The library's "Revert" would save the old row as it was, version number included, so a form
    opened before the revert could then overwrite it. Here the revert page shows the old version
    read-only and its button restores it through the service, which records the restore and moves
    the version forward.
    """

    history_list_display = ["version"]

    def _is_history_version_view(self, request: HttpRequest) -> bool:
        match = request.resolver_match
        return bool(match and match.url_name and match.url_name.endswith("_simple_history"))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> type:
        form = super().get_form(request, obj, change, **kwargs)
        if not self._is_history_version_view(request):
            return form

        class EarlierVersionForm(form):
            """The old version as it was: what "Revert" restores is the stored version, not a form."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                for field in self.fields.values():
                    field.disabled = True

        return EarlierVersionForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # An edit is recorded once, in save_related, when its relations are saved too: otherwise
        # every M2M change of the same edit would add an entry of its own. A new record keeps its
        # "Created" entry (relations given on creation follow as a change).
        if change:
            obj.skip_history_when_saving = True
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if change:
            del obj.skip_history_when_saving
            obj.save(update_fields=["updated_at"])

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        if request.method != "POST":
            return super().history_form_view(request, object_id, version_id, extra_context)
        record = get_object_or_404(self.model, pk=unquote(object_id))
        if self.revert_disabled(request, record) or not self.has_change_history_permission(request, record):
            raise PermissionDenied
        try:
            history_id = int(version_id)
        except ValueError:
            raise Http404 from None
        opts = self.model._meta
        try:
            restored = services.restore_version(record=record, history_id=history_id, by=request.user)
        except (services.ApplicationError, ValidationError) as error:
            text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            self.message_user(request, f"The {opts.verbose_name} was not restored: {text}", messages.ERROR)
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[record.pk]))
        self.log_change(request, restored, f"Restored an earlier version (history entry {history_id}).")
        self.message_user(
            request,
            f"Restored an earlier version of “{restored}”; it is now version {restored.version}.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[restored.pk]))


# --- Stories and reference data ------------------------------------------------------------------


class StoryAdminForm(forms.ModelForm):
    # The language its texts are written in: any of Django's list, not only the interface's.
    language = forms.ChoiceField(
        choices=sorted(global_settings.LANGUAGES, key=lambda choice: choice[1]),
        initial=settings.LANGUAGE_CODE,
        help_text="The language of the story's and its events' texts, marked on the pages for screen readers.",
    )

    class Meta:
        model = Story
        fields = ["title", "slug", "status", "language", "summary"]


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    form = StoryAdminForm
    list_display = ["title", "status", "language", "last_development_at", "event_count", "expectation_count"]
    list_filter = ["status", "language"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ["last_development_at", "event_count", "expectation_count", "created_at", "updated_at"]
    fields = [
        "title",
        "slug",
        "status",
        "language",
        "summary",
        "last_development_at",
        "event_count",
        "expectation_count",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(event_total=_count_of(Event, "story"), expectation_total=_count_of(Expectation, "story"))
        )

    @admin.display(description="Events", ordering="event_total")
    def event_count(self, obj: Story) -> int:
        return getattr(obj, "event_total", 0)

    @admin.display(description="Expectations", ordering="expectation_total")
    def expectation_count(self, obj: Story) -> int:
        return getattr(obj, "expectation_total", 0)


@admin.register(Actor)
class ActorAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "affiliation", "alias_list", "description"]
    list_filter = ["kind"]
    list_select_related = ["affiliation"]
    # `aliases` is a JSON list: icontains searches its text, so "Élysée" finds Macron.
    search_fields = ["name", "slug", "aliases", "description"]
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ["affiliation"]

    @admin.display(description="Aliases")
    def alias_list(self, obj: Actor) -> str:
        return ", ".join(obj.aliases or [])


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "time_zone", "latitude", "longitude"]
    list_filter = ["country"]
    search_fields = ["name", "slug", "country"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "short_description"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ("name",)}

    @admin.display(description="Description")
    def short_description(self, obj: Topic) -> str:
        return _short(obj.description)


@admin.register(Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ["members"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, obj: Forum) -> int:
        return getattr(obj, "member_total", 0)


# --- Events --------------------------------------------------------------------------------------


class ParticipationInline(admin.TabularInline):
    model = Participation
    fields = ["actor", "role"]
    autocomplete_fields = ["actor"]
    extra = 1


class EventSourceInline(admin.StackedInline):
    model = Source
    fk_name = "event"
    fields = [("outlet", "published_on"), "url", "title", "quote"]
    extra = 0


class DiscussionPointInline(admin.StackedInline):
    model = DiscussionPoint
    fields = [("title", "topic", "order"), "summary"]
    autocomplete_fields = ["topic"]
    # Positions are edited on the discussion point's own page: the admin has no nested inlines.
    show_change_link = True
    extra = 0


class CorrectionInline(admin.StackedInline):
    model = Correction
    fields = ["text", "created_at", "created_by"]
    readonly_fields = ["created_by"]
    extra = 0


class MediaItemInline(admin.TabularInline):
    """The event's media, to correct their words and order. Files are added on the desk, where uploads
    are checked and cleaned; an item is removed there too, so that its files go with it."""

    model = MediaItem
    fields = ["position", "kind", "file", "caption", "credit", "alt_text"]
    readonly_fields = ["kind", "file"]
    ordering = ["position", "id"]
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="File or address")
    def file(self, item: MediaItem) -> str:
        stored = item.image or item.document
        if stored:
            return format_html('<a href="{}">{}</a>', stored.url, stored.name.rsplit("/", 1)[-1])
        return format_html('<a href="{}" rel="noopener">{}</a>', item.url, _short(item.url, 60)) if item.url else "—"


@admin.register(MediaItem)
class MediaItemAdmin(admin.ModelAdmin):
    """Every media item, to find one and correct its words; added and removed on the desk only."""

    list_display = ["__str__", "kind", "event", "position", "credit"]
    list_filter = ["kind"]
    list_select_related = ["event"]
    search_fields = ["caption", "credit", "alt_text", "title", "outlet", "url", "event__title"]
    fields = [
        "event",
        ("kind", "position"),
        "file",
        ("width", "height", "file_size"),
        "title",
        "outlet",
        "caption",
        "credit",
        "alt_text",
        "taken_on",
        "created_at",
    ]
    readonly_fields = ["event", "kind", "file", "width", "height", "file_size", "created_at"]

    file = MediaItemInline.file

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: MediaItem, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        refresh_lead_image(event=obj.event)


@admin.register(Event)
class EventAdmin(VersionedHistoryAdmin):
    form = EventAdminForm
    list_display = ["title", "story", "kind", "when", "place", "status", "publication", "version"]
    list_filter = ["publication", "status", "kind", "story"]
    list_select_related = ["story", "place"]
    date_hierarchy = "start"
    search_fields = ["title", "slug", "summary", "story__title", "place__name", "participations__actor__name"]
    search_help_text = "Title, summary, story, place or participant."
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ["story", "place", "forum", "topics"]
    # Publishing goes through services.publish_event (the action below), which keeps the story's
    # last development in step; the form does not flip publication by hand.
    readonly_fields = ["publication", "published_at", "version", "created_by", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["story", "kind", "title", "slug", "summary", "loaded_version"]}),
        ("When and where", {"fields": [("start", "start_precision"), ("end", "end_precision"), "place", "forum"]}),
        ("Status", {"fields": ["status", "topics", ("publication", "published_at")]}),
        ("Record", {"fields": ["version", "created_by", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [ParticipationInline, EventSourceInline, DiscussionPointInline, MediaItemInline, CorrectionInline]
    actions = ["publish_selected"]
    history_list_display = ["version", "publication"]

    def get_inlines(self, request: HttpRequest, obj: Event | None) -> list:
        # A new event has no media yet: they are added on the desk.
        inlines = super().get_inlines(request, obj)
        return inlines if obj is not None else [inline for inline in inlines if inline is not MediaItemInline]

    @admin.display(description="When", ordering="start")
    def when(self, obj: Event) -> str:
        return obj.when

    def save_model(self, request: HttpRequest, obj: Event, form: Any, change: bool) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is Correction:
            for correction in formset.save(commit=False):
                if correction.created_by_id is None:
                    correction.created_by = request.user
                correction.save()
            for deleted in formset.deleted_objects:
                deleted.delete()
            return
        super().save_formset(request, form, formset, change)
        if formset.model is MediaItem:
            # A new order may put another image first: it leads the event's card.
            refresh_lead_image(event=form.instance)

    @admin.action(description="Publish selected events", permissions=["change"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        drafts = list(queryset.drafts().order_by("start"))
        for event in drafts:
            services.publish_event(event=event, by=request.user)
        skipped = queryset.count() - len(drafts)
        text = f"Published {len(drafts)} event{'s' if len(drafts) != 1 else ''}."
        if skipped:
            text += f" {skipped} already published, left as they were."
        self.message_user(request, text, messages.SUCCESS)


class PositionInline(admin.TabularInline):
    model = Position
    fields = ["actor", "stance"]
    autocomplete_fields = ["actor"]
    extra = 2


@admin.register(DiscussionPoint)
class DiscussionPointAdmin(admin.ModelAdmin):
    list_display = ["title", "event", "topic", "order"]
    list_select_related = ["event", "topic"]
    list_filter = ["event__story"]
    search_fields = ["title", "summary", "event__title", "topic__name"]
    autocomplete_fields = ["event", "topic"]
    inlines = [PositionInline]


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ["actor", "discussion_point", "short_stance"]
    list_select_related = ["actor", "discussion_point"]
    search_fields = ["stance", "actor__name", "discussion_point__title"]
    autocomplete_fields = ["discussion_point", "actor"]

    @admin.display(description="Stance")
    def short_stance(self, obj: Position) -> str:
        return _short(obj.stance)


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    list_display = ["actor", "role", "event"]
    list_select_related = ["actor", "event"]
    list_filter = ["role"]
    search_fields = ["actor__name", "event__title"]
    autocomplete_fields = ["event", "actor"]


@admin.register(Correction)
class CorrectionAdmin(admin.ModelAdmin):
    list_display = ["event", "created_at", "created_by", "short_text"]
    list_select_related = ["event", "created_by"]
    date_hierarchy = "created_at"
    search_fields = ["text", "event__title"]
    autocomplete_fields = ["event"]
    readonly_fields = ["created_by"]

    @admin.display(description="Text")
    def short_text(self, obj: Correction) -> str:
        return _short(obj.text)

    def save_model(self, request: HttpRequest, obj: Correction, form: Any, change: bool) -> None:
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


# --- Expectations --------------------------------------------------------------------------------


class OverdueNowFilter(admin.SimpleListFilter):
    """Overdue from the dates, whether or not the scheduled check has flagged it yet."""

    title = "overdue now"
    parameter_name = "overdue_now"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        overdue = Q(status__in=Expectation.OPEN_STATUSES, latest_on__lt=timezone.localdate())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return None


class UnreviewedFilter(admin.SimpleListFilter):
    """No editor has looked since it was raised or flagged: a separate fact from overdue."""

    title = "review"
    parameter_name = "unreviewed"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Unreviewed"), ("no", "Reviewed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() == "yes":
            return queryset.unreviewed()
        if self.value() == "no":
            return queryset.filter(reviewed_at__isnull=False)
        return None


class ExpectationSourceInline(admin.StackedInline):
    model = Source
    fk_name = "expectation"
    fields = [("outlet", "published_on"), "url", "title", "quote"]
    extra = 0


_RESOLVED = (Expectation.Status.FULFILLED, Expectation.Status.CANCELLED, Expectation.Status.SUPERSEDED)


@admin.register(Expectation)
class ExpectationAdmin(VersionedHistoryAdmin):
    form = ExpectationAdminForm
    list_display = ["title", "story", "due", "status", "overdue_now", "reviewed", "fulfilled_by", "version"]
    list_filter = [OverdueNowFilter, UnreviewedFilter, "status", "story"]
    list_select_related = ["story", "fulfilled_by"]
    date_hierarchy = "due_on"
    search_fields = ["title", "slug", "description", "story__title", "expected_actors__name"]
    search_help_text = "Title, description, story or expected actor."
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ["story", "raised_by", "expected_actors", "place", "topics", "fulfilled_by"]
    readonly_fields = [
        "version",
        "flagged_overdue_at",
        "overdue_announced_at",
        "reviewed_at",
        "resolved_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["story", "title", "slug", "description", "raised_by", "loaded_version"]}),
        ("Who and where", {"fields": ["expected_actors", "place", "topics"]}),
        ("Due", {"fields": [("due_on", "due_precision"), "latest_on"]}),
        (
            "Outcome",
            {
                "fields": ["status", "fulfilled_by", "resolved_at"],
                "description": "A fulfilled expectation names the event that fulfilled it, and only a fulfilled one.",
            },
        ),
        (
            "Record",
            {
                "fields": [
                    "version",
                    "flagged_overdue_at",
                    "overdue_announced_at",
                    "reviewed_at",
                    "created_at",
                    "updated_at",
                ],
                "classes": ["collapse"],
            },
        ),
    ]
    inlines = [ExpectationSourceInline]
    actions = ["mark_reviewed"]
    history_list_display = ["version", "status"]

    @admin.display(description="Due", ordering="due_on")
    def due(self, obj: Expectation) -> str:
        return obj.due_display

    @admin.display(description="Overdue now", boolean=True)
    def overdue_now(self, obj: Expectation) -> bool:
        return obj.is_overdue_on(timezone.localdate())

    @admin.display(description="Reviewed", boolean=True, ordering="reviewed_at")
    def reviewed(self, obj: Expectation) -> bool:
        return obj.reviewed_at is not None

    def save_model(self, request: HttpRequest, obj: Expectation, form: Any, change: bool) -> None:
        now = timezone.now()
        # An editor who saves an expectation has looked at it.
        obj.reviewed_at = now
        if obj.status in _RESOLVED:
            obj.resolved_at = obj.resolved_at or now
        else:
            obj.resolved_at = None
        super().save_model(request, obj, form, change)

    @admin.action(description="Mark selected expectations as reviewed", permissions=["change"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet) -> None:
        marked = services.mark_reviewed(expectations=queryset, by=request.user)
        self.message_user(request, f"Marked {marked} expectation{'s' if marked != 1 else ''} as reviewed.")


# --- Sources, subscribers and digests ------------------------------------------------------------


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["outlet", "title", "published_on", "event", "expectation"]
    list_select_related = ["event", "expectation"]
    date_hierarchy = "published_on"
    search_fields = ["outlet", "title", "url", "quote", "event__title", "expectation__title"]
    autocomplete_fields = ["event", "expectation"]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "frequency", "confirmed_at", "unsubscribed_at", "last_digest_at"]
    list_filter = ["frequency", ("confirmed_at", admin.EmptyFieldListFilter), "unsubscribed_at"]
    search_fields = ["email"]
    autocomplete_fields = ["stories", "topics", "actors"]
    readonly_fields = ["token", "created_at", "last_digest_at"]


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    """A record of what was sent: read-only, since editing it would resend or skip a digest."""

    list_display = ["subscriber", "period_start", "period_end", "claimed_at", "sent_at", "item_count"]
    list_select_related = ["subscriber"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    date_hierarchy = "period_end"
    search_fields = ["subscriber__email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UnannouncedOverdue)
class UnannouncedOverdueAdmin(admin.ModelAdmin):
    """The overdue job's queue of what the editors have not been told of yet: to look at, not to
    edit (the job fills and empties it)."""

    list_display = ["expectation"]
    list_select_related = ["expectation"]
    search_fields = ["expectation__title"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
