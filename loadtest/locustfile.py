"""Readers and an editor, for locust; started by scripts/loadtest, which reads what this file records.

Readers (anonymous, FastHttpUser) do what the story page lets them do, as the page tells them: open the
story list and a story, filter it by an actor, topic or place the filter form offers, a kind or dates
(half of the time as htmx does, asking for the fragment), search it, scroll with the "Older events"
link the page gives (the htmx fragment, page after page), open events and actor, topic and place pages,
and poll "anything new?" about every 10 s with the ETag they were given, fetching the new events when
it says there are some. One editor (HttpUser, with a session) logs in and publishes a development on
the synthetic story every few seconds through "Log a development" (/desk/events/new/), as a browser
posts the form, then lands on the event's edit page.

Every request's kind, time, status and error is kept and written, when locust quits, as JSON to
LOADTEST_RESULTS; LOADTEST_PLAN (JSON, from scripts/loadtest) names the stories, their dates, words to
search for and some of their events.
"""

import datetime
import html
import json
import os
import random
import re
import time
import urllib.parse
from html.parser import HTMLParser

from locust import FastHttpUser, HttpUser, between, events, task

PLAN = json.loads(os.environ.get("LOADTEST_PLAN") or '{"stories": []}')
STORIES = PLAN["stories"]
KINDS = ["meeting", "visit", "call", "multilateral", "statement", "sanction", "military_move", "agreement", "other"]
HTMX = {"HX-Request": "true"}
# scripts/loadtest deletes what the editor published, by this start of its titles, after the run.
TITLE = os.environ.get("LOADTEST_EDITOR_TITLE", "Load test development")

OLDER = re.compile(r'<a[^>]*href="([^"]*)"[^>]*rel="next"[^>]*hx-get=')
SINCE = re.compile(r'data-since="([^"]+)"')
ETAG = re.compile(r'id="live-notice"[^>]*data-etag="([^"]*)"', re.S)
NEWEST = re.compile(r'data-newest="([^"]+)"')
EVENT_LINK = re.compile(r'href="/events/([\w-]+)/"')
ENTITY_LINK = re.compile(r'href="/((?:actors|topics|places)/[\w-]+)/"')
SELECT = re.compile(r'<select[^>]*name="(actor|topic|place|kind)"(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]+)"')

# --- What was asked and answered ---------------------------------------------------------------

recorded: list[list] = []
failure_samples: dict[str, None] = {}
user_errors: list[str] = []
clock = {"start": None, "stop": None}


@events.request.add_listener
def keep(request_type, name, response_time, response_length, response=None, exception=None, **kwargs):
    status = getattr(response, "status_code", 0) or 0 if response is not None else 0
    error = None
    if exception is not None:
        error = f"{name}: {status or 'no answer'} {str(exception)[:200]}"
        if len(failure_samples) < 10:
            failure_samples.setdefault(error)
    recorded.append([name, response_time, status, error])


@events.user_error.add_listener
def keep_error(user_instance, exception, tb, **kwargs):
    """A reader's or the editor's own code failed (a page it could not read): the run proves less."""
    user_errors.append(f"{type(user_instance).__name__}: {type(exception).__name__}: {str(exception)[:200]}")


@events.test_start.add_listener
def started(environment, **kwargs):
    clock["start"] = time.monotonic()


@events.test_stop.add_listener
def stopped(environment, **kwargs):
    clock["stop"] = time.monotonic()


@events.quitting.add_listener
def write_results(environment, **kwargs):
    path = os.environ.get("LOADTEST_RESULTS")
    if not path:
        return
    begun = clock["start"] or time.monotonic()
    seconds = (clock["stop"] or time.monotonic()) - begun
    with open(path, "w", encoding="utf-8") as out:
        json.dump(
            {
                "seconds": seconds,
                "requests": recorded,
                "failure_samples": list(failure_samples),
                "user_errors": user_errors,
            },
            out,
        )


# --- Readers -------------------------------------------------------------------------------------


