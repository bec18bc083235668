"""No reader or editor ever sees template syntax: every page of the site as rendered, and every template file.

Django's `{# #}` comment ends with its line: one spread over two lines is printed as text (issue 11
showed `{# The timeline list ... #}` above every timeline). The page walk finds every URL in the
URLconf, fills its parameters from the demo story and reads the HTML as a browser shows it; a URL it
cannot fill fails the suite rather than going unchecked. The lint finds the mistake in the files.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.management import call_command
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.template import Context, Template, loader
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RoutePattern
from django.utils import translation
from django.views.static import serve

from events import demo_story
from events.models import Actor, Event, Expectation, MediaItem, Place, Story, Topic

MARKERS = ("{#", "#}", "{%", "%}", "{{", "}}")
HTMX = {"HX-Request": "true"}
# Before every publication of the demo, so the live notice and its "new events" block have content.
LONG_AGO = "2000-01-01T00:00:00.000000Z"


# --- Reading HTML as a reader sees it -------------------------------------------------------------


class _TemplateSyntaxFinder(HTMLParser):
    """Template syntax in text outside <script> and <style>, and in any attribute value."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_code = 0
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_startendtag(tag, attrs)
        if tag in ("script", "style"):
            self.in_code += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            self._check(value or "", f'in <{tag} {name}="...">')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.in_code:
            self.in_code -= 1

    def handle_data(self, data: str) -> None:
        if not self.in_code:
            self._check(data, "in the text")

    def _check(self, text: str, where: str) -> None:
        for marker in MARKERS:
            at = text.find(marker)
            if at != -1:
                snippet = " ".join(text[max(0, at - 30) : at + 70].split())
                self.found.append(f"{marker} {where}: “{snippet}”")


def template_syntax_in(html: str) -> list[str]:
    finder = _TemplateSyntaxFinder()
    finder.feed(html)
    finder.close()
    return finder.found


class _NextLinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("rel") == "next" and values.get("href"):
            self.hrefs.append(values["href"] or "")


def next_page_link(html: str) -> str | None:
    finder = _NextLinkFinder()
    finder.feed(html)
    return finder.hrefs[0] if finder.hrefs else None


def is_html(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


# --- The demo story -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    story: Story
    event: Event  # the Moscow talks: participants, discussion points, positions, sources
    events: list[Event]
    actor: Actor
    topic: Topic
    place: Place
    expectation: Expectation  # the overdue one, which the desk asks a decision about
    editor: AbstractBaseUser

    @classmethod
    def load(cls) -> "Demo":
        """Loads the demo story (load_demo_story) and names the rows the page walk visits."""
        call_command("load_demo_story", verbosity=0)
        story = Story.objects.get(slug=demo_story.STORY["slug"])
        return cls(
            story=story,
            event=Event.objects.get(slug="macron-putin-talks-in-moscow"),
            events=list(story.events.order_by("start")),
            actor=Actor.objects.get(slug="emmanuel-macron"),
            topic=Topic.objects.get(slug="minsk-agreements"),
            place=Place.objects.get(slug="moscow"),
            expectation=Expectation.objects.get(slug="normandy-format-leaders-summit"),
            editor=get_user_model().objects.get(username="editor"),
        )


@pytest.fixture(scope="module")
def _demo_for_the_module(django_db_setup, django_db_blocker) -> Iterator[Demo]:
    """Loading the demo takes about a second, so it is loaded once, in a transaction rolled back after
    the module: each test's own (pytest-django's `db`) is a savepoint inside it, and nothing leaks out."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield Demo.load()
        transaction.set_rollback(True)


@pytest.fixture
def demo(db, _demo_for_the_module: Demo) -> Demo:
    return _demo_for_the_module


@pytest.fixture
def visitors(client: Client, demo: Demo) -> dict[str, Client]:
    """An anonymous reader and the demo editor. A view's exception becomes a 500 to report, not a
    crash that would hide every page after it."""
    client.raise_request_exception = False
    editor = Client(raise_request_exception=False)
    editor.force_login(demo.editor)
    return {"anonymous reader": client, "editor": editor}


# --- Every URL of the site ------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # the full route, as ResolverMatch.route has it: "stories/<slug:slug>/"
    name: str | None  # with its namespaces: "events:story_detail"
    namespaces: tuple[str, ...]
    callback: Callable
    converters: dict  # parameter name -> path converter, includes' parameters too
    plain: bool  # route() syntax all the way down, no regular expression

    @property
    def label(self) -> str:
        return f"{self.name or '(unnamed)'} /{self.route}"

    @property
    def is_desk(self) -> bool:
        return "desk" in self.namespaces or self.route.startswith("desk/")


def _walk(
    resolver: URLResolver,
    prefix: str = "",
    namespaces: tuple[str, ...] = (),
    converters: dict | None = None,
    plain: bool = True,
) -> Iterator[Route]:
    """Every URLPattern under `resolver`, with the route, namespaces and converters of its includes."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        entry_converters = {**(converters or {}), **getattr(entry.pattern, "converters", {})}
        entry_plain = plain and isinstance(entry.pattern, RoutePattern)
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry, route, inner, entry_converters, entry_plain)
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name)) if entry.name else None
            yield Route(route, name, namespaces, entry.callback, entry_converters, entry_plain)


