"""Figures 4, 5 and 6: the overdue job, a digest run, a TimelineJS import. Not tests.

All three run in the database tracker_bench_jobs (made, migrated and kept; its rows are made here by
SQL, which takes seconds where factories would take hours) with Redis from the environment:

4. The overdue job (the Celery task's body, in-process) over N expectations of which 1% have just
   passed their latest date: its time, its queries, and a second run (idempotent: flags nothing).
5. `send_digests` in a real `celery -A tracker worker -c 2` (DIGEST_PARALLEL=2: two shares side by
   side, one per core) for N daily subscribers whose digest is due, delivered to an aiosmtpd sink in
   its own process; the pool processes' resident memory is sampled from /proc and the peak (VmHWM)
   reported, with the SMTP sessions the sink saw (connections reused). Beside it, the sink's own
   ceiling: prebuilt messages of the same size from a bare smtplib client over as many connections.
6. `manage.py import_timeline` of an N-row TimelineJS CSV (scripts/bench-import writes it).

`python -m benchmarks.jobs overdue|fill-overdue|fill-digest N` is the in-process part, run by `run()`.
"""

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import setup
from .report import Figure

DATABASE = "tracker_bench_jobs"
SLUG = "bench-jobs"
# The digests' story: its own, so that the overdue job's million expectations are none of its news.
DIGEST_SLUG = "bench-jobs-digest"
ROOT = setup.ROOT


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- In-process parts (python -m benchmarks.jobs ...) ---------------------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()


def _story_id(cursor, slug: str = SLUG) -> int:
    cursor.execute(
        """INSERT INTO events_story (title, slug, summary, summary_html, status, language, created_at, updated_at)
           VALUES ('Jobs benchmark', %s, '', '', 'developing', 'en-gb', now(), now())
           ON CONFLICT (slug) DO UPDATE SET updated_at = now() RETURNING id""",
        [slug],
    )
    return cursor.fetchone()[0]


