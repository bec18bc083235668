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
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import Resolver404, resolve, translate_url
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.i18n import JavaScriptCatalog

LANGUAGE_NAMES = dict(settings.LANGUAGES)


def address_in(path: str, language: str) -> str:
    """`path` (with its query) in `language`: /stories/x/?q=a -> /fr/stories/x/?q=a. A path outside the
    translated URLs (/admin/, /api/) comes back as it is; one that resolves nowhere (an error page's)
    gets the language's prefix in place of its own."""
    parts = urlsplit(path)
    current = translation.get_language_from_path(parts.path) or settings.LANGUAGE_CODE
    # Resolved in the language the path is in: prefixes match in the active language only.
    with translation.override(current):
        try:
            resolve(unquote(parts.path))
        except Resolver404:
            pass
        else:
            return translate_url(path, language)
    bare = parts.path.removeprefix(f"/{current}") if current != settings.LANGUAGE_CODE else parts.path
    prefixed = bare if language == settings.LANGUAGE_CODE else f"/{language}{bare}"
    return urlunsplit(("", "", prefixed, parts.query, parts.fragment))


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


# Built once per language in each process (the catalogs change only with a release), then kept by
# browsers for a year: the address carries the version (?v=, catalog_version), so a new catalog is a
# new address. Whatever ?v= says, the answer is the same: no cache entry per query string.
_CATALOG_SECONDS = 365 * 24 * 3600
_catalog_view = JavaScriptCatalog.as_view()
_catalogs: dict[str, tuple[bytes, str]] = {}


@require_safe
def javascript_catalog(request: HttpRequest) -> HttpResponse:
    language = translation.get_language()
    if language not in _catalogs:
        built = _catalog_view(request)
        _catalogs[language] = (built.content, built["Content-Type"])
    content, content_type = _catalogs[language]
    response = HttpResponse(content, content_type=content_type)
    patch_cache_control(response, public=True, max_age=_CATALOG_SECONDS, immutable=True)
    return response


def context(request: HttpRequest) -> dict:
    """`language_alternates` (this page in every language), worked out only when a page shows them,
    and the JavaScript catalog's version for its address."""
    return {
        "language_alternates": SimpleLazyObject(lambda: alternates(request)),
        "javascript_catalog_version": catalog_version,
    }
