"""Building the emails subscribers get: HTML and plain text from one pair of templates, links from
SITE_URL (a task has no request to take a host from), and after the confirmation the RFC 8058
one-click unsubscribe headers on every message.

Templates live in templates/emails/<name>.txt and <name>.html; the HTML uses inline styles only and
no external images, so common mail clients show it as meant.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Subscriber
from .tokens import make_token


def site_link(path: str) -> str:
    return settings.SITE_URL + path


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
) -> EmailMultiAlternatives:
    """One message to `subscriber` from emails/<template>.txt and .html.

    `message_id`, when given, is stable for the delivery it belongs to (e.g. "digest-42"): a message
    sent again after a crash carries the same Message-ID, which mail systems use to drop duplicates."""
    links = subscriber_links(subscriber)
    context = {"site_url": settings.SITE_URL, "subscriber": subscriber, **links, **context}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        to=[subscriber.email],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    if list_unsubscribe:
        message.extra_headers["List-Unsubscribe"] = f"<{links['unsubscribe_url']}>"
        message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if message_id:
        domain = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":")[0] or "localhost"
        message.extra_headers["Message-ID"] = f"<{message_id}@{domain}>"
    return message