# URLs that are not pages, by route prefix: not walked. Everything else is.
NOT_PAGES = {
    "admin/": "Django's own admin, with Django's own templates",
    "^api/": "the API's JSON 404 for any URL under /api/ it does not know",
}
# Static and media files, should a URLconf serve them (in DEBUG): files, not templates.
NOT_PAGE_VIEWS = {serve}


def site_routes() -> list[Route]:
    return [
        route
        for route in _walk(get_resolver())
        if not route.route.startswith(tuple(NOT_PAGES)) and route.callback not in NOT_PAGE_VIEWS
    ]


# What to request for each URL that takes parameters (or needs a query string), by URL name: a list
# of (path parameters, query). A URL without parameters is requested as it is. One neither here nor
# filled by the desk's fallbacks below fails `test_every_url_of_the_site_is_covered_by_the_page_walk`.
Requests = list[tuple[dict[str, object], dict[str, str]]]
PARAMETERS: dict[str, Callable[[Demo], Requests]] = {
    "events:story_detail": lambda d: [({"slug": d.story.slug}, {})],
    # The live notice's check and the block it inserts both take `since` (and the reader's filters).
    "events:story_updates": lambda d: [({"slug": d.story.slug}, {"since": LONG_AGO})],
    "events:story_new_events": lambda d: [({"slug": d.story.slug}, {"since": LONG_AGO})],
    # The data URLs (Atom, iCalendar, JSON: not HTML, so only their status is checked) and the embed.
    "events:story_feed": lambda d: [({"slug": d.story.slug}, {})],
    "events:story_calendar": lambda d: [({"slug": d.story.slug}, {})],
    "events:story_timeline": lambda d: [({"slug": d.story.slug}, {})],
    "events:story_embed": lambda d: [({"slug": d.story.slug}, {})],
    "events:actor_feed": lambda d: [({"slug": d.actor.slug}, {})],
    "events:topic_feed": lambda d: [({"slug": d.topic.slug}, {})],
    # Every event: between them, discussion points, forums, expectations raised and fulfilled, and the
    # first and last of the story (a pager with one side).
    "events:event_detail": lambda d: [({"slug": event.slug}, {}) for event in d.events],
    # Every expectation of a story, an actor, a topic or a place, and one status of them.
    "events:story_expectations": lambda d: [
        ({"slug": d.story.slug}, {}),
        ({"slug": d.story.slug}, {"status": "overdue"}),
    ],
    "events:actor_expectations": lambda d: [({"slug": d.actor.slug}, {})],
    "events:topic_expectations": lambda d: [({"slug": d.topic.slug}, {})],
    "events:place_expectations": lambda d: [({"slug": d.place.slug}, {})],
    "events:actor_detail": lambda d: [({"slug": d.actor.slug}, {})],
    "events:topic_detail": lambda d: [({"slug": d.topic.slug}, {})],
    "events:place_detail": lambda d: [({"slug": d.place.slug}, {})],
    # The JSON API (not HTML, so only its status is checked) and its docs page, which is HTML.
    "api:story_detail": lambda d: [({"slug": d.story.slug}, {})],
    "api:story_events": lambda d: [({"slug": d.story.slug}, {})],
    "api:story_expectations": lambda d: [({"slug": d.story.slug}, {})],
    "api:event_detail": lambda d: [({"slug": d.event.slug}, {})],
    "api:actor_detail": lambda d: [({"slug": d.actor.slug}, {})],
    "api:topic_detail": lambda d: [({"slug": d.topic.slug}, {})],
    # Uploaded media (the demo's drawn pictures): files, not pages, so only their status is checked.
    "media": lambda d: [({"path": item.image.name}, {}) for item in MediaItem.objects.filter(kind="image")],
    "desk:event_row": lambda d: _formset_rows(),
    "desk:event_restore": lambda d: [
        ({"slug": d.event.slug, "history_id": d.event.history.earliest("history_date").history_id}, {})
    ],
    "desk:expectation_restore": lambda d: [
        ({"pk": d.expectation.pk, "history_id": d.expectation.history.earliest("history_date").history_id}, {})
    ],
    "subscribe:start": lambda d: [({}, {}), ({}, {"story": d.story.slug})],
    # The language switcher's link, followed to the page in French.
    "switch_language": lambda d: [({}, {"to": "fr", "next": d.story.get_absolute_url()})],
    # The links of an email, for a subscriber made on the spot (the demo has none); a GET changes nothing.
    "subscribe:confirm": lambda d: _subscriber_link(d, "confirm", confirmed=False),
    "subscribe:manage": lambda d: _subscriber_link(d, "manage"),
    "subscribe:unsubscribe": lambda d: _subscriber_link(d, "unsubscribe"),
}


