"""Subscribers' forms: signing up (`SubscriptionForm`) and changing what one follows (`PreferencesForm`).

What a subscriber may follow is bounded: the newest stories, the topics and the actors found in the
most events. Counting them reads every participation of the site (about 0.2 s at 300,000), the same
answer for every visitor, so the offer is cached for a while (`FOLLOW_CHOICES_SECONDS`). A form always
offers, besides, what it was asked to keep (a story preselected by `?story=`, a subscriber's current
choices), so nobody sees their choice vanish. Ids posted outside the offer are refused, as unknown ones.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core.cache import cache
from django.db.models import Count, Model, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Actor, Story, Subscriber, SubscriberFrequency, Topic

STORY_LIMIT = 50
TOPIC_LIMIT = 100
ACTOR_LIMIT = 60
FOLLOW_CHOICES_SECONDS = 15 * 60

# The words readers see (DESIGN.md: Immediately, Daily, Weekly).
FREQUENCIES = [
    (SubscriberFrequency.IMMEDIATE, gettext_lazy("Immediately")),
    (SubscriberFrequency.DAILY, gettext_lazy("Daily")),
    (SubscriberFrequency.WEEKLY, gettext_lazy("Weekly")),
]


@dataclass(frozen=True)
class FollowChoices:
    """The ids offered to follow, each list in the order shown."""

    stories: list[int]
    topics: list[int]
    actors: list[int]


def follow_choices() -> FollowChoices:
    """The newest stories, and the topics and actors of the most events; cached, the same for everyone."""
    key = f"subscribe:follow-choices:{STORY_LIMIT}:{TOPIC_LIMIT}:{ACTOR_LIMIT}"
    cached = cache.get(key)
    if cached is not None:
        return FollowChoices(**cached)
    choices = FollowChoices(
        stories=list(Story.objects.newest_development_first().values_list("pk", flat=True)[:STORY_LIMIT]),
        topics=list(
            Topic.objects.annotate(n=Count("events")).order_by("-n", "name").values_list("pk", flat=True)[:TOPIC_LIMIT]
        ),
        actors=list(
            Actor.objects.annotate(n=Count("participations"))
            .order_by("-n", "name")
            .values_list("pk", flat=True)[:ACTOR_LIMIT]
        ),
    )
    cache.set(key, choices.__dict__, FOLLOW_CHOICES_SECONDS)
    return choices


def _offer(model: type[Model], offered: list[int], keep: Iterable[Model]) -> QuerySet:
    ids = set(offered) | {obj.pk for obj in keep}
    # A queryset, not a slice: the field filters it again to check what was posted.
    return model._default_manager.filter(pk__in=ids)


class FollowForm(forms.Form):
    """What to follow and how often: at least one story, topic or actor."""

    stories = forms.ModelMultipleChoiceField(
        queryset=Story.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Stories"),
    )
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Topics"),
    )
    actors = forms.ModelMultipleChoiceField(
        queryset=Actor.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("People, countries and organisations"),
        help_text=gettext_lazy("Those found in the most events."),
    )
    frequency = forms.ChoiceField(
        choices=FREQUENCIES,
        widget=forms.RadioSelect,
        initial=SubscriberFrequency.DAILY,
        label=gettext_lazy("How often"),
        help_text=gettext_lazy("Immediately: an email soon after each development. Daily or weekly: one digest."),
    )
    # Each language in its own name, as the switcher shows them; the page's language unless chosen.
    language = forms.ChoiceField(
        choices=settings.LANGUAGES, required=False, label=gettext_lazy("Language of the emails")
    )

    def __init__(self, *args: Any, keep: Iterable[Model] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = self.initial.get("language") or translation.get_language()
        keep = list(keep)
        offered = follow_choices()
        for name, model, ids in (
            ("stories", Story, offered.stories),
            ("topics", Topic, offered.topics),
            ("actors", Actor, offered.actors),
        ):
            field = self.fields[name]
            field.queryset = _offer(model, ids, [obj for obj in keep if isinstance(obj, model)])
            # Shown in the offer's order (newest stories, most present actors), not by id.
            order = {pk: position for position, pk in enumerate(ids)}
            field.choices = [
                (obj.pk, str(obj))
                for obj in sorted(field.queryset, key=lambda obj: (order.get(obj.pk, len(order)), str(obj)))
            ]

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or self.fields["language"].initial or settings.LANGUAGE_CODE

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        follows = [name for name in ("stories", "topics", "actors") if cleaned.get(name)]
        if not follows and not any(name in self.errors for name in ("stories", "topics", "actors")):
            raise forms.ValidationError(
                _("Choose at least one story, topic, person, country or organisation to follow."),
                code="nothing_to_follow",
            )
        return cleaned


class SubscriptionForm(FollowForm):
    """Signing up: an email address besides what to follow. The address is kept as typed, with its
    domain lower-cased (domains are case-insensitive; the part before the @ may not be)."""

    email = forms.EmailField(
        max_length=254,
        label=gettext_lazy("Email address"),
        help_text=gettext_lazy("We send one email to confirm; nothing else until you follow its link."),
        error_messages={
            "required": gettext_lazy("Enter the email address to send the news to."),
            "invalid": gettext_lazy("Enter a whole email address, such as name@example.org."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    field_order = ["email", "stories", "topics", "actors", "frequency", "language"]

    def clean_email(self) -> str:
        return BaseUserManager.normalize_email(self.cleaned_data["email"])


class PreferencesForm(FollowForm):
    """A subscriber's choices, from their preferences link."""

    @classmethod
    def for_subscriber(cls, subscriber: Subscriber, data: Any = None) -> "PreferencesForm":
        current = [*subscriber.stories.all(), *subscriber.topics.all(), *subscriber.actors.all()]
        initial = {
            "stories": [obj.pk for obj in current if isinstance(obj, Story)],
            "topics": [obj.pk for obj in current if isinstance(obj, Topic)],
            "actors": [obj.pk for obj in current if isinstance(obj, Actor)],
            "frequency": subscriber.frequency,
            "language": subscriber.language,
        }
        return cls(data, keep=current, initial=initial)
