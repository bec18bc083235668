"""The headers every answer carries: the strict CSP, framing, HTTPS-only settings, Vary and caching.

The page walk of tests/test_template_hygiene.py gives every URL of the site, filled from the demo
story, for an anonymous reader and the demo editor. Production settings are read in a fresh
interpreter with an https SITE_URL (tests/test_settings.py's helpers).
"""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import resolve

from tests import test_template_hygiene as hygiene
from tests.test_settings import production_environment, run_python
from tests.test_template_hygiene import HTMX, Demo, is_html, site_routes, urls_for, visit

# The page walk's fixtures: the demo story, loaded once for the module, and its two visitors.
_demo_for_the_module = hygiene._demo_for_the_module
demo = hygiene.demo
visitors = hygiene.visitors

# --- Production settings ------------------------------------------------------------------------

_PRINT_SECURITY = """
import json, django
from django.conf import settings as s
from django.utils.csp import build_policy
django.setup()
print(json.dumps({name: getattr(s, name) for name in (
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE",
    "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY", "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "SILENCED_SYSTEM_CHECKS",
    "DEBUG")} | {"csp": build_policy(s.SECURE_CSP, "NONCE")}))
"""


def test_production_settings_are_https_only_with_strict_cookies_and_no_silenced_check():
    result = run_python("-c", _PRINT_SECURITY, **production_environment())

    assert result.returncode == 0, result.stderr
    chosen = json.loads(result.stdout)
    assert chosen["DEBUG"] is False
    assert chosen["SECURE_SSL_REDIRECT"] is True
    assert chosen["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert chosen["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and chosen["SECURE_HSTS_PRELOAD"]
    assert chosen["SESSION_COOKIE_SECURE"] and chosen["CSRF_COOKIE_SECURE"]
    assert chosen["SESSION_COOKIE_SAMESITE"] == chosen["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert chosen["SESSION_COOKIE_HTTPONLY"] and chosen["CSRF_COOKIE_HTTPONLY"]
    assert chosen["SECURE_CROSS_ORIGIN_OPENER_POLICY"] == "same-origin"
    assert chosen["X_FRAME_OPTIONS"] == "DENY"
    assert chosen["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert chosen["SILENCED_SYSTEM_CHECKS"] == []
    policy = {directive.split()[0]: directive.split()[1:] for directive in chosen["csp"].split("; ")}
    assert policy["script-src"] == ["'self'", "'nonce-NONCE'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == policy["base-uri"] == ["'none'"]
    assert "unsafe" not in chosen["csp"]


_PRODUCTION_ANSWERS = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client, override_settings
# The production settings but their static files' manifest, which only collectstatic writes.
plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
plain_static = {**settings.STORAGES, "staticfiles": plain}
with override_settings(STORAGES=plain_static):
    client = Client(HTTP_HOST="tracker.example.org")
    plain = client.get("/accounts/login/")
    login = client.get("/accounts/login/", secure=True)
cookie = login.cookies["csrftoken"]
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "headers": dict(login.items()),
    "status": login.status_code,
    "cookie": {"secure": bool(cookie["secure"]), "httponly": bool(cookie["httponly"]), "samesite": cookie["samesite"]},
}))
"""


@pytest.mark.django_db
def test_with_production_settings_an_answer_carries_hsts_coop_and_a_secure_csrf_cookie():
    test_database = settings.DATABASES["default"]["NAME"]
    environment = production_environment() | {
        "DATABASE_URL": re.sub(r"/[^/]*$", f"/{test_database}", production_environment()["DATABASE_URL"])
    }

    result = run_python("-c", _PRODUCTION_ANSWERS, **environment)

    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.splitlines()[-1])
    assert answers["plain"] == [301, "https://tracker.example.org/accounts/login/"]
    assert answers["status"] == 200
    headers = answers["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "'nonce-" in headers["Content-Security-Policy"] and "unsafe" not in headers["Content-Security-Policy"]
    assert answers["cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}


# --- Every page: the strict CSP and its markup ------------------------------------------------------


def every_page(demo: Demo, visitors: dict[str, Client], headers: dict[str, str] | None = None):
    """(who, url, route, response) for every URL of the walk and each visitor."""
    for route in site_routes():
        for url in urls_for(route, demo):
            for who, visitor in visitors.items():
                reached, response = visit(visitor, url, headers)
                yield who, reached, route, response


class _InlineCode(HTMLParser):
    """What a strict CSP would block in a page: inline handlers, style attributes and <style>
    elements, javascript: links, and scripts without the page's nonce."""

    def __init__(self, nonce: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name == "style":
                self.found.append(f'<{tag} style="{value}">')
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value}>")
        if tag == "style":
            self.found.append("<style>")
        data_block = values.get("type") in ("application/ld+json", "application/json")
        if tag == "script" and not data_block and (values.get("nonce") != self.nonce or not values.get("src")):
            self.found.append(f"<script src={values.get('src')} nonce={values.get('nonce')}>")

    handle_startendtag = handle_starttag


def _nonce(policy: str) -> str | None:
    match = re.search(r"'nonce-([^']+)'", policy)
    return match[1] if match else None


def test_every_page_has_the_strict_csp_and_nothing_it_would_block(demo: Demo, visitors: dict[str, Client]):
    problems = []
    for who, url, _route, response in every_page(demo, visitors):
        if response.status_code in (302, 405) or not is_html(response):
            continue
        policy = response.get("Content-Security-Policy", "")
        # A page that renders no script gets no nonce: 'self' alone.
        if not re.search(r"script-src 'self'( 'nonce-[^']+')?;", policy) or "unsafe" in policy:
            problems.append(f"{who} {url}: CSP {policy!r}")
            continue
        if "style-src 'self';" not in policy or "default-src 'self';" not in policy:
            problems.append(f"{who} {url}: CSP {policy!r}")
        finder = _InlineCode(_nonce(policy))
        finder.feed(response.content.decode())
        problems += [f"{who} {url}: {found}" for found in finder.found]
    assert not problems, "\n".join(problems)


def test_only_the_embed_may_be_framed_and_by_default_by_nobody(demo: Demo, visitors: dict[str, Client]):
    problems = []
    for who, url, _route, response in every_page(demo, visitors):
        if response.status_code == 302:
            continue
        if response.get("X-Frame-Options") != "DENY":
            problems.append(f"{who} {url}: X-Frame-Options {response.get('X-Frame-Options')!r}")
        if is_html(response) and "frame-ancestors 'none'" not in response.get("Content-Security-Policy", ""):
            problems.append(f"{who} {url}: frame-ancestors not 'none'")
    assert not problems, "\n".join(problems)


def test_listed_sites_may_frame_the_embed_and_no_other_page(demo: Demo, visitors: dict[str, Client], settings):
    settings.EMBED_ALLOWED_ORIGINS = ["https://news.example.org"]
    framable = []
    for _who, url, route, response in every_page(demo, visitors):
        if "frame-ancestors https://news.example.org" in response.get("Content-Security-Policy", ""):
            framable.append(route.name)
            assert "X-Frame-Options" not in response, url
        elif response.status_code != 302:
            assert response.get("X-Frame-Options") == "DENY", url
    assert set(framable) == {"events:story_embed"}


_TEMPLATES = Path(settings.BASE_DIR, "templates")
_SCRIPTS = Path(settings.BASE_DIR, "static", "js")
# Emails are read in mail clients, which take inline styles only; no CSP applies to them.
_PAGE_TEMPLATES = sorted(path for path in _TEMPLATES.rglob("*.html") if "emails" not in path.parts)


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        (r"""\son[a-z]+\s*=""", "an inline event handler"),
        (r"""\sstyle\s*=""", "a style attribute"),
        (r"<style\b", "a <style> element"),
        (r"<script(?![^>]*\ssrc=)[^>]*>", "an inline script"),
        (r"javascript:", "a javascript: URL"),
    ],
)
def test_no_template_holds_what_the_csp_blocks(pattern: str, what: str):
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}"
        for path in _PAGE_TEMPLATES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(pattern, line.replace("{#", "\0").split("\0")[0], re.IGNORECASE)
    ]
    assert _PAGE_TEMPLATES and not offenders, f"{what}:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        (r"""\bon[a-z]+\s*=\s*["']|setAttribute\(\s*["']on""", "an inline event handler in built HTML"),
        (r"""style\s*=\s*\\?["']|\.style\b|setAttribute\(\s*["']style""", "an inline style"),
        (r"\beval\s*\(|new\s+Function\s*\(|set(?:Timeout|Interval)\(\s*[\"'`]", "code from a string"),
        (r"javascript:", "a javascript: URL"),
    ],
)
def test_our_scripts_build_nothing_the_csp_blocks(pattern: str, what: str):
    scripts = sorted(path for path in _SCRIPTS.rglob("*.js") if not path.name.startswith("htmx"))
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}"
        for path in scripts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(pattern, line)
    ]
    assert scripts and not offenders, f"{what}:\n" + "\n".join(offenders)