def _subscriber_link(demo: Demo, purpose: str, *, confirmed: bool = True) -> Requests:
    from events.tokens import make_token
    from tests.factories import SubscriberFactory

    subscriber = SubscriberFactory(confirmed_at=demo.story.created_at if confirmed else None)
    subscriber.stories.add(demo.story)
    return [({"token": make_token(subscriber, purpose)}, {})]


def _formset_rows() -> Requests:
    """The "add a row" fragment of each of the event form's formsets, for a form with no row yet."""
    from events.forms.events import FORMSETS  # the desk's, imported here so that only this URL needs it

    return [({"formset": name}, {f"{name}-TOTAL_FORMS": "0"}) for name in FORMSETS]


# On the desk, a slug or pk is that of what the URL's name is about (first word found wins).
DESK_OBJECTS: list[tuple[str, Callable[[Demo], object]]] = [
    ("expectation", lambda d: d.expectation),
    ("event", lambda d: d.event),
    ("story", lambda d: d.story),
]
DESK_ATTRIBUTES = {"slug": "slug", "pk": "pk", "id": "pk"}


class Unfillable(Exception):
    pass


def _desk_requests(route: Route, demo: Demo) -> Requests:
    unknown = sorted(set(route.converters) - set(DESK_ATTRIBUTES))
    if unknown:
        raise Unfillable(f"add it to PARAMETERS: nothing gives {', '.join(unknown)}")
    for word, pick in DESK_OBJECTS:
        if word in (route.name or route.route):
            obj = pick(demo)
            return [({name: getattr(obj, DESK_ATTRIBUTES[name]) for name in route.converters}, {})]
    raise Unfillable(f"add it to PARAMETERS: its name has none of {', '.join(w for w, _ in DESK_OBJECTS)}")


_PARAMETER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")  # <slug:slug>, <pk>


def _path(route: Route, kwargs: dict[str, object]) -> str:
    if route.plain:
        return "/" + _PARAMETER.sub(lambda match: route.converters[match[1]].to_url(kwargs[match[1]]), route.route)
    if route.name:  # a regular expression: only Django knows how to fill it
        return reverse(route.name, kwargs=kwargs)
    raise Unfillable("an unnamed regular-expression route: give it a name")


def urls_for(route: Route, demo: Demo) -> list[str]:
    """The concrete URLs to request for `route`; raises Unfillable when nothing says how."""
    if route.name in PARAMETERS:
        requests = PARAMETERS[route.name](demo)
    elif not route.converters:
        requests = [({}, {})]
    elif route.is_desk:
        requests = _desk_requests(route, demo)
    else:
        raise Unfillable(f"add it to PARAMETERS: it takes {', '.join(route.converters)}")
    urls = []
    for kwargs, query in requests:
        missing = sorted(set(route.converters) - set(kwargs))
        if missing:
            raise Unfillable(f"PARAMETERS gives no {', '.join(missing)}")
        urls.append(_path(route, kwargs) + (f"?{urlencode(query)}" if query else ""))
    return urls


# --- What a reader and an editor get --------------------------------------------------------------


def _to_the_login(response: HttpResponse) -> bool:
    return response.status_code == 302 and urlsplit(response["Location"]).path == resolve_url(settings.LOGIN_URL)


