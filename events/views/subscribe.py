"""Subscribers' pages, under /subscribe/: sign up, confirm, preferences, unsubscribe.

- `/subscribe/` (`?story=<slug>` preselects a story): the sign-up form. A valid sign-up answers the
  same page and status whatever the address's state, so nobody learns who subscribes; it is throttled
  per client address and per email address (SUBSCRIBE_RATE; over it: 429, nothing sent).
- `/subscribe/confirm/<token>/`, `/subscribe/manage/<token>/`, `/subscribe/unsubscribe/<token>/`: the
  links of the emails. A GET never changes anything (mail scanners follow links); each change is one
  press of a button that POSTs to the same address. A link that is tampered with, expired or withdrawn
  answers 400 with the reason and a way to sign up again (400 for all three: the reader's next step is
  the same, and telling "expired" from "withdrawn" apart by status would help nobody).
- The unsubscribe address is also the RFC 8058 one-click target: mail clients POST
  `List-Unsubscribe=One-Click` with no cookie and no CSRF token, so that view is CSRF-exempt; the
  signed token is the authority. The same link POSTed again answers 200 "unsubscribed".
"""

import ipaddress
from math import ceil

from django.conf import settings
from django.core.validators import slug_re
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import get_usage

from ..forms.subscriptions import PreferencesForm, SubscriptionForm
from ..models import Story, Subscriber
from ..services import subscriptions
from ..services.base import ApplicationError
from ..tokens import TokenError, make_token, read_token


def _client(request: HttpRequest) -> str:
    """The client's address as the login throttle sees it (behind a proxy: what the proxy appended);
    an IPv6 client is counted by its /64, which one machine usually holds whole."""
    address = import_string(settings.AXES_CLIENT_IP_CALLABLE)(request) or "unknown"
    if ":" in address:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return address


def _throttled(request: HttpRequest, email: str) -> int | None:
    """Count this sign-up against its client, then its address: the seconds to wait when either is
    over SUBSCRIBE_RATE, else None. An address is counted whatever its case."""
    for group, value in (("subscribe-client", _client(request)), ("subscribe-address", email.lower())):
        usage = get_usage(
            request,
            group=group,
            key=lambda _group, _request, value=value: value,
            rate=settings.SUBSCRIBE_RATE,
            increment=True,
        )
        if usage and usage["should_limit"]:
            return max(1, usage["time_left"])
    return None


def _too_many(request: HttpRequest, seconds: int) -> HttpResponse:
    response = render(request, "subscribe/too_many.html", {"minutes": ceil(seconds / 60)}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _bad_link(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "subscribe/bad_link.html", {"reason": reason}, status=400)


def _link(name: str, subscriber: Subscriber) -> str:
    purpose = name.split(":")[1]
    return reverse(name, args=[make_token(subscriber, purpose)])


def _follows(subscriber: Subscriber) -> dict:
    return {
        "stories": list(subscriber.stories.all()),
        "topics": list(subscriber.topics.all()),
        "actors": list(subscriber.actors.all()),
    }


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    slug = request.GET.get("story", "")
    # Only a slug is looked up: one with a NUL byte would be refused by PostgreSQL.
    story = Story.objects.filter(slug=slug).first() if slug_re.match(slug) else None
    keep = [story] if story else []
    if request.method == "POST":
        form = SubscriptionForm(request.POST, keep=keep)
        if form.is_valid():
            email = form.cleaned_data["email"]
            wait = _throttled(request, email)
            if wait is not None:
                return _too_many(request, wait)
            try:
                subscriptions.subscribe(
                    email=email,
                    stories=form.cleaned_data["stories"],
                    topics=form.cleaned_data["topics"],
                    actors=form.cleaned_data["actors"],
                    frequency=form.cleaned_data["frequency"],
                    language=form.cleaned_data["language"],
                )
            except ApplicationError as refusal:
                form.add_error(None, str(refusal))
            else:
                return render(request, "subscribe/check_inbox.html", {"email": email})
    else:
        form = SubscriptionForm(initial={"stories": [story.pk]} if story else None, keep=keep)
    return render(request, "subscribe/start.html", {"form": form}, status=400 if form.is_bound else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """What the link will start, with one button to confirm it; a confirmation replayed changes nothing."""
    confirmed_now = False
    try:
        subscriber = read_token(token, "confirm")
        if subscriber.unsubscribed_at is not None:
            raise ApplicationError(subscriptions.UNSUBSCRIBED)
        if request.method == "POST":
            confirmed_now = subscriptions.confirm(subscriber=subscriber)
    except (TokenError, ApplicationError) as refusal:
        return _bad_link(request, str(refusal))
    context = {"subscriber": subscriber, "manage_url": _link("subscribe:manage", subscriber)}
    if confirmed_now:
        return render(request, "subscribe/confirmed.html", context)
    if subscriber.confirmed_at is not None:
        return render(request, "subscribe/already_confirmed.html", context)
    return render(request, "subscribe/confirm.html", context | _follows(subscriber))


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """A subscriber's choices, saved with one press; the way to unsubscribe beside them."""
    try:
        subscriber = read_token(token, "manage")
    except TokenError as refusal:
        return _bad_link(request, str(refusal))
    if subscriber.unsubscribed_at is not None:
        return render(request, "subscribe/unsubscribed.html", status=400 if request.method == "POST" else 200)
    form = PreferencesForm.for_subscriber(subscriber, request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            subscriptions.update_preferences(
                subscriber=subscriber,
                stories=form.cleaned_data["stories"],
                topics=form.cleaned_data["topics"],
                actors=form.cleaned_data["actors"],
                frequency=form.cleaned_data["frequency"],
                language=form.cleaned_data["language"],
            )
        except ApplicationError as refusal:
            form.add_error(None, str(refusal))
        else:
            # Back to the page by GET, so reloading it does not post again.
            see_other = HttpResponseRedirect(f"{request.path}?saved=1")
            see_other.status_code = 303
            return see_other
    context = {
        "form": form,
        "subscriber": subscriber,
        "saved": not form.is_bound and request.GET.get("saved") == "1",
        "unsubscribe_url": _link("subscribe:unsubscribe", subscriber),
    }
    return render(request, "subscribe/manage.html", context, status=400 if form.is_bound else 200)


@csrf_exempt  # RFC 8058: the one-click POST comes from a mail client, with no cookie and no CSRF token
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with the button (a scanner following the link unsubscribes nobody). POST, from that
    button or a mail client's one-click: nothing more is sent to the address."""
    try:
        subscriber = read_token(token, "unsubscribe")
    except TokenError as refusal:
        return _bad_link(request, str(refusal))
    if request.method == "POST":
        subscriptions.unsubscribe(subscriber=subscriber)
    if subscriber.unsubscribed_at is not None:
        return render(request, "subscribe/unsubscribed.html")
    return render(request, "subscribe/unsubscribe.html", {"subscriber": subscriber})