def _first(pattern: re.Pattern, text: str) -> str:
    found = pattern.search(text)
    return html.unescape(found.group(1)) if found else ""


class Reader(FastHttpUser):
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.client.get("/", name="story list")
        self.open_story(random.choices(STORIES, weights=[4, 1][: len(STORIES)])[0])

    # The page a reader has in front of them, as its last answer left it.
    def open_story(self, story: dict, query: dict | None = None, *, htmx: bool = False) -> None:
        self.story = story
        self.query = query or {}
        path = f"/stories/{story['slug']}/"
        if self.query:
            path += "?" + urllib.parse.urlencode(self.query)
            name = "timeline, filtered (htmx)" if htmx else "story page, filtered"
            if "q" in self.query:
                name = "story page, search"
        else:
            name = "story page"
        response = self.client.get(path, name=name, headers=HTMX if htmx else None)
        text = response.text or ""
        if not htmx:
            self.etag = _first(ETAG, text)
            self.choices = {name: OPTION.findall(select) for name, select in SELECT.findall(text)}
        self.read(text)
        self.scrolled = 0

    def read(self, text: str) -> None:
        self.older = _first(OLDER, text)
        self.since = _first(SINCE, text) or getattr(self, "since", "")
        self.events = EVENT_LINK.findall(text) or getattr(self, "events", [])
        self.entities = ENTITY_LINK.findall(text) or getattr(self, "entities", [])

    @task(1)
    def story_list(self) -> None:
        self.client.get("/", name="story list")

    @task(2)
    def story(self) -> None:
        self.open_story(random.choice(STORIES))

    @task(3)
    def filter(self) -> None:
        options = {name: values for name, values in self.choices.items() if values}
        choice = random.choice([*options, "dates"])
        if choice == "dates":
            first = datetime.date.fromisoformat(self.story["first"])
            last = datetime.date.fromisoformat(self.story["last"])
            start = first + datetime.timedelta(days=random.randint(0, max(0, (last - first).days)))
            query = {"from_date": start.isoformat(), "to_date": (start + datetime.timedelta(days=30)).isoformat()}
        else:
            query = {choice: random.choice(options[choice])}
        self.open_story(self.story, query, htmx=random.random() < 0.5)

    @task(1)
    def search(self) -> None:
        self.open_story(self.story, {"q": random.choice(self.story["words"])})

    @task(3)
    def scroll(self) -> None:
        """Two or three more pages of the timeline, as the "Older events" link comes into view."""
        for _ in range(random.randint(2, 3)):
            if not self.older or self.scrolled >= 20:
                self.open_story(self.story, self.query)
                return
            response = self.client.get(self.older, name="older events (htmx)", headers=HTMX)
            self.read(response.text or "")
            self.scrolled += 1

    @task(2)
    def event(self) -> None:
        # Mostly one the page shows; now and then an old one, as from a search engine.
        slug = random.choice(self.events) if self.events and random.random() < 0.8 else None
        slug = slug or random.choice(self.story["events"])
        self.client.get(f"/events/{slug}/", name="event page")

    @task(1)
    def entity(self) -> None:
        if self.entities:
            self.client.get(f"/{random.choice(self.entities)}/", name="actor, topic or place page")

    @task(9)
    def poll(self) -> None:
        """reader.js's poll: a conditional GET with the page's filters and `since`, 304 while nothing is new."""
        if not self.since:
            return
        query = urllib.parse.urlencode({**{k: v for k, v in self.query.items() if k != "after"}, "since": self.since})
        headers = {"If-None-Match": self.etag} if self.etag else {}
        response = self.client.get(
            f"/stories/{self.story['slug']}/updates/?{query}", name="anything new? (poll)", headers=headers
        )
        if response.status_code != 200:
            return
        self.etag = response.headers.get("ETag") or self.etag
        if "data-show-new" in (response.text or "") and random.random() < 0.5:
            block = self.client.get(f"/stories/{self.story['slug']}/new/?{query}", name="new events (htmx)")
            self.since = _first(NEWEST, block.text or "") or self.since


