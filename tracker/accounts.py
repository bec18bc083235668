"""Logging in and out: Django's own views, with failed logins throttled by django-axes.

Axes counts failed logins per account and per client address, separately (AXES_LOCKOUT_PARAMETERS), on
our login page and the admin's alike. The settings point it at the pieces here: where a client's address
comes from, what a locked-out client is told, and what a successful login forgets.
"""

import ipaddress
from datetime import timedelta
from math import ceil

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


class LoginView(auth_views.LoginView):
    """Django's login view; a refused login answers 400, as every refused form of the site does."""

    def form_invalid(self, form) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


def _valid_address(candidate: str | None) -> str | None:
    # Axes stores the address in an inet column: anything else would fail the request with a 500.
    try:
        return str(ipaddress.ip_address((candidate or "").strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The connecting peer's address: with no proxy in front, headers are the client's to invent."""
    return _valid_address(request.META.get("REMOTE_ADDR"))


def client_address_behind_proxy(request: HttpRequest) -> str | None:
    """Behind one trusted proxy (BEHIND_PROXY), the address it appended last to X-Forwarded-For.

    Entries to its left come from the client and prove nothing; without the header, the peer's address.
    """
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded.strip():
        return _valid_address(forwarded.split(",")[-1])
    return client_address(request)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """429 with the site's page saying when to try again, and Retry-After for machines.

    Every attempt during a lockout is counted and restarts the cool-off (axes's default), so the wait is
    the whole cool-off from now.
    """
    cool_off = get_cool_off(request) or timedelta(0)
    attempted_at = getattr(request, "axes_attempt_time", None) or timezone.now()
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "minutes": ceil(cool_off.total_seconds() / 60),
        "retry_at": attempted_at + cool_off,
    }
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(ceil(cool_off.total_seconds()))
    return response


class AccessAttemptHandler(AxesDatabaseHandler):
    """Axes's database handler, but a successful login forgets only the failures of its own account.

    Axes would also forget every failure recorded from the address, whatever the account, so anyone
    holding one valid login could wipe the count of their guesses at other accounts by logging in.
    """

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        if username is None:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