def visit(visitor: Client, url: str, headers: dict[str, str] | None = None) -> tuple[str, HttpResponse]:
    """The page at `url` and where it was found: redirects within the site are followed by the same
    visitor (a password reset link), but not to the login, which the walk reads on its own."""
    response = visitor.get(url, headers=headers)
    for _ in range(5):
        location = urlsplit(response.get("Location", ""))
        if (
            response.status_code not in (301, 302, 303, 307, 308)
            or _to_the_login(response)
            or location.netloc not in ("", "testserver")
        ):
            break
        url = location.path + (f"?{location.query}" if location.query else "")
        response = visitor.get(url, headers=headers)
    # The language switcher's link leaves its choice in a cookie, and a French page its language
    # active in this thread (as LocaleMiddleware does): the next URL is built and visited afresh.
    visitor.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    translation.activate(settings.LANGUAGE_CODE)
    return url, response


def problems_with(
    who: str, url: str, response: HttpResponse, route: Route | None = None, expect: int = 200
) -> list[str]:
    status = response.status_code
    if status == 405:  # POST only (logging out, a decision on the desk): not a page
        return []
    if who == "anonymous reader" and (_to_the_login(response) or (status == 403 and route and route.is_desk)):
        return []  # behind the login: the editor's visit reads the page
    if status != expect:
        error = f" ({response.exc_info[1]!r})" if getattr(response, "exc_info", None) else ""
        return [f"{who} {url}: answered {status}, expected {expect}{error}"]
    if not is_html(response):
        return []
    return [f"{who} {url}: {found}" for found in template_syntax_in(response.content.decode())]


def test_no_page_shows_template_syntax_to_readers_or_editors(demo: Demo, visitors: dict[str, Client]):
    problems: list[str] = []
    for route in site_routes():
        try:
            urls = urls_for(route, demo)
        except Unfillable as reason:
            problems.append(f"{route.label}: cannot build its URL ({reason})")
            continue
        for url in urls:
            for who, visitor in visitors.items():
                reached, response = visit(visitor, url)
                problems += problems_with(who, reached, response, route)
    assert not problems, "\n".join(problems)


# The timeline in its other states: filtered, searched, refused, swapped by htmx.
TIMELINE_STATES = {
    "a search that matches nothing": ("events:story_detail", {"q": "no-such-word-in-the-demo"}, {}, 200),
    "a filter that does not parse": ("events:story_detail", {"from_date": "not-a-date"}, {}, 400),
    "the story's list swapped by htmx": ("events:story_detail", {"kind": "meeting"}, HTMX, 200),
    "an empty list swapped by htmx": ("events:story_detail", {"q": "no-such-word-in-the-demo"}, HTMX, 200),
    "a refused filter swapped by htmx": ("events:story_detail", {"from_date": "not-a-date"}, HTMX, 400),
    "an actor's list swapped by htmx": ("events:actor_detail", {}, HTMX, 200),
    "a place's page filtered": ("events:place_detail", {"kind": "meeting"}, {}, 200),
}


@pytest.mark.parametrize("state", TIMELINE_STATES)
def test_no_state_of_a_timeline_shows_template_syntax(demo: Demo, visitors: dict[str, Client], state: str):
    name, query, headers, expect = TIMELINE_STATES[state]
    route = next(route for route in site_routes() if route.name == name)
    url = f"{urls_for(route, demo)[0]}?{urlencode(query)}"
    problems = [
        problem
        for who, visitor in visitors.items()
        for problem in problems_with(who, *visit(visitor, url, headers), expect=expect)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["whole page", "htmx"])
def test_the_next_page_of_a_timeline_shows_no_template_syntax(
    demo: Demo, visitors: dict[str, Client], settings, headers: dict[str, str]
):
    settings.TIMELINE_PAGE_SIZE = 4  # so the demo's ten events run over three pages
    older = next_page_link(visitors["anonymous reader"].get(demo.story.get_absolute_url()).content.decode())
    if older is None:
        pytest.skip("the demo story fits on one page of the timeline")
    problems = [
        problem for who, visitor in visitors.items() for problem in problems_with(who, *visit(visitor, older, headers))
    ]
    assert not problems, "\n".join(problems)


ERROR_PAGES = sorted(
    {"400.html", "404.html", "500.html"}
    | {path.name for path in Path(settings.BASE_DIR, "templates").glob("[45]??.html")}
)


