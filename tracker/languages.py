"""The reader's language: the switcher's links, each page's addresses in the other languages, and the
JavaScript catalog.

English, the source, lives at the addresses the site always had (/stories/<slug>/); the other
languages of settings.LANGUAGES under a prefix (/fr/stories/<slug>/). The URL decides; an unprefixed
page is redirected to the reader's own language when they chose one (the switcher's cookie) or, with no
choice made, when their browser asks for one (tracker.middleware.LanguageMiddleware).
"""

import functools
import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import translate_url
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_page
from django.views.decorators.http import require_safe
from django.views.i18n import JavaScriptCatalog

LANGUAGE_NAMES = dict(settings.LANGUAGES)


def address_in(path: str, language: str) -> str:
    """`path` (with its query) in `language`: /stories/x/?q=a -> /fr/stories/x/?q=a. A path outside the
    translated URLs, or one that does not resolve, comes back as it is."""
    current = translation.get_language_from_path(urlsplit(path).path) or settings.LANGUAGE_CODE
    # translate_url resolves the path in the active language, so in the one the path is in.
    with translation.override(current):
        return translate_url(path, language)


@dataclass(frozen=True)
class Alternate:
    code: str
    name: str
    path: str
    current: bool

    @property
    def url(self) -> str:
        """Absolute, from SITE_URL (not the request's Host, which an error page cannot trust)."""
        return settings.SITE_URL + self.path


def alternates(request: HttpRequest) -> list[Alternate]:
    """This page in every language, for the switcher and the hreflang links."""
    path = request.get_full_path()
    current = translation.get_language()
    return [Alternate(code, name, address_in(path, code), code == current) for code, name in settings.LANGUAGES]


@require_safe
def switch_language(request: HttpRequest) -> HttpResponse:
    """The switcher's links (?to=fr&next=/stories/x/): keeps the choice in a cookie and goes to the page
    in that language. A link, not a form: the readers' pages are cached for everyone and carry no
    CSRF token, and a language is a preference that any link may set."""
    language = request.GET.get("to", "")
    if language not in LANGUAGE_NAMES:
        return HttpResponseBadRequest(
            _("Unknown language “%(language)s”: choose one of %(choices)s.")
            % {"language": language[:20], "choices": ", ".join(LANGUAGE_NAMES)},
            content_type="text/plain; charset=utf-8",
        )
    target = request.GET.get("next", "")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(address_in(target, language))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    add_never_cache_headers(response)
    return response


@functools.cache
def catalog_version() -> str:
    """Changes with the compiled JavaScript catalogs, so that their long-cached address changes too."""
    digest = hashlib.blake2b(settings.RELEASE.encode(), digest_size=6)
    for locale_dir in settings.LOCALE_PATHS:
        for mo in sorted(locale_dir.glob("*/LC_MESSAGES/djangojs.mo")):
            digest.update(mo.read_bytes())
    return digest.hexdigest()


# Built once per language and version, then kept by browsers for a year: the address carries the
# version (?v=, catalog_version), so a new catalog is a new address.
_CATALOG_SECONDS = 365 * 24 * 3600
_catalog = cache_page(_CATALOG_SECONDS, key_prefix="jsi18n")(JavaScriptCatalog.as_view())


@require_safe
def javascript_catalog(request: HttpRequest) -> HttpResponse:
    response = _catalog(request)
    patch_cache_control(response, public=True, max_age=_CATALOG_SECONDS, immutable=True)
    return response


def context(request: HttpRequest) -> dict:
    """`language_alternates` (this page in every language), worked out only when a page shows them,
    and whether the page's language needs the JavaScript catalog (English, the source, does not)."""
    return {
        "language_alternates": SimpleLazyObject(lambda: alternates(request)),
        "javascript_catalog_version": catalog_version,
    }
