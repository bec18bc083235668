"""`python -m benchmarks [--quick] [--sizes 1000,100000,1000000] [--only web|jobs|browser]`: issue 16's figures.

Against gunicorn as in production (not DEBUG) on PostgreSQL and Redis db 9, on databases kept between runs
(benchmarks.setup). Prints one table (benchmarks.report), the machine and the date, then the plans of the
main queries and each figure as N grows; all of it is also written to var/bench/latest.md. Progress goes to
stderr. Benchmarks are not tests: nothing here fails on a timing (the exit status is 0 when it measured).
"""

import argparse
import datetime
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections import defaultdict

from . import setup
from .report import Figure, table

QUICK_SIZES = [100, 1000]
PEER_SIZES = [100, 1000, 5000]
SMALL = "tracker_bench_small"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _terminated(signum, frame):
    raise KeyboardInterrupt  # so that every `finally` stops its gunicorn


def ensure_tools(parts: set[str]) -> list[str]:
    """wrk (installed from Debian when we are root), Chromium, node: what is missing, said once."""
    missing = []
    if "web" in parts and not shutil.which("wrk"):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            log("wrk is missing: apt-get install -y wrk")
            subprocess.run(["apt-get", "install", "-y", "wrk"], stdout=subprocess.DEVNULL, check=False)
        if not shutil.which("wrk"):
            missing.append("wrk (sudo apt-get install wrk): the throughput figures are skipped")
    if "browser" in parts:
        from .browser import CHROMIUM

        if not os.access(CHROMIUM, os.X_OK):
            missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium): figure 1 is skipped")
        if not shutil.which("node"):
            missing.append("node and npm (apt-get install nodejs npm): the TimelineJS peer is skipped")
    return missing