def test_htmx_is_configured_for_the_strict_csp(client, db):
    html = client.get("/").content.decode()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)[1])

    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    assert config["selfRequestsOnly"] is True
    assert config["includeIndicatorStyles"] is False
    assert config["historyRestoreAsHxRequest"] is False


# --- Vary: HX-Request ----------------------------------------------------------------------------

# What differs between two renderings of the same answer, whatever htmx asks.
_PER_RESPONSE = [
    (re.compile(r'nonce="[^"]*"'), 'nonce=""'),
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'), 'name="csrfmiddlewaretoken" value=""'),
    (re.compile(r'"X-CSRFToken": "[^"]*"'), '"X-CSRFToken": ""'),
    # A signed link's time and signature (an email's links on the subscriber's page).
    (re.compile(r":[0-9A-Za-z]{6}:[A-Za-z0-9_-]{43}"), ":signed"),
]


def _content(response) -> bytes:
    if response.streaming:  # files (media): the same bytes whoever asks
        return b""
    text = response.content.decode(errors="replace")
    for pattern, replacement in _PER_RESPONSE:
        text = pattern.sub(replacement, text)
    return text.encode()


def _varies_on_htmx(response) -> bool:
    return "hx-request" in [part.strip().lower() for part in response.get("Vary", "").split(",")]


