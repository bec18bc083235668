"""Building the emails subscribers get: HTML and plain text from one pair of templates, links from
SITE_URL (a task has no request to take a host from), and after the confirmation the RFC 8058
one-click unsubscribe headers on every message.

Templates live in templates/emails/<name>.txt and <name>.html; the HTML uses inline styles only and
no external images, so common mail clients show it as meant.
"""

import email.message
import email.policy
from collections.abc import Hashable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.functional import lazy
from django.utils.html import escape

from tracker.languages import address_in

from .models import Subscriber
from .tokens import make_token


def site_link(path: str) -> str:
    return settings.SITE_URL + path


def _page_link(path: str) -> str:
    return settings.SITE_URL + address_in(path, translation.get_language() or settings.LANGUAGE_CODE)


# A reader's page, in the language of the email it is shown in (worked out when shown): a digest's
# items are gathered once for subscribers who read different languages.
page_link = lazy(_page_link, str)


def subscriber_links(subscriber: Subscriber) -> dict[str, str]:
    """The links every email after the confirmation carries: preferences and one-click unsubscribe."""
    return {
        "manage_url": site_link(reverse("subscribe:manage", args=[make_token(subscriber, "manage")])),
        "unsubscribe_url": site_link(reverse("subscribe:unsubscribe", args=[make_token(subscriber, "unsubscribe")])),
    }


def subscriber_email(
    subscriber: Subscriber,
    *,
    subject: str,
    template: str,
    context: dict,
    list_unsubscribe: bool = True,
    message_id: str | None = None,
    shared: "SharedBodies | None" = None,
    shared_key: Hashable = None,
) -> EmailMultiAlternatives:
    """One message to `subscriber` from emails/<template>.txt and .html.

    With `shared`, the body is rendered once for every message of the same `shared_key` (the same
    news for many subscribers) and only the subscriber's own links are put in each: see SharedBodies.

    `message_id`, when given, is stable for the delivery it belongs to (e.g. "digest-42"): a message
    sent again after a crash carries the same Message-ID, which mail systems use to drop duplicates."""
    links = subscriber_links(subscriber)
    if shared is not None:
        text, html = shared.render(template, {"site_url": settings.SITE_URL, **context}, links, key=shared_key)
    else:
        context = {"site_url": settings.SITE_URL, "subscriber": subscriber, **links, **context}
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = SubscriberMessage(subject=subject, body=text, to=[subscriber.email])
    message.attach_alternative(html, "text/html")
    if list_unsubscribe:
        message.extra_headers["List-Unsubscribe"] = f"<{links['unsubscribe_url']}>"
        message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if message_id:
        domain = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":")[0] or "localhost"
        message.extra_headers["Message-ID"] = f"<{message_id}@{domain}>"
    return message


class _OnOneLine(str):
    """A header written as it is, on one line: Python's email package folds a long header that has
    no space to fold at into RFC 2047 encoded words, and mail clients then find no URL in a
    List-Unsubscribe (Gmail and Outlook show no unsubscribe button). A line may hold 998 characters
    (RFC 5322); a URL of ours holds about 130. The email package writes any header object with a
    `name` and a `fold` as the object says."""

    name: str

    def __new__(cls, name: str, value: str) -> "_OnOneLine":
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy: email.policy.Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


class SubscriberMessage(EmailMultiAlternatives):
    """A subscriber's message, its List-Unsubscribe written on one line (see _OnOneLine)."""

    UNFOLDED = ("List-Unsubscribe",)

    def message(self, *, policy: email.policy.Policy = email.policy.default) -> email.message.EmailMessage:
        msg = super().message(policy=policy)
        for name in self.UNFOLDED:
            value = msg.get(name)
            if value is not None:
                del msg[name]
                msg[name] = _OnOneLine(name, str(value))
        return msg


class SharedBodies:
    """Bodies rendered once and reused for every subscriber who gets the same content (a digest run
    renders one body per distinct digest in a batch, not one per subscriber). The templates are
    rendered with placeholders where a subscriber's own links go, without `subscriber` in their
    context, and each message gets its links put in (HTML-escaped in the HTML part).

    The key must say everything the templates show but the links; keep one instance per batch when
    the key holds the ids of objects that live only as long as the batch."""

    SLOTS = {"manage_url": "https://slot.invalid/manage", "unsubscribe_url": "https://slot.invalid/unsubscribe"}

    def __init__(self) -> None:
        self._bodies: dict[Hashable, tuple[str, str]] = {}

    def render(self, template: str, context: dict, links: dict[str, str], *, key: Hashable) -> tuple[str, str]:
        bodies = self._bodies.get((template, key))
        if bodies is None:
            context = {**context, **self.SLOTS}
            bodies = (
                render_to_string(f"emails/{template}.txt", context),
                render_to_string(f"emails/{template}.html", context),
            )
            self._bodies[(template, key)] = bodies
        text, html = bodies
        for name, slot in self.SLOTS.items():
            text = text.replace(slot, links[name])
            html = html.replace(slot, escape(links[name]))
        return text, html
