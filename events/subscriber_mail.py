"""Building the emails subscribers get: HTML and plain text from one pair of templates, links from
SITE_URL (a task has no request to take a host from), and after the confirmation the RFC 8058
one-click unsubscribe headers on every message.

Templates live in templates/emails/<name>.txt and <name>.html; the HTML uses inline styles only and
no external images, so common mail clients show it as meant.
"""

import datetime
import email.contentmanager
import email.headerregistry
import email.message
import email.policy
import email.utils
import functools
import random
import re
import sys
from collections.abc import Hashable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
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
    """A subscriber's message, its List-Unsubscribe written on one line (see _OnOneLine).

    A digest run sends thousands of them, and Python's email package spends most of a message's
    time parsing and folding headers it has parsed many times already. So a message of the usual
    shape (plain text and HTML, in UTF-8, to one plain address, with a Message-ID: see `_quick`)
    gets the same tree, headers and bytes as the email package makes, more cheaply: the headers
    that repeat from message to message (Subject, From) are folded by the email package once per
    value, those of one message (To, Date, Message-ID, List-Unsubscribe) are one short ASCII line
    each and written as they are, and the bodies are encoded as the email package encodes them
    (its choice of 7bit, 8bit, quoted-printable or base64). The email package's generator writes
    the tree out. Any other message takes the email package's own way."""

    UNFOLDED = ("List-Unsubscribe",)

    def message(self, *, policy: email.policy.Policy = email.policy.default) -> email.message.EmailMessage:
        quick = _quick(self, policy)
        if quick is not None:
            return quick
        msg = super().message(policy=policy)
        for name in self.UNFOLDED:
            value = msg.get(name)
            if value is not None:
                del msg[name]
                msg[name] = _OnOneLine(name, str(value))
        return msg


class _Folded(str):
    """A header already folded: the email package writes it as `folded` (see _OnOneLine)."""

    name: str
    folded: str

    def __new__(cls, name: str, value: str, folded: str) -> "_Folded":
        header = super().__new__(cls, value)
        header.name, header.folded = name, folded
        return header

    def fold(self, *, policy: email.policy.Policy) -> str:
        return self.folded


def _line(name: str, value: str, policy: email.policy.Policy) -> _Folded:
    return _Folded(name, value, f"{name}: {value}{policy.linesep}")


@functools.lru_cache(maxsize=512)
def _folded_by_the_email_package(name: str, value: str, policy: email.policy.Policy) -> _Folded:
    header = policy.header_factory(name, value)
    return _Folded(name, str(header), header.fold(policy=policy))


class _Registry(email.headerregistry.HeaderRegistry):
    """The email package's header classes, each made once (its registry makes a class per call)."""

    @functools.cache  # noqa: B019 - one registry per policy, for the life of the process
    def __getitem__(self, name: str) -> type:
        return super().__getitem__(name)


@functools.cache
def _quick_policy(policy: email.policy.EmailPolicy) -> email.policy.EmailPolicy:
    return policy.clone(header_factory=_Registry())


# What a header of one message may be to be written as it is: short, ASCII, one line, nothing that
# the email package would quote or encode.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
_PLAIN_MESSAGE_ID = re.compile(r"<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+>")
_PLAIN_URLS = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+>")
_QUICK_HEADERS = {"List-Unsubscribe", "List-Unsubscribe-Post", "Message-ID"}


def _quick(message: SubscriberMessage, policy: email.policy.Policy) -> email.message.EmailMessage | None:
    """The message as the email package would make it, or None when it is not of the usual shape."""
    extra = message.extra_headers
    if not (
        (policy is email.policy.SMTP or policy is email.policy.default)
        and not (message.attachments or message.cc or message.bcc or message.reply_to)
        and message.encoding is None
        and settings.DEFAULT_CHARSET.lower() == "utf-8"
        and isinstance(message.body, str)
        and message.body
        and len(message.alternatives) == 1
        and message.alternatives[0].mimetype == "text/html"
        and isinstance(message.alternatives[0].content, str)
        and set(extra) <= _QUICK_HEADERS
        and len(message.to) == 1
        and _PLAIN_ADDRESS.fullmatch(message.to[0])
        and len(message.to[0]) <= 70
        and isinstance(message.subject, str)
        and isinstance(message.from_email, str)
        and message.from_email.isascii()
        and _PLAIN_MESSAGE_ID.fullmatch(extra.get("Message-ID", ""))
        and len(extra["Message-ID"]) <= 64
        and ("List-Unsubscribe" not in extra or _PLAIN_URLS.fullmatch(extra["List-Unsubscribe"]))
        and extra.get("List-Unsubscribe-Post", "List-Unsubscribe=One-Click") == "List-Unsubscribe=One-Click"
    ):
        return None
    policy = _quick_policy(policy)
    parts = []
    for content, subtype, version in ((message.body, "plain", False), (message.alternatives[0].content, "html", True)):
        cte, payload = _encode_text(content, policy)
        part = email.message.EmailMessage(policy)
        part["Content-Type"] = _line("Content-Type", f'text/{subtype}; charset="utf-8"', policy)
        part["Content-Transfer-Encoding"] = _line("Content-Transfer-Encoding", cte, policy)
        if version:
            # As the email package's add_alternative() leaves it.
            part["MIME-Version"] = _line("MIME-Version", "1.0", policy)
        part.set_payload(payload)
        parts.append(part)
    boundary = _boundary([part.get_payload() for part in parts])
    msg = email.message.EmailMessage(policy)
    msg["MIME-Version"] = _line("MIME-Version", "1.0", policy)
    msg["Content-Type"] = _Folded(
        "Content-Type",
        f'multipart/alternative; boundary="{boundary}"',
        f'Content-Type: multipart/alternative;{policy.linesep} boundary="{boundary}"{policy.linesep}',
    )
    msg["Subject"] = _folded_by_the_email_package("Subject", message.subject, policy)
    msg["From"] = _folded_by_the_email_package("From", message.from_email, policy)
    msg["To"] = _line("To", message.to[0], policy)
    tz = timezone.get_current_timezone() if settings.EMAIL_USE_LOCALTIME else datetime.UTC
    msg["Date"] = _line("Date", email.utils.format_datetime(datetime.datetime.now(tz)), policy)
    # In Django's order, List-Unsubscribe last (as SubscriberMessage.message moves it).
    for name in sorted(extra, key=lambda name: name in SubscriberMessage.UNFOLDED):
        if name == "List-Unsubscribe-Post":
            msg[name] = _folded_by_the_email_package(name, extra[name], policy)
        else:
            msg[name] = _line(name, extra[name], policy)
    msg.set_payload(parts)
    return msg


def _boundary(payloads: list[str]) -> str:
    """A boundary in the email package's form that no body holds."""
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}=="  # noqa: S311 - not a secret
        if not any(f"--{boundary}" in payload for payload in payloads):
            return boundary


def _encode_text(string: str, policy: email.policy.EmailPolicy) -> tuple[str, str]:
    """A UTF-8 body's transfer encoding and encoded text, chosen and made by the function the email
    package's set_content() calls (private, so the tests compare our bytes with set_content's)."""
    return email.contentmanager._encode_text(string, "utf-8", None, policy)


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
