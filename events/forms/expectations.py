"""The desk's expectation forms: raising or editing one (`ExpectationForm`), and the decisions taken on
its page (`FulfilForm`, `ExtendForm`, `CancelForm`, `ReviewForm`).

The forms only read and validate; the services in events.services.expectations write. Each decision
form carries the version the editor loaded (hidden `loaded_version`), which the service checks with
`lock_for_edit`, so a decision about a version someone else changed meanwhile is refused.
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import dates
from ..models import Actor, DatePrecision, Event, Expectation, Place, Story, Topic
from ..services.expectations import EDITABLE
from .versioned import VersionedModelForm

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# A due date is a calendar date: "by 10 Feb", "in February", "in 2022", "around 10 Feb"; never a time.
DUE_PRECISIONS = [(value, label) for value, label in DatePrecision.choices if value != DatePrecision.EXACT]


class EventAddressField(forms.ModelChoiceField):
    """An event named by its slug, or by its address pasted whole (/events/<slug>/ or the desk's
    /desk/events/<slug>/): a story may have 100,000 events, too many for a select."""

    widget = forms.TextInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": gettext_lazy("No event has the address “%(value)s”.")},
        )
        super().__init__(queryset=Event.objects.select_related("story"), to_field_name="slug", **kwargs)

    def to_python(self, value: Any) -> Event | None:
        if isinstance(value, str):
            value = value.strip().rstrip("/").rsplit("/", 1)[-1]
        return super().to_python(value)


class ExpectationForm(VersionedModelForm):
    """Raise an expectation (no instance) or edit one (its status changes only through decisions).

    `event`: raised from this event, whose story and raised_by are then fixed. `story`: preselected."""

    raised_by = EventAddressField(
        required=False,
        label=gettext_lazy("Raised by"),
        help_text=gettext_lazy("The address of the event that raised it, such as /events/macron-in-moscow/."),
    )

    class Meta:
        model = Expectation
        # Exactly what services.expectations.update_expectation may change.
        fields = list(EDITABLE)
        labels = {
            "story": gettext_lazy("Story"),
            "title": gettext_lazy("Title"),
            "description": gettext_lazy("Description"),
            "expected_actors": gettext_lazy("Expected actors"),
            "place": gettext_lazy("Place"),
            "topics": gettext_lazy("Topics"),
            "due_on": gettext_lazy("Due date"),
            "due_precision": gettext_lazy("Due precision"),
            "latest_on": gettext_lazy("Latest acceptable date"),
        }
        help_texts = {
            "title": gettext_lazy("What is expected, as a reader would say it: “Macron travels to Kyiv”."),
            "due_on": gettext_lazy("Leave blank when no date was given: it is then never overdue."),
            "latest_on": gettext_lazy("Leave blank to follow from the due date and its precision."),
            "expected_actors": gettext_lazy("Hold Ctrl (⌘ on a Mac) to choose several."),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "expected_actors": forms.SelectMultiple(attrs={"size": 8}),
            "topics": forms.CheckboxSelectMultiple,
            "due_on": DATE_INPUT,
            "latest_on": DATE_INPUT,
        }

    def __init__(self, *args: Any, event: Event | None = None, story: Story | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fixed_event = event
        self.fields["story"].queryset = Story.objects.order_by("title")
        self.fields["expected_actors"].queryset = Actor.objects.order_by("name")
        self.fields["place"].queryset = Place.objects.order_by("name")
        self.fields["topics"].queryset = Topic.objects.order_by("name")
        self.fields["due_precision"].choices = DUE_PRECISIONS
        if self.instance.raised_by_id:
            self.initial["raised_by"] = self.instance.raised_by.slug
        if event is not None:
            # Raised from an event: its story and the event itself are given, not chosen.
            self.initial.update(story=event.story, raised_by=event)
            for name in ("story", "raised_by"):
                self.fields[name].disabled = True
            self.fields["raised_by"].widget = forms.HiddenInput()
        elif story is not None:
            self.initial["story"] = story

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        story, raised_by = cleaned_data.get("story"), cleaned_data.get("raised_by")
        if story and self.instance.fulfilled_by_id and story.pk != self.instance.story_id:
            # The event that fulfilled it is of its story: moving it would break the link.
            self.add_error("story", _("A fulfilled expectation stays in the story of the event that fulfilled it."))
            story = None
        if story and raised_by and raised_by.story_id != story.pk:
            self.add_error(
                "raised_by",
                ValidationError(
                    _("“%(event)s” is an event of another story (%(story)s)."),
                    code="other_story",
                    params={"event": raised_by.title, "story": raised_by.story.title},
                ),
            )
        return cleaned_data

    def changes(self) -> dict[str, Any]:
        """The cleaned input, as the services take it."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class DecisionForm(forms.Form):
    """A decision on one expectation, made on the version the editor loaded. Each decision form on
    the page has its own id prefix (`auto_id`), so the page's ids stay unique."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    id_prefix = "decision"

    def __init__(self, *args: Any, expectation: Expectation, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
        self.expectation = expectation
        self.fields["loaded_version"].initial = expectation.version
        self.fields["loaded_version"].error_messages["required"] = _(
            "This form is incomplete (its version is missing): reload the page and try again."
        )

    def take_version(self, version: int) -> None:
        """After a refusal for staleness: the editor's input stays, now on the version they have seen."""
        self.data = self.data.copy()
        self.data[self.add_prefix("loaded_version")] = str(version)


