"""The readers' filters: actor, topic, kind, place, a date range and free text, all in the query string.

One FilterSet serves the story timeline and the actor, topic and place pages: `scope` is the page's
own events (a story's, an actor's...), and the choices offered are only those that occur in it, so a
reader is never offered an actor that would empty the list (selectors.filter_choices: one query of
indexed EXISTS probes, whatever the size of the story). A malformed value (an unknown slug, a date
that is not a date) makes the form invalid; the view answers 400 with the message on the form.
"""

import datetime
import functools
from typing import TYPE_CHECKING

import django_filters
from django import forms
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import page_cache, selectors
from .models import Actor, Event, Place, Story, Topic
from .widgets import FastSelect

if TYPE_CHECKING:
    from .page_cache import Parts

_BAD_DATE = _("Enter a real date, such as 2022-02-07.")
CHOICE_FILTERS = ("actor", "topic", "place")


def story_choice_parts(story: Story) -> "Parts":
    """Where a story page keeps its filter choices: under their own stamp (page_cache.choices_stamps)."""
    return page_cache.Parts(page_cache.choices_stamps(story.slug), f"story:{story.pk}")


def _story_choices(story: Story) -> dict[str, list[tuple[str, str]]]:
    return selectors.filter_choices(selectors.story_events(story), list(CHOICE_FILTERS))


def recheck_story_choices(slug: str) -> None:
    """After a change to the story's events commits: its choices computed again, their stamp bumped
    and the new ones kept for the next reader only if they changed (a publication naming only actors,
    topics and places on offer leaves them: page_cache.recheck_choices)."""
    story = Story.objects.filter(slug=slug).only("pk", "slug").first()
    if story is not None:
        parts = story_choice_parts(story)
        # The same name and key parts as TimelineFilter._choices for a page with no fixed filter.
        compute = functools.partial(_story_choices, story)
        parts.recheck("choices", compute, list(CHOICE_FILTERS), stamp=page_cache.choices_key(slug))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class TimelineFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Macron, Minsk, sanctions…")}),
        max_length=200,
    )
    actor = django_filters.ModelChoiceFilter(
        label=_("Actor"),
        field_name="participants",
        to_field_name="slug",
        queryset=Actor.objects.none(),
        empty_label=_("Any actor"),
        widget=FastSelect,
    )
    topic = django_filters.ModelChoiceFilter(
        label=_("Topic"),
        field_name="topics",
        to_field_name="slug",
        queryset=Topic.objects.none(),
        empty_label=_("Any topic"),
        widget=FastSelect,
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=Event.Kind.choices, empty_label=_("Any kind"), widget=FastSelect
    )
    place = django_filters.ModelChoiceFilter(
        label=_("Place"),
        field_name="place",
        to_field_name="slug",
        queryset=Place.objects.none(),
        empty_label=_("Any place"),
        widget=FastSelect,
    )
    from_date = django_filters.DateFilter(
        label=pgettext_lazy("start of a date range", "From"),
        method="filter_from",
        widget=DateInput(),
        error_messages={"invalid": _BAD_DATE},
    )
    to_date = django_filters.DateFilter(
        label=pgettext_lazy("end of a date range", "To"),
        method="filter_to",
        widget=DateInput(),
        error_messages={"invalid": _BAD_DATE},
    )
    # Where the previous page stopped. Not a filter: it is validated here so a malformed cursor is a
    # 400 like any other bad parameter, and the selector applies it.
    after = django_filters.CharFilter(method="keep", widget=forms.HiddenInput, max_length=100)

    class Meta:
        model = Event
        fields: list[str] = []

    def __init__(
        self, data=None, *, scope: QuerySet, fixed: str | None = None, parts: "Parts | None" = None, **kwargs
    ) -> None:
        """`scope`: the page's published events. `fixed`: the filter the page itself stands for
        (an actor page does not offer an actor filter). `parts`: where the page keeps what all its
        variants share (events.page_cache.Parts), the choices among them."""
        super().__init__(data, queryset=scope, **kwargs)
        self.form.fields["q"].widget.attrs["autocomplete"] = "off"
        self._scope = scope
        self._parts = parts
        self._kinds = [name for name in CHOICE_FILTERS if name != fixed]
        for name, queryset in selectors.filter_candidates(scope).items():
            field = self.form.fields[name]
            self.filters[name].queryset = field.queryset = queryset
            # Shown from one query for the three lists, run only when the form is rendered (a
            # fragment of the list never shows it); the queryset above still validates a choice.
            field.widget.choices = functools.partial(self._offered, name, field.empty_label)
        if fixed:
            del self.filters[fixed]
            del self.form.fields[fixed]

    @functools.cached_property
    def _choices(self) -> dict[str, list[tuple[str, str]]]:
        choices = functools.partial(selectors.filter_choices, self._scope, self._kinds)
        return self._parts.get("choices", choices, self._kinds) if self._parts else choices()

    def _offered(self, name: str, empty_label: str) -> list[tuple[str, str]]:
        return [("", empty_label), *self._choices[name]]

    # --- Methods named by the filters above --------------------------------------------------------

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search(queryset, value)

    def filter_from(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(start__gte=_start_of(value))

    def filter_to(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        if value >= datetime.date.max:
            return queryset  # The end of the calendar bounds nothing (and has no next day).
        return queryset.filter(start__lt=_start_of(value + datetime.timedelta(days=1)))

    def keep(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset

    # --- What the views and templates ask --------------------------------------------------------

    @property
    def cursor(self) -> selectors.Cursor | None:
        value = self.form.cleaned_data.get("after") if self.is_valid() else None
        return selectors.Cursor.parse(value) if value else None

    @property
    def search_terms(self) -> str:
        return (self.form.cleaned_data.get("q") or "").strip() if self.is_valid() else ""

    @property
    def is_active(self) -> bool:
        """Whether any filter narrows the list (the cursor is not a filter)."""
        return any(value for name, value in self.data.items() if name in self.form.fields and name != "after")

    def get_form_class(self):
        form_class = super().get_form_class()

        class TimelineFilterForm(form_class):
            def clean_after(self) -> str:
                value = self.cleaned_data.get("after") or ""
                try:
                    if value:
                        selectors.Cursor.parse(value)
                except ValueError:
                    raise forms.ValidationError(
                        _("This link to older events is damaged. Start again from the newest events.")
                    ) from None
                return value

            def clean(self) -> dict:
                cleaned = super().clean()
                start, end = cleaned.get("from_date"), cleaned.get("to_date")
                if start and end and end < start:
                    self.add_error("to_date", _("The end of the date range is before its start."))
                return cleaned

        return TimelineFilterForm


def _start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day` in the site's zone: the readers' days are the site's days."""
    return datetime.datetime.combine(day, datetime.time.min, timezone.get_current_timezone())


def search(queryset: QuerySet, terms: str) -> QuerySet:
    """Events matching the words a reader typed.

    On PostgreSQL: full-text search over title (weight A) and summary (weight B) on the stored,
    GIN-indexed search document; the list stays newest first. Elsewhere (the embedded SQLite default): a plain
    case-insensitive match of every word.
    """
    terms = terms.strip()
    if not terms:
        return queryset
    if connection.vendor == "postgresql":
        return selectors.search_events(queryset, terms)
    for word in terms.split():
        queryset = queryset.filter(Q(title__icontains=word) | Q(summary__icontains=word))
    return queryset
