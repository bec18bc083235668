"""Figure 1: first events on screen in headless Chromium, ours beside the same HTML as a static file,
and Knight Lab's TimelineJS beside both through the peer harness ../shared/bench/timelinejs/bench.js."""

import hashlib
import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path

from . import setup
from .report import Figure

F1 = "1. first events on screen"
CHROMIUM = "/usr/bin/chromium"
PEER = setup.ROOT.parent / "shared" / "bench" / "timelinejs"
# Records, in the page's own clock (0 = navigation start), when the first event element appears.
FIRST_EVENT = """
(() => {
  const seen = () => {
    if (window.__firstEvent === undefined && document.querySelector('[data-event-id]')) {
      window.__firstEvent = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, {childList: true, subtree: true});
  document.addEventListener('DOMContentLoaded', seen);
})();
"""


def first_events(base: str, sizes: list[int], *, runs: int) -> list[Figure]:
    """Median of `runs` loads, each in a new browser context (nothing cached), ours and the static copy
    taking turns so that both see the same machine."""
    from playwright.sync_api import sync_playwright

    figures = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for size in sizes:
                urls = {"ours": f"{base}/stories/bench-{size}/", "static": f"{base}/static/bench/story-{size}.html"}
                times: dict[str, list[float]] = {"ours": [], "static": []}
                for run in range(runs + 1):  # the first round warms the server and is not counted
                    for name, url in urls.items():
                        elapsed = _load(browser, url)
                        if run:
                            times[name].append(elapsed)
                ours, static = statistics.median(times["ours"]), statistics.median(times["static"])
                ratio = ours / static if static else 0.0
                figures.append(
                    Figure(
                        F1,
                        f"our story page, median of {runs}",
                        size,
                        ours,
                        "ms",
                        "<= 1.5 x static",
                        ratio <= 1.5,
                        f"{ratio:.2f} x the static copy's {static:.0f} ms",
                    )
                )
                figures.append(Figure(F1, f"the same HTML as a static file, median of {runs}", size, static, "ms"))
        finally:
            browser.close()
    return figures


def _load(browser, url: str) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.add_init_script(FIRST_EVENT)
        page = context.new_page()
        page.goto(url, wait_until="commit", timeout=120_000)
        # A function, not an expression: Playwright would eval() an expression, which our CSP refuses.
        page.wait_for_function("() => window.__firstEvent !== undefined", timeout=120_000, polling=10)
        return float(page.evaluate("window.__firstEvent"))
    finally:
        context.close()


def peer_packages(log) -> Path | None:
    """The peer harness's node packages, installed by `npm ci` once into ~/.cache (its folder is read-only)."""
    if not (PEER / "bench.js").is_file():
        log(f"TimelineJS peer: {PEER}/bench.js not found; skipped")
        return None
    if not shutil.which("node") or not shutil.which("npm"):
        log("TimelineJS peer: node and npm are needed (apt-get install nodejs npm); skipped")
        return None
    lock = hashlib.sha256((PEER / "package-lock.json").read_bytes()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "story-tracker"
    folder = base / f"bench-timelinejs-{lock}"
    modules = folder / "node_modules"
    if (modules / "@knight-lab" / "timelinejs" / "package.json").is_file() and (modules / "playwright-core").is_dir():
        return modules
    log(f"TimelineJS peer: npm ci in {folder} (once)")
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PEER / name, folder / name)
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True, text=True)
    if done.returncode:
        log(f"TimelineJS peer: npm ci failed; skipped\n{done.stderr[-1500:]}")
        return None
    return modules


def timelinejs_peer(base: str, sizes: list[int], *, runs: int, log) -> list[Figure]:
    """bench.js's lines for TimelineJS, ours and the static copy (its own: HTML from memory) at each size."""
    modules = peer_packages(log)
    if modules is None:
        return []
    lines = []
    for size in sizes:  # one size at a time: a timeout at 5,000 loses only that size
        command = ["node", str(PEER / "bench.js"), str(size), "--runs", str(runs)]
        command += ["--ours", f"{base}/stories/bench-{{N}}/"]
        done = subprocess.run(
            command, cwd=setup.ROOT, env=dict(os.environ, NODE_PATH=str(modules)), capture_output=True, text=True
        )
        if done.returncode:
            log(f"TimelineJS peer at {size}: bench.js failed\n{done.stderr[-1500:]}")
        lines += [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    by = {(line["system"], line["events"]): line for line in lines}
    figures = []
    names = {"timelinejs": "TimelineJS (peer)", "ours": "our story page", "static-copy": "static copy"}
    for line in lines:
        static = by.get(("static-copy", line["events"]), {}).get("wall_ms")
        note = f"{line['dom_nodes']:,} DOM nodes, {line['heap_mb']} MB heap"
        if line["page_errors"]:
            note += f", {line['page_errors']} page errors"
        if line["system"] != "static-copy" and static:
            note = f"{line['wall_ms'] / static:.1f} x static; " + note
        figures.append(
            Figure(
                F1,
                f"bench.js: {names.get(line['system'], line['system'])}, median of {runs}",
                line["events"],
                float(line["wall_ms"]),
                "ms",
                note=note,
            )
        )
    return figures