class FulfilForm(DecisionForm):
    """The event that fulfilled it: its id, chosen among the radios the page lists (not a select of
    every event: a story may have 100,000)."""

    id_prefix = "fulfil"
    event = forms.ModelChoiceField(
        queryset=Event.objects.all(),
        widget=forms.HiddenInput,
        label=gettext_lazy("The event that fulfilled it"),
        error_messages={
            "required": gettext_lazy("Choose the event that fulfilled it."),
            "invalid_choice": gettext_lazy("That event does not exist (any more): choose another."),
        },
    )

    def chosen_event_id(self) -> int | None:
        """The event id the editor sent, if it is a number: to keep their choice ticked."""
        value = self.data.get(self.add_prefix("event"), "") if self.is_bound else ""
        return int(value) if str(value).isdigit() else None


class ExtendForm(DecisionForm):
    id_prefix = "extend"
    due_on = forms.DateField(label=gettext_lazy("New due date"), widget=DATE_INPUT)
    due_precision = forms.ChoiceField(label=gettext_lazy("Due precision"), choices=DUE_PRECISIONS)
    latest_on = forms.DateField(
        label=gettext_lazy("New latest acceptable date"),
        required=False,
        widget=DATE_INPUT,
        help_text=gettext_lazy("Optional: leave blank to follow from the due date and its precision."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Give the reason for the new due date.")},
    )

    def __init__(self, *args: Any, expectation: Expectation, **kwargs: Any) -> None:
        super().__init__(*args, expectation=expectation, **kwargs)
        if expectation.due_precision != DatePrecision.EXACT:
            self.fields["due_precision"].initial = expectation.due_precision
        if expectation.due_on:
            self.fields["due_on"].help_text = _("Now due %(due)s (on time until %(latest)s).") % {
                "due": expectation.due_display,
                "latest": dates.format_date(expectation.latest_on, DatePrecision.DAY),
            }

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        due_on, latest_on = cleaned_data.get("due_on"), cleaned_data.get("latest_on")
        if due_on and latest_on and latest_on < due_on:
            self.add_error("latest_on", _("The latest acceptable date cannot be before the due date."))
        return cleaned_data


class CancelForm(DecisionForm):
    """Cancelled (it will not happen) or superseded (a newer expectation replaces it): the button
    pressed says which."""

    CANCEL, SUPERSEDE = "cancel", "supersede"

    id_prefix = "cancel"
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Why it will not happen, or which expectation replaces it."),
        error_messages={"required": gettext_lazy("Give the reason for closing it.")},
    )
    outcome = forms.ChoiceField(
        choices=[(CANCEL, gettext_lazy("Cancel")), (SUPERSEDE, gettext_lazy("Mark superseded"))],
        required=False,
        widget=forms.HiddenInput,
    )

    @property
    def superseded(self) -> bool:
        return self.cleaned_data.get("outcome") == self.SUPERSEDE


class ReviewForm(DecisionForm):
    id_prefix = "review"