def test_every_answer_that_differs_for_htmx_says_vary_hx_request(demo: Demo, visitors: dict[str, Client]):
    problems, differing = [], set()
    for route in site_routes():
        for url in urls_for(route, demo):
            for who, visitor in visitors.items():
                _, whole = visit(visitor, url)
                _, fragment = visit(visitor, url, HTMX)
                if (whole.status_code, _content(whole)) == (fragment.status_code, _content(fragment)):
                    continue
                differing.add(route.name)
                problems += [
                    f"{who} {url} ({kind}): Vary {answer.get('Vary')!r}"
                    for kind, answer in (("whole page", whole), ("htmx", fragment))
                    if not _varies_on_htmx(answer)
                ]
    assert not problems, "\n".join(problems)
    # The comparison finds the fragments it is there to find.
    assert {"events:story_detail", "events:actor_detail", "desk:expectation_detail"} <= differing


@pytest.mark.parametrize(
    "url",
    ["/stories/{story}/", "/stories/{story}/?kind=meeting", "/actors/{actor}/", "/topics/{topic}/", "/places/{place}/"],
)
def test_a_timeline_sent_from_the_cache_still_says_vary_hx_request(demo: Demo, client, url: str):
    url = url.format(story=demo.story.slug, actor=demo.actor.slug, topic=demo.topic.slug, place=demo.place.slug)
    for headers in ({}, HTMX, {}, HTMX):  # the second round is served from the page cache
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and _varies_on_htmx(response), (url, headers)


# --- Caching and validators on readers' pages ------------------------------------------------------


def _cached_page_urls(demo: Demo) -> list[str]:
    return [
        url for route in site_routes() if hasattr(route.callback, "page_cache_stamps") for url in urls_for(route, demo)
    ]


def test_every_reader_s_page_is_public_with_validators_and_answers_304_when_unchanged(demo: Demo, client):
    urls = _cached_page_urls(demo)
    assert {"events:story_list", "events:story_detail", "events:event_detail"} <= {
        resolve(url.split("?")[0]).view_name for url in urls
    }
    problems = []
    for url in urls:
        response = client.get(url)
        control = response.get("Cache-Control", "")
        if response.status_code != 200 or "public" not in control or "max-age=" not in control:
            problems.append(f"{url}: {response.status_code}, Cache-Control {control!r}")
            continue
        if not response.has_header("ETag") or not response.has_header("Last-Modified"):
            problems.append(f"{url}: no ETag or Last-Modified")
            continue
        if "cookie" not in response.get("Vary", "").lower():
            problems.append(f"{url}: no Vary: Cookie (an editor's copy differs)")
        again = client.get(url, headers={"if-none-match": response["ETag"]})
        if again.status_code != 304:
            problems.append(f"{url}: If-None-Match answered {again.status_code}")
        since = client.get(url, headers={"if-modified-since": response["Last-Modified"]})
        if since.status_code != 304:
            problems.append(f"{url}: If-Modified-Since answered {since.status_code}")
    assert not problems, "\n".join(problems)


def test_an_editor_s_copy_of_a_reader_s_page_is_private_and_never_reused_unchecked(demo: Demo, visitors):
    editor = visitors["editor"]
    problems = []
    for url in _cached_page_urls(demo):
        response = editor.get(url)
        control = response.get("Cache-Control", "")
        if "private" not in control or "no-cache" not in control or "public" in control:
            problems.append(f"{url}: Cache-Control {control!r}")
    assert not problems, "\n".join(problems)


def test_the_live_notice_is_revalidated_every_time_and_answers_304_while_nothing_changed(demo: Demo, client):
    url = urls_for(_route("events:story_updates"), demo)[0]

    response = client.get(url)

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] and response.has_header("ETag")
    assert client.get(url, headers={"if-none-match": response["ETag"]}).status_code == 304


def _route(name: str):
    return next(route for route in site_routes() if route.name == name)


def test_desk_pages_are_never_stored_by_a_cache(client, db):
    from django.conf import settings as project_settings
    from django.contrib.auth.models import Group, User

    editor = User.objects.create_user("cache-check-editor", password="not-used-here")
    editor.groups.add(Group.objects.get_or_create(name=project_settings.EDITORS_GROUP)[0])
    client.force_login(editor)
    response = client.get("/desk/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