def plan(args) -> list[tuple[str, list[setup.Story], list[int], list[int]]]:
    """(database, its stories, the sizes measured there, the sizes of the TimelineJS peer run there)."""
    small = [setup.Story(f"bench-{n}", n, n // 10) for n in PEER_SIZES]
    if args.quick:
        return [(SMALL, small, QUICK_SIZES, QUICK_SIZES)]
    databases = [(f"tracker_bench_{n}", [setup.Story(f"bench-{n}", n, n // 10)], [n], []) for n in args.sizes]
    return [*databases, (SMALL, small, [], PEER_SIZES)]


def fixed_in_n(figures: list[Figure]) -> list[Figure]:
    """Across the sizes from 1,000 up: a figure "fixed in N" is met when it is the same at every size,
    one "bounded in N" when its largest value is within 10% of its smallest (it does not grow with N)."""
    values = defaultdict(list)
    for f in figures:
        if f.target in ("fixed in N", "bounded in N") and (f.size or 0) >= 1000:
            values[(f.figure, f.what)].append(f.value)
    out = []
    for f in figures:
        seen = values.get((f.figure, f.what), [])
        if len(seen) > 1:
            met = len(set(seen)) == 1 if f.target == "fixed in N" else max(seen) <= 1.1 * min(seen)
            f = Figure(**{**f.__dict__, "met": met})
        out.append(f)
    return out


def explain_section(explains: dict[int, dict[str, dict]]) -> str:
    """The largest size's plans, condensed to their scans; the other sizes' sequential scans, if any."""
    if not explains:
        return ""
    lines = ["## EXPLAIN ANALYZE of the main queries", ""]
    largest = max(explains)
    flagged_any = False
    for size in sorted(explains):
        for label, answer in explains[size].items():
            for number, item in enumerate(answer["plans"], 1):
                if item["seq_scans"]:
                    flagged_any = True
                    lines.append(
                        f"- **Seq Scan on {', '.join(item['seq_scans'])}** at N={size:,}: {label}, query {number}"
                    )
    if not flagged_any:
        lines.append("No sequential scan on events_event or events_participation at any size.")
    lines += ["", f"Plans at N={largest:,} (scan nodes only; full plans in var/bench/explain-{largest}.txt):", ""]
    for label, answer in explains[largest].items():
        lines.append(f"### {label} (HTTP {answer['status']}, {len(answer['plans'])} SELECTs)")
        lines.append("")
        lines.append("```")
        for number, item in enumerate(answer["plans"], 1):
            sql = " ".join(item["sql"].split())
            lines.append(f"[{number}] {item['execution']}: {sql[:150]}{'...' if len(sql) > 150 else ''}")
            scans = [line.strip() for line in item["plan"] if "Scan" in line or "Join" in line or "Loop" in line]
            for scan in scans[:10]:
                lines.append(f"      {scan[:150]}")
            if len(scans) > 10:
                lines.append(f"      ... {len(scans) - 10} more nodes")
        lines.append("```")
        lines.append("")
    return "\n".join(lines)


def write_full_plans(size: int, explains: dict[str, dict]) -> None:
    path = setup.ROOT / "var" / "bench" / f"explain-{size}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for label, answer in explains.items():
            for number, item in enumerate(answer["plans"], 1):
                out.write(f"== {label}, query {number}\n{item['sql']}\n\n" + "\n".join(item["plan"]) + "\n\n")


def flatness(figures: list[Figure]) -> str:
    """Per figure, each measure as N grows: a row per measure, a column per size."""
    lines = ["## Each figure as N grows", ""]
    by_figure: dict[str, list[Figure]] = defaultdict(list)
    for f in figures:
        if f.size is not None:
            by_figure[f.figure].append(f)
    for name, group in by_figure.items():
        sizes = sorted({f.size for f in group})
        if len(sizes) < 2:
            continue
        rows: dict[str, dict[int, str]] = defaultdict(dict)
        for f in group:
            rows[f.what][f.size] = f.shown_value
        lines.append(f"**{name}**")
        lines.append("")
        lines.append("| what | " + " | ".join(f"{s:,}" for s in sizes) + " |")
        lines.append("|---|" + "---:|" * len(sizes))
        for what, values in rows.items():
            lines.append(f"| {what} | " + " | ".join(values.get(s, "") for s in sizes) + " |")
        lines.append("")
    return "\n".join(lines)


def run_jobs(quick: bool, env: dict[str, str]) -> list[Figure]:
    try:
        from . import jobs
    except ImportError as exc:
        return [Figure("4-6. jobs", f"not measured: benchmarks.jobs is missing ({exc})", None, 0, "", met=None)]
    try:
        return list(jobs.run(quick=quick, env=env))
    except Exception as exc:  # a failing job benchmark is a row of the table, not the end of the run
        traceback.print_exc()
        return [Figure("4-6. jobs", f"not measured: {type(exc).__name__}: {exc}"[:200], None, 0, "", met=False)]


def _last_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else ""


def failed(figure: str, size: int | None, exc: Exception) -> Figure:
    traceback.print_exc()
    return Figure(figure, f"not measured: {type(exc).__name__}: {_last_line(exc)[:160]}", size, 0, "", met=False)


def measure(database, env, sizes, peer, parts, quick, figures, notes, explains) -> None:
    """Figures 1, 2, 3 and 7 at each size of one database, and the TimelineJS peer where it runs."""
    from . import browser, web

    have_wrk = bool(shutil.which("wrk"))
    have_chromium = os.access(browser.CHROMIUM, os.X_OK)
    with setup.serving(env) as server:  # whitenoise finds files when it starts: copies first
        for size in sizes:
            web.write_static_copy(web.Client(server.base), size)
    with setup.serving(env) as server:
        log(f"{database}: gunicorn at {server.base}")
        if "browser" in parts and have_chromium and sizes:
            log(f"  figure 1 at {', '.join(map(str, sizes))}")
            try:
                # 15 loads each: one load's time moves by a factor of two on this VM (layout, the
                # collector), and a median of 5 put the same page at 0.7x or 1.9x the static copy.
                figures += browser.first_events(server.base, sizes, runs=3 if quick else 15)
            except Exception as exc:
                figures.append(failed(browser.F1, sizes[0], exc))
        if "web" in parts and have_wrk:
            for size in sizes:
                log(f"  figures 2, 3, 7 at {size:,}")
                part = time.monotonic()
                try:
                    measured = web.run(server, env, database, size, quick=quick)
                except Exception as exc:
                    figures.append(failed(web.F2, size, exc))
                    continue
                log(f"    ({time.monotonic() - part:.0f} s)")
                figures += measured.figures
                notes += measured.notes
                explains[size] = measured.explains
                write_full_plans(size, measured.explains)
        if "browser" in parts and have_chromium and peer:
            log(f"  TimelineJS peer at {', '.join(map(str, peer))}")
            figures += browser.timelinejs_peer(server.base, peer, runs=1 if quick else 3, log=log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Sizes 100 and 1,000 only, a few seconds each.")
    parser.add_argument(
        "--sizes",
        type=lambda value: [int(n) for n in value.split(",")],
        default=[1000, 100_000, 1_000_000],
        help="Events per story, comma-separated (default 1000,100000,1000000; ignored with --quick).",
    )
    parser.add_argument("--only", choices=["web", "jobs", "browser"], help="Run one part only.")
    args = parser.parse_args(argv)
    parts = {args.only} if args.only else {"web", "jobs", "browser"}
    signal.signal(signal.SIGTERM, _terminated)

    started = datetime.datetime.now(datetime.UTC)
    clock = time.monotonic()
    notes = [f"missing: {m}" for m in ensure_tools(parts)]
    for note in notes:
        log(note)
    figures: list[Figure] = []
    explains: dict[int, dict[str, dict]] = {}
    last_env: dict[str, str] = {}

    try:
        if parts & {"web", "browser"}:
            log("collectstatic --noinput")
            setup.manage(setup.environment(SMALL), "collectstatic", "--noinput")
        for database, stories, sizes, peer in plan(args):
            try:
                env = setup.ensure_database(database, stories, log)
                last_env = env
                if parts & {"web", "browser"}:
                    measure(database, env, sizes, peer, parts, args.quick, figures, notes, explains)
            except Exception as exc:  # the app is changing under us: say so and go on with the next size
                figures.append(failed(f"database {database}", (sizes or peer)[0], exc))
        if "jobs" in parts:
            log("figures 4, 5, 6 (benchmarks.jobs)")
            part = time.monotonic()
            figures += run_jobs(args.quick, last_env)
            log(f"    ({time.monotonic() - part:.0f} s)")
    except Exception as exc:
        figures.append(failed("the run", None, exc))
    except KeyboardInterrupt:
        log("interrupted: gunicorn stopped; printing what was measured")
        notes.append("interrupted before the end")

    figures = fixed_in_n(figures)
    elapsed = time.monotonic() - clock
    output = [
        table(figures, started=started),
        "",
        f"{'Quick run' if args.quick else 'Run'} took {elapsed / 60:.1f} min"
        + " (the databases are kept between runs; making them is not counted in the figures).",
    ]
    if notes:
        output += ["", "Notes:", "", *[f"- {note}" for note in notes]]
    output += ["", explain_section(explains), flatness(figures)]
    text = "\n".join(output).rstrip() + "\n"
    print(text)
    latest = setup.ROOT / "var" / "bench" / "latest.md"
    latest.parent.mkdir(parents=True, exist_ok=True)
    latest.write_text(text, encoding="utf-8")
    log(f"written to {latest.relative_to(setup.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
