"""Request-scoped plumbing: a request id for the logs (taken from X-Request-ID when a proxy sets one),
the reader's language, and the live notice's 304 answered before sessions and the rest of the stack."""

import functools
import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers

from .request_id import current_request_id, new_request_id

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META rather than request.headers, which builds a dict of every header on first use.
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else new_request_id()
        # Not reset on the way out: Django logs an error response ("Not Found") after the middleware
        # chain has returned, and that line must carry the id too. request_finished, sent when the
        # server closes the response, clears it.
        current_request_id.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(request_finished)
def _forget_request_id(**_: object) -> None:
    current_request_id.set("-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (the language from the URL's prefix; English, unprefixed, at every
    address without one), and a redirect: a reader arriving at an unprefixed page who chose another
    language (the switcher's cookie) or, having chosen none, whose browser asks for one
    (Accept-Language) is sent to that language's address. Only browsers' page loads are redirected:
    htmx requests, scripts, feed readers and calendars get what the address says.

    Its request half is LocaleMiddleware's for this site's URLconf (i18n_patterns without a prefix for
    English), minus reading the cookie and Accept-Language on every request: the live notice's 304,
    answered next, is the busiest answer of the site and needs neither."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        prefixed = translation.get_language_from_path(request.path_info)
        translation.activate(prefixed or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
        if (
            prefixed
            or request.method not in ("GET", "HEAD")
            or "text/html" not in request.META.get("HTTP_ACCEPT", "")
            or "HTTP_HX_REQUEST" in request.META
        ):
            return None
        request.language_negotiated = True  # the answer depends on the cookie and Accept-Language
        wanted = translation.get_language_from_request(request)
        if wanted == settings.LANGUAGE_CODE:
            return None
        from .languages import address_in  # imports the URLconf, which is not ready at startup

        target = address_in(request.get_full_path(), wanted)
        if target == request.get_full_path():
            return None  # not a translated page (or none at all)
        response = HttpResponseRedirect(target)
        patch_cache_control(response, private=True, max_age=0)
        return response

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        # Only what was negotiated varies on the cookie and Accept-Language (LocaleMiddleware's would
        # say so of every unprefixed answer, the poll's 304 and htmx's fragments included).
        if getattr(request, "language_negotiated", False):
            patch_vary_headers(response, ["Accept-Language", "Cookie"])
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


@functools.cache
def _poll_path() -> re.Pattern:
    """The live notice's address in any language, taken from the URLconf so that they cannot drift apart."""
    placeholder = "slug-placeholder"
    with translation.override(settings.LANGUAGE_CODE):
        path = "/" + reverse("events:story_updates", args=[placeholder]).removeprefix(get_script_prefix())
    prefixes = "|".join(re.escape(code) for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE)
    pattern = re.escape(path).replace(re.escape(placeholder), r"(?P<slug>[-a-zA-Z0-9_]+)")
    return re.compile(f"(?:/(?:{prefixes}))?{pattern}")


class PageCacheMiddleware:
    """Readers' pages and the live notice's "nothing new", answered from the cache ahead of sessions,
    CSRF, auth and messages, which an anonymous reader's copy needs none of (events/page_cache.py).

    Every open timeline asks "anything new?" every 10 seconds and nearly always the answer is a 304:
    it is given from the cached validators before even the URL is resolved. A reader's page is served
    from the cache when it is there, else rendered by the stack below and stored as the stack made it.
    Editors (a session cookie) and everything else go through untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        # Imported here, not at the top: logging configuration imports this module before the
        # models are ready.
        from events import page_cache

        self.page_cache = page_cache
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        page_cache = self.page_cache
        conditional = "HTTP_IF_NONE_MATCH" in request.META or "HTTP_IF_MODIFIED_SINCE" in request.META
        if conditional and request.method == "GET" and (match := _poll_path().fullmatch(request.path_info)):
            _, state = page_cache.poll_state(match["slug"])
            if state is not None and (not_modified := page_cache.poll_not_modified(request, state)) is not None:
                return not_modified
        lookup = page_cache.Lookup.of(request)
        if lookup is not None and (cached := lookup.cached(request)) is not None:
            return cached
        response = self.get_response(request)
        return lookup.keep(request, response) if lookup is not None else response