@pytest.mark.parametrize("template_name", ERROR_PAGES)
def test_the_error_pages_show_no_template_syntax(demo: Demo, template_name: str):
    template = loader.get_template(template_name)
    if template_name == "500.html":
        pages = {"anyone": template.render()}  # as Django's server_error renders it: no context at all
    else:
        pages = {}
        for who, user in {"anonymous reader": AnonymousUser(), "editor": demo.editor}.items():
            request = RequestFactory().get("/no-such-page/")
            request.user = user
            pages[who] = template.render({"request_path": request.path, "exception": "Not found"}, request)
    problems = [
        f"{template_name} for {who}: {found}" for who, html in pages.items() for found in template_syntax_in(html)
    ]
    assert not problems, "\n".join(problems)


def test_every_url_of_the_site_is_covered_by_the_page_walk(demo: Demo):
    routes = site_routes()
    assert {"healthz", "events:story_detail", "events:event_detail"} <= {route.name for route in routes}
    problems = []
    for route in routes:
        try:
            urls = urls_for(route, demo)
        except Unfillable as reason:
            problems.append(f"{route.label}: cannot build its URL ({reason})")
            continue
        # Each URL must reach the pattern it was built for, not another one that shadows it.
        problems += [
            f"{route.label}: {url} reaches /{resolve(urlsplit(url).path).route} instead"
            for url in urls
            if resolve(urlsplit(url).path).route != route.route
        ]
    assert not problems, "\n".join(problems)


def test_the_page_check_finds_a_comment_spread_over_two_lines_but_not_code_in_scripts_or_styles():
    broken = Template("<p>{# A comment\n   over two lines #}</p><a title='{{ x }'>x</a>").render(Context())
    assert [found.split(" ")[0] for found in template_syntax_in(broken)] == ["{#", "#}", "{{"]
    fine = "<style>a {{}}</style><script>if (a) { b = {c: {}}}</script><p title='{a: 1}'>1 { 2 }</p>"
    assert template_syntax_in(fine) == []


# --- The template files ---------------------------------------------------------------------------


def template_files() -> list[Path]:
    """Our own templates: the TEMPLATES dirs, and templates/ in the project's apps (not third parties')."""
    base = Path(settings.BASE_DIR).resolve()
    folders = [Path(folder) for engine in settings.TEMPLATES for folder in engine.get("DIRS", [])]
    folders += [
        Path(app.path) / "templates"
        for app in apps.get_app_configs()
        if Path(app.path).resolve().is_relative_to(base) and ".venv" not in Path(app.path).parts
    ]
    return sorted({path for folder in folders if folder.is_dir() for path in folder.rglob("*") if path.is_file()})


def unclosed_on_their_line(paths: list[Path], opener: str, closer: str) -> list[str]:
    """`file:line: text` for each line where an `opener` has no `closer` after it."""
    base = Path(settings.BASE_DIR).resolve()
    offenders = []
    for path in paths:
        shown = path.resolve().relative_to(base) if path.resolve().is_relative_to(base) else path
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            at = line.find(opener)
            while at != -1:
                end = line.find(closer, at + len(opener))
                if end == -1:
                    offenders.append(f"{shown}:{number}: {line.strip()}")
                    break
                at = line.find(opener, end + len(closer))
    return offenders


def test_every_template_comment_closes_on_its_own_line():
    assert template_files(), "no templates found"
    offenders = unclosed_on_their_line(template_files(), "{#", "#}")
    assert not offenders, "{# #} ends with its line; use {% comment %} for more:\n" + "\n".join(offenders)


@pytest.mark.parametrize(("opener", "closer"), [("{%", "%}"), ("{{", "}}")])
def test_every_template_tag_and_variable_closes_on_its_own_line(opener: str, closer: str):
    # Django reads tags and variables within one line too: split over two, they are printed.
    offenders = unclosed_on_their_line(template_files(), opener, closer)
    assert not offenders, f"{opener} ... {closer} must close on its line:\n" + "\n".join(offenders)


def test_the_lint_names_the_file_and_line_of_a_comment_spread_over_two_lines(tmp_path: Path):
    broken = tmp_path / "timeline.html"
    broken.write_text('{# One line. #}\n{# A comment\n   over two lines #}\n<div id="timeline">\n')
    assert unclosed_on_their_line([broken], "{#", "#}") == [f"{broken}:2: {{# A comment"]