def fill_overdue(size: int) -> dict:
    """`size` expectations: 1% pending and just past their latest date, 5% overdue long ago (flagged
    and announced), the rest pending later or cancelled; each expecting one actor, each with its
    creation in history. Kept between runs; the 1% are put back to pending each time."""
    from django.db import connection

    with connection.cursor() as cursor:
        story = _story_id(cursor)
        cursor.execute("SELECT count(*) FROM events_expectation WHERE story_id = %s", [story])
        count = cursor.fetchone()[0]
        # The rows are laid out as the table's storage options (its fillfactor) say only when written
        # after them: remade when those changed since (recorded in the story's summary).
        cursor.execute(
            "SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_class"
            " WHERE oid = 'events_expectation'::regclass"
        )
        layout = f"{size} expectations, table options: {cursor.fetchone()[0]}"
        cursor.execute("SELECT summary FROM events_story WHERE id = %s", [story])
        if count != size or cursor.fetchone()[0] != layout:
            cursor.execute("UPDATE events_story SET summary = %s WHERE id = %s", [layout, story])
            cursor.execute("DELETE FROM events_unannouncedoverdue")
            cursor.execute("DELETE FROM events_historicalexpectation_expected_actors")
            cursor.execute("DELETE FROM events_historicalexpectation")
            cursor.execute("DELETE FROM events_expectation_expected_actors")
            cursor.execute("DELETE FROM events_expectation")
            cursor.execute(
                """INSERT INTO events_actor (name, slug, kind, description, aliases)
                   VALUES ('A minister', 'bench-jobs-minister', 'person', '', '[]')
                   ON CONFLICT (slug) DO NOTHING"""
            )
            cursor.execute(
                """INSERT INTO events_expectation (story_id, title, slug, description, due_on, due_precision,
                       latest_on, status, flagged_overdue_at, overdue_announced_at, reviewed_at, status_reason,
                       created_at, updated_at, version)
                   SELECT %(story)s, 'Expected development ' || g, 'bench-jobs-x' || g, '', due, 'day', due,
                       CASE WHEN g %% 100 = 0 THEN 'pending' WHEN g %% 20 = 1 THEN 'overdue'
                            WHEN g %% 10 = 2 THEN 'cancelled' ELSE 'pending' END,
                       CASE WHEN g %% 20 = 1 THEN now() - interval '30 days' END,
                       CASE WHEN g %% 20 = 1 THEN now() - interval '30 days' END,
                       now(), '', now() - interval '60 days', now() - interval '60 days', 1
                   FROM generate_series(1, %(size)s) g,
                        LATERAL (SELECT CASE WHEN g %% 100 = 0 THEN current_date - 1 - (g %% 7)
                                             WHEN g %% 20 = 1 THEN current_date - 40
                                             ELSE current_date + 1 + (g %% 300) END AS due) d""",
                {"story": story, "size": size},
            )
            cursor.execute(
                """INSERT INTO events_expectation_expected_actors (expectation_id, actor_id)
                   SELECT e.id, a.id FROM events_expectation e, events_actor a WHERE a.slug = 'bench-jobs-minister'"""
            )
            cursor.execute(
                """INSERT INTO events_historicalexpectation (id, story_id, title, slug, description, raised_by_id,
                       place_id, due_on, due_precision, latest_on, status, fulfilled_by_id, flagged_overdue_at,
                       overdue_announced_at, reviewed_at, resolved_at, status_reason, created_at, updated_at,
                       version, history_date, history_change_reason, history_type)
                   SELECT id, story_id, title, slug, description, raised_by_id, place_id, due_on, due_precision,
                       latest_on, status, fulfilled_by_id, flagged_overdue_at, overdue_announced_at, reviewed_at,
                       resolved_at, status_reason, created_at, updated_at, version, created_at, 'Raised', '+'
                   FROM events_expectation"""
            )
            cursor.execute("ANALYZE")
        # Put the 1% back as they were before the job ran, their flag's history gone.
        cursor.execute(
            """DELETE FROM events_historicalexpectation_expected_actors m USING events_historicalexpectation h
               WHERE m.history_id = h.history_id AND h.history_type = '~'"""
        )
        cursor.execute("DELETE FROM events_historicalexpectation WHERE history_type = '~'")
        cursor.execute(
            """UPDATE events_expectation SET status = 'pending', flagged_overdue_at = NULL,
                   overdue_announced_at = NULL, reviewed_at = now(), version = 1
               WHERE slug LIKE 'bench-jobs-x%%' AND latest_on < current_date AND latest_on > current_date - 30"""
        )
        newly = cursor.rowcount
        cursor.execute("DELETE FROM events_unannouncedoverdue")
        # What autovacuum would have done since the last run (it is off on the bench's server): without
        # it each cycle's dead row versions pile up and the figure drifts from run to run.
        for table in (
            "events_expectation",
            "events_historicalexpectation",
            "events_historicalexpectation_expected_actors",
            "events_unannouncedoverdue",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {"expectations": size, "newly_overdue": newly}


def overdue() -> dict:
    """The overdue task's body twice: the first flags and announces, the second finds nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from events import tasks

    runs = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = tasks.flag_overdue_expectations.run()
            elapsed = time.perf_counter() - started
        runs.append({"seconds": elapsed, "queries": len(queries), **result})
    return {"runs": runs}


def fill_digest(size: int) -> dict:
    """`size` confirmed daily subscribers following the story, each with a digest due for the last
    day, in which the story had 8 new events, 2 corrected ones and 1 fulfilled expectation."""
    from django.db import connection

    with connection.cursor() as cursor:
        story = _story_id(cursor, DIGEST_SLUG)
        cursor.execute("SELECT count(*) FROM events_subscriber WHERE email LIKE 'bench-jobs+%%'")
        if cursor.fetchone()[0] != size:
            cursor.execute("DELETE FROM events_digestdelivery")
            cursor.execute("DELETE FROM events_subscriber_stories")
            cursor.execute("DELETE FROM events_subscriber")
            cursor.execute(
                """INSERT INTO events_subscriber (email, token, frequency, language, confirmed_at, created_at)
                   SELECT 'bench-jobs+reader' || g || '@synthetic.example.org', md5(g::text), 'daily', 'en-gb',
                          now() - interval '30 days', now() - interval '30 days'
                   FROM generate_series(1, %s) g""",
                [size],
            )
        cursor.execute("DELETE FROM events_subscriber_stories")
        cursor.execute(
            "INSERT INTO events_subscriber_stories (subscriber_id, story_id) SELECT id, %s FROM events_subscriber",
            [story],
        )
        cursor.execute("DELETE FROM events_digestdelivery")
        cursor.execute("UPDATE events_subscriber SET last_digest_at = now() - interval '1 day 1 minute'")
        cursor.execute("SELECT count(*) FROM events_event WHERE story_id = %s", [story])
        if cursor.fetchone()[0] == 0:
            cursor.execute(
                """INSERT INTO events_event (story_id, title, slug, summary, summary_html, kind, start,
                       start_precision, end_precision, status, external_id, publication, published_at,
                       created_at, updated_at, version)
                   SELECT %(story)s, 'Development ' || g, 'bench-jobs-digest-e' || g,
                          'What happened, in a few lines.', '<p>What happened, in a few lines.</p>', 'statement',
                          now() - g * interval '1 hour', 'exact', 'exact', 'happened', '', 'published',
                          now() - g * interval '1 hour',
                          now() - g * interval '1 hour', now() - g * interval '1 hour', 1
                   FROM generate_series(1, 8) g""",
                {"story": story},
            )
        cursor.execute(
            "UPDATE events_event SET published_at = now() - interval '2 hours', updated_at = now() - interval '2 hours'"
            " WHERE story_id = %s",
            [story],
        )
        cursor.execute("ANALYZE events_subscriber")
    return {"subscribers": size}


# --- Driving them (python -m benchmarks) ----------------------------------------------------------


def _in_process(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [setup.PYTHON, "-m", "benchmarks.jobs", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"benchmarks.jobs {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _prepare(env: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(setup.SERVER_URL, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    setup.manage(env, "migrate", "--no-input")


def overdue_figures(env: dict[str, str], size: int) -> list[Figure]:
    filled = _in_process(env, "fill-overdue", str(size))
    first, second = _in_process(env, "overdue")["runs"]
    newly = filled["newly_overdue"]
    return [
        Figure(
            "4. overdue job",
            f"flag {first['flagged']:,} newly overdue and announce them",
            size,
            first["seconds"],
            "s",
            "< 2 s",
            first["seconds"] < 2 and first["flagged"] == newly,
        ),
        Figure(
            "4. overdue job",
            "its queries (the same for 10 or 200 flagged: tests/test_services.py)",
            size,
            first["queries"],
            "queries",
            "constant",
            None,
        ),
        Figure(
            "4. overdue job",
            f"second run: flags {second['flagged']}, announces {second['announced']}",
            size,
            second["seconds"],
            "s",
            "flags nothing",
            second["flagged"] == 0 and second["announced"] == 0,
        ),
    ]


SINK = """
import sys, time
from aiosmtpd.controller import Controller

class Count:
    messages, sessions, size = 0, set(), 0

    async def handle_DATA(self, server, session, envelope):
        Count.messages += 1
        Count.sessions.add(id(session))
        Count.size += len(envelope.content)
        return "250 OK"

controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
while True:
    print(Count.messages, len(Count.sessions), Count.size, flush=True)
    time.sleep(0.5)
"""


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def _last_line(path: Path) -> list[int]:
    lines = path.read_text(encoding="ascii").split()
    return [int(x) for x in lines[-3:]] if len(lines) >= 3 else [0, 0, 0]


# Worker processes, and shares of the run (DIGEST_PARALLEL): one per core.
DIGEST_PROCESSES = 2

# A bare client of the sink: the same number of prebuilt messages of `size` bytes over `connections`
# connections at once. Prints messages per second.
SINK_CLIENT = """
import smtplib, sys, threading, time
port, count, size, connections = (int(x) for x in sys.argv[1:])
line = b"x" * 76 + b"\\r\\n"
body = b"Subject: ceiling\\r\\nMessage-ID: <ceiling@localhost>\\r\\n\\r\\n" + line * max(1, size // len(line))
def client(n):
    smtp = smtplib.SMTP("127.0.0.1", port)
    for _ in range(n):
        smtp.sendmail("tracker@localhost", ["reader@synthetic.example.org"], body)
    smtp.quit()
threads = [threading.Thread(target=client, args=(count // connections,)) for _ in range(connections)]
started = time.perf_counter()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(count // connections * connections / (time.perf_counter() - started))
"""


def digest_figures(env: dict[str, str], size: int) -> list[Figure]:
    _in_process(env, "fill-digest", str(size))
    port = setup.free_port()
    folder = Path(tempfile.mkdtemp(prefix="bench-digest-"))
    (folder / "sink.py").write_text(SINK, encoding="utf-8")
    sink_out = folder / "sink.log"
    worker_env = {**env, "SMTP_URL": f"smtp://127.0.0.1:{port}", "DIGEST_PARALLEL": str(DIGEST_PROCESSES)}
    with sink_out.open("w") as out:
        sink = subprocess.Popen([setup.PYTHON, str(folder / "sink.py"), str(port)], stdout=out)
    worker = subprocess.Popen(
        [setup.PYTHON, "-m", "celery", "-A", "tracker", "worker", "-c", str(DIGEST_PROCESSES), "--pool", "prefork",
         "--without-gossip", "--without-mingle", "--hostname", f"bench-digest-{os.getpid()}@%h", "-l", "WARNING"],
        cwd=ROOT, env=worker_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        children = _wait_for_children(worker.pid, DIGEST_PROCESSES)
        send = subprocess.run(
            [setup.PYTHON, "-c", "import django; django.setup(); from events.tasks import send_digests; "
             "print(send_digests.delay().id)"],
            cwd=ROOT, env={**worker_env, "DJANGO_SETTINGS_MODULE": "tracker.settings", "PYTHONPATH": str(ROOT)},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        log(f"  send_digests queued ({send.stdout.strip()}), {size:,} subscribers")
        started, samples = None, []
        deadline = time.monotonic() + max(600, size / 20)
        while time.monotonic() < deadline:
            messages, _, _ = _last_line(sink_out)
            if messages and started is None:
                started = time.monotonic()
            samples.append((messages, max(_status(child)["VmRSS"] for child in children)))
            if messages >= size:
                break
            time.sleep(0.25)
        elapsed = time.monotonic() - (started or time.monotonic())
        time.sleep(1)
        messages, sessions, size_bytes = _last_line(sink_out)
        peak = max(_status(child)["VmHWM"] for child in children) / 1024
        early = max((rss for n, rss in samples if n <= size // 10), default=0) / 1024
        _stop(worker)
        each = size_bytes // max(messages, 1)
        client = [setup.PYTHON, "-c", SINK_CLIENT, str(port), "5000", str(each), str(DIGEST_PROCESSES)]
        ceiling = float(subprocess.run(client, capture_output=True, text=True, check=True).stdout)
    finally:
        _stop(worker, sink)
    return [
        Figure(
            "5. digest run",
            f"{messages:,} digests to an aiosmtpd sink ({each / 1024:.0f} KB each), "
            f"{DIGEST_PROCESSES} worker processes",
            size,
            elapsed,
            "s",
            "< 60 s",
            elapsed < 60 and messages >= size,
            note=f"from the first message to the last: {messages / max(elapsed, 0.001):,.0f} digests/s",
        ),
        Figure(
            "5. digest run",
            f"the sink's own ceiling: prebuilt {each / 1024:.0f} KB messages from a bare smtplib client, "
            f"{DIGEST_PROCESSES} connections",
            size,
            size / ceiling,
            "s",
            "< 60 s",
            None,
            note=f"{ceiling:,.0f} messages/s: no sender reaches more through this sink on this machine",
        ),
        Figure(
            "5. digest run",
            f"peak resident memory of a worker process (after the first tenth: {early:.0f} MB)",
            size,
            peak,
            "MB",
            "flat",
            peak < early * 1.2 + 10 if early else None,
        ),
        Figure(
            "5. digest run",
            "SMTP sessions the sink saw (one per share)",
            size,
            sessions,
            "sessions",
            "reused",
            sessions <= DIGEST_PROCESSES,
        ),
    ]


def _stop(*processes: subprocess.Popen) -> None:
    """SIGTERM (a worker finishes its task first), then SIGKILL for what has not ended in 30 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_children(pid: int, count: int) -> list[int]:
    """The worker's pool processes (prefork -c count), where the tasks run."""
    children: list[str] = []
    for _ in range(200):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii").split()
        except OSError:
            children = []
        if len(children) >= count:
            break
        time.sleep(0.1)
    return [int(child) for child in children] or [pid]


def _bench_import():
    loader = importlib.machinery.SourceFileLoader("bench_import", str(ROOT / "scripts" / "bench-import"))
    spec = importlib.util.spec_from_loader("bench_import", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def import_figures(env: dict[str, str], size: int) -> list[Figure]:
    bench_import = _bench_import()
    slug = f"bench-jobs-import-{int(time.time())}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "timeline.csv"
        bench_import.write_csv(path, size)
        started = time.monotonic()
        done = subprocess.run(
            [setup.PYTHON, "manage.py", "import_timeline", "--story", slug, str(path)],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        elapsed = time.monotonic() - started
    try:
        if done.returncode:
            raise RuntimeError(f"import_timeline failed:\n{done.stderr[-2000:]}")
        progress = [line for line in done.stderr.splitlines() if "%" in line]
        return [
            Figure(
                "6. import",
                f"import_timeline of a TimelineJS CSV ({len(progress)} progress lines on stderr)",
                size,
                elapsed,
                "s",
                "< 30 s",
                elapsed < 30,
            )
        ]
    finally:
        setup.manage(env, "shell", "-c", bench_import.CLEANUP.format(slug=slug))


def run(*, quick: bool, env: dict[str, str]) -> list[Figure]:
    """Figures 4, 5 and 6 on tracker_bench_jobs (env gives the Redis to use; the database is ours)."""
    jobs_env = {**setup.environment(DATABASE), "REDIS_URL": env.get("REDIS_URL", setup.REDIS_URL)}
    _prepare(jobs_env)
    figures = []
    for name, measure, size in (
        ("overdue job", overdue_figures, 10_000 if quick else 1_000_000),
        ("digest run", digest_figures, 2_000 if quick else 100_000),
        ("import", import_figures, 5_000 if quick else 100_000),
    ):
        log(f"  {name} at {size:,}")
        try:
            figures += measure(jobs_env, size)
        except Exception as exc:  # one broken figure must not lose the others
            figures.append(Figure(name, f"not measured: {type(exc).__name__}: {exc}"[:300], size, 0, "", met=False))
    return figures


def main() -> None:
    _django()
    part, *rest = sys.argv[1:]
    parts = {"overdue": overdue, "fill-overdue": fill_overdue, "fill-digest": fill_digest}
    print(json.dumps(parts[part](*(int(x) for x in rest))))


if __name__ == "__main__":
    main()
