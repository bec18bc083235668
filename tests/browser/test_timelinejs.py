"""Knight Lab's own TimelineJS, in Chromium, loads our timeline.json and shows the demo story.

TimelineJS comes from its npm package (@knight-lab/timelinejs, pinned by tests/timelinejs/'s
package-lock.json), which this module installs with `npm ci` into a cache folder outside the checkout
(TIMELINEJS_CACHE, else ~/.cache/story-tracker/timelinejs-<hash of the lock>), once. Its `dist` files
and a page that points TL.Timeline at the live server's timeline.json are served from a small local
HTTP server: another origin, as on a newsroom's page, so this checks the export's CORS header too.
Requests anywhere else (a CDN) are refused and would show as errors.
"""

import functools
import hashlib
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from events import demo_media, demo_story
from events.models import Event, Story

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PACKAGE = Path(__file__).resolve().parent.parent / "timelinejs"

PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TimelineJS</title>
<link rel="stylesheet" href="/dist/css/timeline.css"></head>
<body><div id="timeline" style="width: 100%; height: 600px"></div>
<script src="/dist/js/timeline.js"></script>
<script>
  const source = new URLSearchParams(location.search).get("src");
  // Everything from our copy of dist, nothing from Knight Lab's CDN; no web font (Google's).
  const options = {script_path: new URL("/dist/js/", location.href).href, font: null};
  window.timeline = new TL.Timeline("timeline", source, options);
  window.timeline.on("loaded", () => { window.timelineLoaded = true; });
</script></body></html>
"""


def _cache_folder() -> Path:
    lock = hashlib.sha256((PACKAGE / "package-lock.json").read_bytes()).hexdigest()[:16]
    base = os.environ.get("TIMELINEJS_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "story-tracker"
    return Path(base).expanduser() / f"timelinejs-{lock}"


@pytest.fixture(scope="module")
def timelinejs_dist() -> Path:
    """TimelineJS's dist folder, installed by `npm ci` the first time."""
    folder = _cache_folder()
    dist = folder / "node_modules" / "@knight-lab" / "timelinejs" / "dist"
    if (dist / "js" / "timeline.js").is_file():
        return dist
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: it installs Knight Lab's TimelineJS for this check (apt-get install npm)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Installed beside the cache folder, then renamed into place: a run stopped halfway leaves no half-install.
    staging = Path(tempfile.mkdtemp(prefix="installing-", dir=folder.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(PACKAGE / name, staging)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
        if not dist.is_dir():  # else another run got there first
            os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dist


class _Handler(http.server.SimpleHTTPRequestHandler):
    """/page.html, and TimelineJS's files under /dist/."""

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/page.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
        elif self.path.startswith("/dist/"):
            self.path = self.path.removeprefix("/dist")
            super().do_GET()
        else:
            self.send_error(404)

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture(scope="module")
def viewer(timelinejs_dist: Path) -> Iterator[str]:
    """The address of a page showing TimelineJS, on an origin of its own."""
    handler = functools.partial(_Handler, directory=str(timelinejs_dist))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/page.html"
    server.shutdown()
    server.server_close()


def test_timelinejs_shows_every_event_of_the_demo_story_from_our_export(page, live_server, viewer, settings):
    settings.SITE_URL = live_server.url  # the export's media addresses are absolute, on the site
    call_command("load_demo_story", verbosity=0)
    story = Story.objects.get(slug=demo_story.STORY["slug"])
    titles = sorted(Event.objects.published().filter(story=story).values_list("title", flat=True))
    assert len(titles) >= 8
    local = ("http://127.0.0.1:", "http://localhost:", "data:", "blob:")
    elsewhere: list[str] = []

    def only_local(route) -> None:
        if route.request.url.startswith(local):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    source = live_server.url + reverse("events:story_timeline", args=[story.slug])
    page.goto(f"{viewer}?src={source}")
    page.wait_for_function("window.timelineLoaded === true")

    markers = page.locator(".tl-timemarker")
    assert markers.count() == len(titles)
    assert page.locator(".tl-slide").count() == len(titles) + 1  # and the title slide
    shown = page.eval_on_selector_all(
        ".tl-timemarker .tl-headline", "nodes => nodes.map(node => node.textContent.trim())"
    )
    assert sorted(shown) == titles
    assert page.locator(".tl-slide-titleslide h2").first.text_content().strip() == story.title
    assert page.locator(".tl-timeera").count() == 2  # January and February 2022

    # The Moscow talks' slide shows the demo's drawn map, from our site, with its alt text.
    page.evaluate("window.timeline.goToId('macron-putin-talks-in-moscow')")
    picture = page.locator(f'.tl-slide img.tl-media-image[alt="{demo_media.SHUTTLE_MAP_ALT}"]')
    picture.wait_for(state="visible")
    assert picture.get_attribute("src").startswith(live_server.url + "/media/")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    assert page.js_errors == []
    assert elsewhere == []
