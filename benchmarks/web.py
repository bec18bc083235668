"""Figures 2, 3 and 7 over HTTP against gunicorn: the story page, the "anything new?" poll and the desk.

Throughput is wrk's (-t2 -c50), each against a static file served by the same gunicorn + whitenoise
measured right after by the same command. Fresh renders are sequential requests timed in Python, each
with a query string of its own and the Redis cache emptied before it (the worst case: a publication just
invalidated everything); the queries
and their plans come from benchmarks.probe, run with the same database's settings.
"""

import html
import http.client
import itertools
import json
import math
import pickle
import re
import secrets
import shutil
import statistics
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field

import redis

from . import setup
from .report import Figure

F2 = "2. story page"
F3 = "3. anything new?"
F7 = "7. desk front page"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Client:
    """Plain HTTP/1.1 requests to the server under test, one connection each, with a cookie jar."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, path: str, *, method: str = "GET", headers: dict | None = None, body: bytes | None = None):
        url = urllib.parse.urlsplit(self.base)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            seconds = time.perf_counter() - started
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data, seconds)
        finally:
            connection.close()

    def get(self, path: str, **kwargs) -> Response:
        return self.request(path, **kwargs)


def wrk(url: str, *, seconds: int, headers: dict[str, str] | None = None, connections: int = 50) -> dict:
    """wrk -t2 -c50 -d<seconds>s: requests per second, and how many answers were errors (not 2xx/3xx)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rate": float(rate.group(1)) if rate else 0.0,
        "bad": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def probe(env: dict[str, str], requests: list[dict]) -> list[dict]:
    env = dict(env, ALLOWED_HOSTS=env.get("ALLOWED_HOSTS", "") + ",testserver")
    done = subprocess.run(
        [setup.PYTHON, "-m", "benchmarks.probe"],
        cwd=setup.ROOT,
        env=env,
        input=json.dumps(requests),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"benchmarks.probe failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def flush_cache(*, pages_only: bool = False) -> None:
    """Empty the cache; `pages_only`: only the stored pages, keeping the rendered event cards."""
    client = redis.Redis.from_url(setup.REDIS_URL)
    try:
        if pages_only:
            if keys := list(client.scan_iter("*pc:page:*", count=1000)):
                client.delete(*keys)
        else:
            client.flushdb()
    finally:
        client.close()


# How long a web process trusts the stamps it read (settings.PAGE_CACHE_STAMP_SECONDS, its default).
STAMP_TRUST_SECONDS = 1.0


def bump_story_stamps(size: int) -> None:
    """What a publication does to the page cache (events.page_cache.story_changed): new values for the
    story's stamp and the site's, written as Django's Redis cache writes them (key version 1, pickled).
    Event cards stay valid, as they do after a publication: they are keyed on each event's version (a
    real one adds one card to render, its own). So do the "what's next" panel's stamp (no expectation
    names a new event) and the filter choices' (the publishing process checks them when it commits,
    and bumps theirs only when the new event names an actor, topic or place not on offer yet)."""
    client = redis.Redis.from_url(setup.REDIS_URL)
    try:
        for key in (f"pc:story:bench-{size}", "pc:site"):
            client.set(f":1:{key}", pickle.dumps((time.time(), secrets.token_hex(8)), pickle.HIGHEST_PROTOCOL))
    finally:
        client.close()


def story_path(size: int) -> str:
    return f"/stories/bench-{size}/"


def static_path(size: int) -> str:
    return f"/static/bench/story-{size}.html"


def write_static_copy(client: Client, size: int) -> None:
    """The story page's HTML as a static file in STATIC_ROOT, where whitenoise finds it when it starts."""
    response = client.get(story_path(size))
    if response.status != 200:
        raise RuntimeError(f"{story_path(size)} answered {response.status}: cannot make its static copy")
    copy = setup.STATIC_ROOT / "bench" / f"story-{size}.html"
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(response.body)


def _attribute(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    return html.unescape(found.group(1)) if found else ""


def older_link(text: str) -> str:
    return _attribute(text, r'<a[^>]*href="([^"]*)"[^>]*rel="next"') or _attribute(
        text, r'<a[^>]*rel="next"[^>]*href="([^"]*)"'
    )


def actor_slug(text: str, database: str, size: int) -> str:
    """An actor of the story: from the filter form's choices, else from the database."""
    select = re.search(r'<select[^>]*name="actor".*?</select>', text, re.S)
    if select:
        values = [v for v in re.findall(r'<option value="([^"]+)"', select.group(0)) if v]
        if values:
            return html.unescape(values[len(values) // 2])
    import psycopg

    with psycopg.connect(setup.database_url(database)) as conn:
        row = conn.execute(
            "SELECT a.slug FROM events_actor a JOIN events_participation p ON p.actor_id = a.id "
            "JOIN events_event e ON e.id = p.event_id JOIN events_story s ON s.id = e.story_id "
            "WHERE s.slug = %s LIMIT 1",
            [f"bench-{size}"],
        ).fetchone()
    return row[0] if row else ""


def fiftieth_page(client: Client, size: int) -> tuple[str, int]:
    """The 50th page of the timeline, by following "Older events" 49 times (or as far as it goes)."""
    path = story_path(size)
    pages = 1
    text = client.get(path).text
    while pages < 50:
        link = older_link(text)
        if not link:
            break
        path = link
        text = client.get(path).text
        pages += 1
    return path, pages


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: of 50 values, the 99th percentile is the slowest."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * share) - 1))]


def settle(client: Client, path: str) -> None:
    """Untimed, before a series: let every web process read the stamps again and fill its caches for
    `path`, so that a series does not pay for the one before it. After a series that empties Redis,
    a process still trusting the `names` stamp it read there would render every card of the next
    series' first page again (150-230 ms): that is the emptied series' cost, already measured there."""
    time.sleep(STAMP_TRUST_SECONDS + 0.1)
    for number in range(4):
        client.get(path + ("&" if "?" in path else "?") + f"settle={time.time_ns()}-{number}")


def after_publications(client: Client, size: int, count: int) -> tuple[float, float, list[int]]:
    """Median and p99 in ms of `count` story pages each asked for after a publication-like change: the
    story's stamps bumped, then a wait for the web processes to stop trusting the old ones."""
    settle(client, story_path(size))
    timings, statuses = [], []
    for _ in range(count):
        bump_story_stamps(size)
        time.sleep(STAMP_TRUST_SECONDS + 0.1)
        response = client.get(story_path(size))
        timings.append(response.seconds * 1000)
        statuses.append(response.status)
    return statistics.median(timings), percentile(timings, 0.99), sorted(set(statuses))


def fresh_renders(client: Client, path: str, count: int, *, cards: bool = False) -> tuple[float, float, list[int]]:
    """Median and p99 in ms of `count` sequential requests that no cache can answer: Redis emptied
    before each, and a query string of its own (the page cache also keeps pages in each process).
    `cards`: the stored pages only are emptied, so the event cards rendered by the first request
    (events.cards) serve the others from Redis, as they serve every reader after a publication.
    Either way each web process keeps its last few thousand cards in its own memory too."""
    if cards:
        settle(client, path)
    timings = []
    statuses = []
    for number in range(count):
        flush_cache(pages_only=cards)
        response = client.get(path + ("&" if "?" in path else "?") + f"bench={time.time_ns()}-{number}")
        timings.append(response.seconds * 1000)
        statuses.append(response.status)
    return statistics.median(timings), percentile(timings, 0.99), sorted(set(statuses))


def fresh_figure(what: str, size: int, repeats: int, median: float, p99: float, statuses: list[int]) -> Figure:
    return Figure(
        F2,
        what,
        size,
        median,
        "ms",
        "< 50 ms, p99 < 150 ms",
        median < 50 and p99 < 150 and statuses == [200],
        f"p99 {p99:.0f} ms of {repeats}" + ("" if statuses == [200] else f"; statuses {statuses}"),
    )


def login(client: Client) -> None:
    from .probe import EDITOR, EDITOR_PASSWORD

    page = client.get("/accounts/login/")
    token = _attribute(page.text, r'name="csrfmiddlewaretoken" value="([^"]+)"')
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": EDITOR, "password": EDITOR_PASSWORD, "next": "/desk/"}
    ).encode()
    response = client.request(
        "/accounts/login/",
        method="POST",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": client.base + "/accounts/login/"},
    )
    if response.status != 302 or "sessionid" not in client.cookies:
        raise RuntimeError(f"logging in as {EDITOR} failed: {response.status} {response.text[:300]}")


@dataclass
class Measured:
    figures: list[Figure]
    explains: dict[str, dict]  # label: the probe's explain answer
    notes: list[str]


def run(server: setup.Gunicorn, env: dict[str, str], database: str, size: int, *, quick: bool) -> Measured:
    seconds = 3 if quick else 10
    repeats = 10 if quick else 50
    client = Client(server.base)
    figures: list[Figure] = []
    notes: list[str] = []
    story, static = story_path(size), static_path(size)

    # --- Figure 2: the page, bounded and cheap ---------------------------------------------------
    page = client.get(story)
    if page.status != 200:
        raise RuntimeError(f"{story} answered {page.status}")
    since = _attribute(page.text, r'data-since="([^"]+)"')
    actor = actor_slug(page.text, database, size)
    older, reached = fiftieth_page(client, size)
    if reached < 50:
        notes.append(f"N={size:,}: the timeline has {reached} pages; the last one stands for the 50th")
    poll = f"/stories/bench-{size}/updates/?since={urllib.parse.quote(since)}"
    fresh_paths = {
        "after a change": story,
        "search ?q=talks": story + "?q=talks",
        "actor filter": story + "?" + urllib.parse.urlencode({"actor": actor}),
        "50th older page": older,
    }
    editor, story_probe, hit_probe, desk_probe, *plans = probe(
        env,
        [
            {"do": "editor"},
            {"do": "page", "path": story},
            {"do": "page", "path": story + "?q=talks"},
            {"do": "page", "path": "/desk/", "as_editor": True},
            {"do": "explain", "path": story, "label": "story page"},
            {"do": "explain", "path": older, "label": "50th older page"},
            {"do": "explain", "path": story + "?q=talks", "label": "search ?q=talks"},
            {"do": "explain", "path": fresh_paths["actor filter"], "label": "actor filter"},
            {"do": "explain", "path": poll, "label": "poll check (no ETag)"},
            {"do": "explain", "path": "/desk/", "as_editor": True, "label": "desk front page"},
        ],
    )
    del editor, hit_probe
    labels = ["story page", "50th older page", "search ?q=talks", "actor filter", "poll check (no ETag)", "desk"]
    explains = dict(zip(labels, plans, strict=True))

    kb = len(page.body) / 1024
    figures += [
        Figure(F2, "HTML size", size, kb, "KB", "<= 150 KB", kb <= 150),
        Figure(F2, "event elements ([data-event-id])", size, story_probe["elements"], "elements", "bounded in N"),
        Figure(
            F2, "queries, rendered afresh", size, story_probe["queries"], "queries", "<= 8", story_probe["queries"] <= 8
        ),
        Figure(F2, "queries, served again", size, story_probe["queries_again"], "queries", "", None),
    ]

    client.get(story)  # warm: the run below measures pages served again, not the first render
    ours = wrk(server.base + story, seconds=seconds)
    floor = wrk(server.base + static, seconds=seconds)
    share = 100 * ours["rate"] / floor["rate"] if floor["rate"] else 0.0
    figures.append(
        Figure(
            F2,
            "served again (cache hit), throughput",
            size,
            ours["rate"],
            "req/s",
            ">= 50% of static",
            share >= 50 and not ours["bad"],
            f"{share:.0f}% of the static copy's {floor['rate']:,.0f} req/s"
            + (f"; {ours['bad']} answers not 2xx/3xx" if ours["bad"] else ""),
        )
    )

    for (what, path), cards in itertools.product(fresh_paths.items(), (False, True)):
        emptied = "stored pages emptied" if cards else "Redis emptied"
        measured = fresh_renders(client, path, repeats, cards=cards)
        figures.append(fresh_figure(f"rendered afresh, {what}, {emptied}, median", size, repeats, *measured))
    measured = after_publications(client, size, repeats)
    what = "rendered afresh, after a publication (the story's stamps bumped; cards, panel and choices kept), median"
    figures.append(fresh_figure(what, size, repeats, *measured))

    # --- Figure 3: the poll answered 304 ------------------------------------------------------------
    first = client.get(poll)
    etag = first.headers.get("etag", "")
    check = client.get(poll, headers={"If-None-Match": etag})
    if check.status != 304:
        notes.append(f"N={size:,}: the poll with its ETag answered {check.status}, not 304")
    static_etag = client.get(static).headers.get("etag", "")
    polled = wrk(server.base + poll, seconds=seconds, headers={"If-None-Match": etag})
    floor = wrk(server.base + static, seconds=seconds, headers={"If-None-Match": static_etag})
    share = 100 * polled["rate"] / floor["rate"] if floor["rate"] else 0.0
    figures.append(
        Figure(
            F3,
            "poll answered 304, throughput at 50 clients",
            size,
            polled["rate"],
            "req/s",
            ">= 80% of static",
            share >= 80 and check.status == 304 and not polled["bad"],
            f"{share:.0f}% of the static copy's 304s, {floor['rate']:,.0f} req/s",
        )
    )
    poll_ms = statistics.median(client.get(poll, headers={"If-None-Match": etag}).seconds * 1000 for _ in range(20))
    figures.append(Figure(F3, "poll answered 304, one client, median", size, poll_ms, "ms", "flat in N"))

    # --- Figure 7: the desk's front page ------------------------------------------------------------
    desk_client = Client(server.base)
    login(desk_client)
    desk_client.get("/desk/")
    timings = [desk_client.get("/desk/").seconds * 1000 for _ in range(20)]
    desk_status = desk_client.get("/desk/").status
    median = statistics.median(timings)
    figures += [
        Figure(
            F7,
            "logged in as an editor, median of 20",
            size,
            median,
            "ms",
            "< 100 ms",
            median < 100 and desk_status == 200,
            f"{size // 10:,} expectations" + ("" if desk_status == 200 else f"; answered {desk_status}"),
        ),
        Figure(F7, "queries", size, desk_probe["queries"], "queries", "fixed in N"),
    ]
    return Measured(figures, explains, notes)


def have_wrk() -> str:
    return shutil.which("wrk") or ""