# --- The editor ----------------------------------------------------------------------------------


class FormFields(HTMLParser):
    """What a browser would post from one form, untouched: hidden values, the selected (else the
    first) option of each select, checked boxes, typed values; and the options of each datalist."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.action = ""
        self.fields: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}
        self.datalists: dict[str, list[str]] = {}
        self._select: str | None = None
        self._datalist: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside, self.action = True, attrs.get("action") or ""
        if tag == "datalist":
            self._datalist = attrs.get("id")
            self.datalists[self._datalist] = []
        if tag == "option" and self._datalist:
            self.datalists[self._datalist].append(attrs.get("value") or "")
        if not self.inside or "name" not in attrs:
            if tag == "option" and self._select:
                self.options[self._select].append(attrs.get("value") or "")
                if "selected" in attrs:
                    self.fields[self._select] = attrs.get("value") or ""
            return
        name = attrs["name"]
        if tag == "input" and attrs.get("type") not in ("checkbox", "radio", "submit", "file"):
            self.fields[name] = attrs.get("value") or ""
        elif tag == "input" and "checked" in attrs:
            self.fields[name] = attrs.get("value") or "on"
        elif tag == "select":
            self._select = name
            self.options[name] = []
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            if self._select not in self.fields and self.options[self._select]:
                self.fields[self._select] = self.options[self._select][0]
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "datalist":
            self._datalist = None
        elif tag == "form" and self.inside:
            self.inside = False


def _form(text: str, form_id: str) -> FormFields:
    parser = FormFields(form_id)
    parser.feed(text)
    return parser


class Editor(HttpUser):
    fixed_count = 1
    wait_time = between(3, 6)

    def on_start(self) -> None:
        self.published = 0
        page = self.client.get("/accounts/login/", name="login page")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        with self.client.post(
            "/accounts/login/",
            data={
                "csrfmiddlewaretoken": token.group(1) if token else "",
                "username": os.environ.get("LOADTEST_EDITOR", ""),
                "password": os.environ.get("LOADTEST_EDITOR_PASSWORD", ""),
                "next": "/desk/",
            },
            name="log in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"logging in answered {response.status_code}")

    @task
    def publish(self) -> None:
        story = STORIES[0]["slug"]
        page = self.client.get(f"/desk/events/new/?story={story}", name="desk: log a development")
        if page.status_code != 200:
            return
        form = _form(page.text, "development-form")
        now = datetime.datetime.now().astimezone()
        self.published += 1
        actors = [name for name in form.datalists.get("actor-suggestions", []) if name]
        data = dict(form.fields)
        data.update(
            title=f"{TITLE} {self.published}: {random.choice(STORIES[0]['words'])} talks resume",
            kind=random.choice([value for value in form.options.get("kind", []) if value] or KINDS),
            date=now.date().isoformat(),
            time=now.strftime("%H:%M"),
            precision="exact",
            summary="Logged by the load test's editor while readers browse: *one more development*.",
            publish="1",
        )
        if actors:
            data["participants-0-actor"] = random.choice(actors)
            data["participants-0-role"] = next(
                (value for value in form.options.get("participants-0-role", []) if value), ""
            )
        data["sources-0-url"] = f"https://news.example.org/load-test/{self.published}-{int(time.time())}"
        with self.client.post(
            form.action or f"/desk/events/new/?story={story}",
            data=data,
            name="desk: publish",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                errors = re.findall(r'class="[^"]*errorlist[^"]*"[^>]*>(.*?)</ul>', response.text or "", re.S)
                text = " ".join(" ".join(re.sub(r"<[^>]+>", " ", e).split()) for e in errors)[:300]
                response.failure(f"publishing answered {response.status_code}: {text or 'no message'}")
                return
            location = response.headers.get("Location", "")
        if location:
            self.client.get(urllib.parse.urljoin("/", location), name="desk: event after publishing")
