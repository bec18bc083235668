"""Subscribers' life: signing up (double opt-in), confirming, changing preferences, unsubscribing.

A subscriber has no account and no password: signed links (events/tokens.py) are the authority.
Signing up sends exactly one email whatever the address's state, after the transaction commits, so
the visitor's page can answer the same every time and tell nobody who subscribes:

- a new address, or one that unsubscribed earlier: an unconfirmed subscriber with these choices, and a
  confirmation link (no List-Unsubscribe: nothing to unsubscribe from yet);
- an unconfirmed one: its choices replaced, earlier links withdrawn, a new confirmation;
- a confirmed one: nothing changes (a stranger must not change someone's choices); its owner is told
  that someone asked, with the link to their preferences.

Until it is confirmed, and once it is unsubscribed, an address gets nothing else: the digests and
alerts go to `Subscriber.objects.confirmed()` only.
"""

import logging
from collections.abc import Callable, Iterable
from enum import StrEnum

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Actor, Story, Subscriber, SubscriberFrequency, Topic
from ..subscriber_mail import site_link, subscriber_email
from ..tokens import make_token, revoke_links
from .base import ApplicationError

logger = logging.getLogger(__name__)

UNSUBSCRIBED = gettext_lazy("This address has unsubscribed since this link was sent. Sign up again to follow stories.")


class SignUp(StrEnum):
    """What a sign-up did: for logs and tests, never for the visitor, who is told the same each time."""

    NEW = "new"
    RESENT = "resent"
    ALREADY_CONFIRMED = "already confirmed"


def _check_choices(
    stories: Iterable[Story], topics: Iterable[Topic], actors: Iterable[Actor], frequency: str, language: str | None
):
    stories, topics, actors = list(stories), list(topics), list(actors)
    if not (stories or topics or actors):
        raise ApplicationError(_("Choose at least one story, topic, person, country or organisation to follow."))
    if frequency not in SubscriberFrequency.values:
        raise ApplicationError(_("Choose how often: immediately, daily or weekly."))
    if language is not None and language not in dict(settings.LANGUAGES):
        raise ApplicationError(_("Choose the language of the emails among those offered."))
    return stories, topics, actors


def _set_follows(subscriber: Subscriber, stories: list[Story], topics: list[Topic], actors: list[Actor]) -> None:
    subscriber.stories.set(stories)
    subscriber.topics.set(topics)
    subscriber.actors.set(actors)


def _locked(email: str) -> Subscriber | None:
    # Case-insensitive, as the unique constraint on Lower(email) that backs it.
    return Subscriber.objects.select_for_update().filter(email__iexact=email).first()


@transaction.atomic
def subscribe(
    *,
    email: str,
    stories: Iterable[Story] = (),
    topics: Iterable[Topic] = (),
    actors: Iterable[Actor] = (),
    frequency: str,
    language: str = settings.LANGUAGE_CODE,
) -> SignUp:
    """Ask `email` to confirm following these, or tell a confirmed address's owner that someone asked.

    `email` is already normalised (the form lower-cases its domain). Raises ApplicationError when
    nothing is chosen to follow or the frequency is unknown."""
    stories, topics, actors = _check_choices(stories, topics, actors, frequency, language)
    subscriber = _locked(email)
    if subscriber is None:
        try:
            with transaction.atomic():  # a savepoint: a concurrent sign-up of the same address may win
                subscriber = Subscriber.objects.create(email=email, frequency=frequency, language=language)
        except IntegrityError:
            subscriber = _locked(email)
        else:
            _set_follows(subscriber, stories, topics, actors)
            return _after_commit_send(subscriber, _confirmation_email, SignUp.NEW)
    if subscriber.confirmed_at is not None and subscriber.unsubscribed_at is None:
        return _after_commit_send(subscriber, _someone_asked_email, SignUp.ALREADY_CONFIRMED)
    # Unconfirmed, or unsubscribed earlier (which starts again from nothing, like a new address).
    outcome = SignUp.NEW if subscriber.unsubscribed_at is not None else SignUp.RESENT
    subscriber.frequency, subscriber.language = frequency, language
    subscriber.confirmed_at = subscriber.unsubscribed_at = subscriber.last_digest_at = None
    subscriber.save(update_fields=["frequency", "language", "confirmed_at", "unsubscribed_at", "last_digest_at"])
    # Only the newest confirmation link works, and no link sent before an unsubscribe works again.
    revoke_links(subscriber)
    _set_follows(subscriber, stories, topics, actors)
    return _after_commit_send(subscriber, _confirmation_email, outcome)


