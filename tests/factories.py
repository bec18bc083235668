"""factory-boy factories for every model; each builds a valid row with the fewest fields set."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from events import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"editor{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct-horse-battery")
    is_staff = True


class StoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Story

    title = factory.Sequence(lambda n: f"Story {n}")
    slug = factory.Sequence(lambda n: f"story-{n}")
    summary = "A developing story."


class ActorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Actor

    kind = models.Actor.Kind.PERSON
    name = factory.Sequence(lambda n: f"Actor {n}")
    slug = factory.Sequence(lambda n: f"actor-{n}")


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Place

    name = factory.Sequence(lambda n: f"Place {n}")
    slug = factory.Sequence(lambda n: f"place-{n}")
    country = "France"
    time_zone = "Europe/Paris"


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Topic

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class ForumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Forum

    name = factory.Sequence(lambda n: f"Forum {n}")
    slug = factory.Sequence(lambda n: f"forum-{n}")


class EventFactory(factory.django.DjangoModelFactory):
    """A published event, by default; `publication="draft", published_at=None` for a draft."""

    class Meta:
        model = models.Event

    story = factory.SubFactory(StoryFactory)
    kind = models.Event.Kind.MEETING
    title = factory.Sequence(lambda n: f"Development {n}")
    slug = factory.Sequence(lambda n: f"development-{n}")
    summary = "Talks took place."
    start = factory.Sequence(
        lambda n: datetime.datetime(2022, 2, 1, 9, tzinfo=datetime.UTC) + datetime.timedelta(hours=n)
    )
    start_precision = models.DatePrecision.EXACT
    status = models.Event.Status.HAPPENED
    publication = models.Event.Publication.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


class ParticipationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Participation

    event = factory.SubFactory(EventFactory)
    actor = factory.SubFactory(ActorFactory)
    role = models.Participation.Role.GUEST


class DiscussionPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.DiscussionPoint

    event = factory.SubFactory(EventFactory)
    title = factory.Sequence(lambda n: f"Point {n}")


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Position

    discussion_point = factory.SubFactory(DiscussionPointFactory)
    actor = factory.SubFactory(ActorFactory)
    stance = "Held firm."


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Source

    event = factory.SubFactory(EventFactory)
    url = factory.Sequence(lambda n: f"https://news.example.org/article-{n}")
    outlet = "Example News"
    title = "Report"
    published_on = datetime.date(2022, 2, 7)


class CorrectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Correction

    event = factory.SubFactory(EventFactory)
    text = "An earlier version misstated the time of the meeting."


class ExpectationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Expectation

    story = factory.SubFactory(StoryFactory)
    title = factory.Sequence(lambda n: f"Expected development {n}")
    slug = factory.Sequence(lambda n: f"expected-{n}")
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=7))
    due_precision = models.DatePrecision.DAY


class SubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Subscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    confirmed_at = factory.LazyFunction(timezone.now)