@transaction.atomic
def confirm(*, subscriber: Subscriber) -> bool:
    """Start sending to `subscriber`: True when this confirmed it, False when it already was.

    The first digest covers what comes after the confirmation, not the story's whole past. Raises
    ApplicationError once the address has unsubscribed: only a new sign-up starts it again."""
    current = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if current.unsubscribed_at is not None:
        raise ApplicationError(UNSUBSCRIBED)
    if current.confirmed_at is not None:
        return False
    current.confirmed_at = current.last_digest_at = timezone.now()
    current.save(update_fields=["confirmed_at", "last_digest_at"])
    subscriber.confirmed_at, subscriber.last_digest_at = current.confirmed_at, current.last_digest_at
    return True


@transaction.atomic
def update_preferences(
    *,
    subscriber: Subscriber,
    stories: Iterable[Story] = (),
    topics: Iterable[Topic] = (),
    actors: Iterable[Actor] = (),
    frequency: str,
    language: str | None = None,
) -> Subscriber:
    """Replace what `subscriber` follows and how often. Raises ApplicationError when nothing is chosen,
    or once the address has unsubscribed (a preferences link does not subscribe anyone again)."""
    stories, topics, actors = _check_choices(stories, topics, actors, frequency, language)
    current = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if current.unsubscribed_at is not None:
        raise ApplicationError(UNSUBSCRIBED)
    current.frequency = frequency
    current.language = language or current.language
    current.save(update_fields=["frequency", "language"])
    _set_follows(current, stories, topics, actors)
    return current


@transaction.atomic
def unsubscribe(*, subscriber: Subscriber) -> bool:
    """Send nothing more to `subscriber`, not even a farewell: True when this unsubscribed it, False
    when it already was (a mail client may send the one-click POST twice; the first time is kept).

    Links are not withdrawn, so the same link keeps answering "unsubscribed"; they cannot send anything
    nor subscribe anyone again (confirm and update_preferences refuse), and a new sign-up withdraws them."""
    current = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if current.unsubscribed_at is not None:
        return False
    current.unsubscribed_at = timezone.now()
    current.save(update_fields=["unsubscribed_at"])
    subscriber.unsubscribed_at = current.unsubscribed_at
    return True


# --- The sign-up's emails, sent after the commit --------------------------------------------------


def _follows_context(subscriber: Subscriber) -> dict:
    return {
        "stories": list(subscriber.stories.all()),
        "topics": list(subscriber.topics.all()),
        "actors": list(subscriber.actors.all()),
        # The model's label (Immediately, Daily, Weekly), in the language of the email.
        "frequency": str(subscriber.get_frequency_display()),
    }


def _confirmation_email(subscriber: Subscriber) -> EmailMultiAlternatives:
    confirm_url = site_link(reverse("subscribe:confirm", args=[make_token(subscriber, "confirm")]))
    return subscriber_email(
        subscriber,
        subject=_("Confirm your subscription to Story Tracker"),
        template="confirm_subscription",
        context={"confirm_url": confirm_url, **_follows_context(subscriber)},
        list_unsubscribe=False,
    )


def _someone_asked_email(subscriber: Subscriber) -> EmailMultiAlternatives:
    return subscriber_email(
        subscriber,
        subject=_("Someone asked to subscribe you to Story Tracker"),
        template="already_subscribed",
        context=_follows_context(subscriber),
    )


def _after_commit_send(
    subscriber: Subscriber, build: Callable[[Subscriber], EmailMultiAlternatives], outcome: SignUp
) -> SignUp:
    transaction.on_commit(lambda: _send(subscriber.pk, build))
    logger.info("sign-up of subscriber %s: %s", subscriber.pk, outcome)
    return outcome


def _send(subscriber_id: int, build: Callable[[Subscriber], EmailMultiAlternatives]) -> None:
    """One email, built from the committed row. A failure is logged, never raised: the visitor is
    told the same whatever happens, and the sign-up can simply be made again."""
    try:
        subscriber = Subscriber.objects.get(pk=subscriber_id)
        # In the language they chose, links included (/fr/subscribe/...).
        with translation.override(subscriber.language):
            message = build(subscriber)
        message.send()
    except Exception:  # the visitor's page must not turn into a 500 nor differ: the log says what failed
        logger.exception("Could not send %s to subscriber %s", build.__name__.strip("_"), subscriber_id)
