"""What the benchmarks run against: their PostgreSQL databases, kept between runs, and gunicorn as in production.

Each database holds synthetic stories made by `manage.py generate_story` (a million events take minutes),
so it is made once and remade only when it is missing, its stories are not the size asked for, or a
migration applied to it was edited or removed since (each file's hash is kept in var/bench/databases.json).
`migrate` runs every time: new migrations apply to the kept data, as in production, followed by ANALYZE.
"""

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STATE = ROOT / "var" / "bench" / "databases.json"
STATIC_ROOT = ROOT / "staticfiles"  # settings.STATIC_ROOT, where whitenoise finds the static copies
# The PostgreSQL server (its maintenance database) and the Redis database the benchmarks use.
SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
SECRET_KEY = "benchmark-only-secret-key-not-for-production-use-0123456789"


@dataclass(frozen=True)
class Story:
    slug: str
    events: int
    expectations: int


def database_url(name: str) -> str:
    return SERVER_URL.rsplit("/", 1)[0] + "/" + name


def environment(database: str) -> dict[str, str]:
    """The environment of manage.py and gunicorn for one database: production settings, not DEBUG."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DATABASE_URL=database_url(database),
        REDIS_URL=REDIS_URL,
        SECRET_KEY=SECRET_KEY,
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="http://127.0.0.1:8000",
        # The bench logs in many times from one address; a lockout would stop figure 7, not measure it.
        AXES_FAILURE_LIMIT="1000",
    )
    return env


def manage(env: dict[str, str], *args: str, quiet: bool = True) -> str:
    """Runs manage.py, returning its stdout; its stderr (progress bars) goes to the terminal unless quiet."""
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if quiet else None,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr or ''}")
    return done.stdout


def migrations() -> dict[str, str]:
    """Each migration file and a hash of its text."""
    return {
        str(path.relative_to(ROOT)): hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        for path in sorted(ROOT.glob("*/migrations/[0-9]*.py"))
    }


def _changed(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """Migrations applied when the database was made that are gone or edited since. New ones are not
    listed: `migrate` applies them to the data as it would in production."""
    return [path for path, digest in recorded.items() if current.get(path) != digest]


def _load_state() -> dict:
    try:
        return json.loads(STATE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_state(state: dict) -> None:
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _exists(name: str) -> bool:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _event_counts(name: str) -> dict[str, int]:
    try:
        with psycopg.connect(database_url(name)) as conn:
            rows = conn.execute(
                "SELECT s.slug, (SELECT count(*) FROM events_event e WHERE e.story_id = s.id) FROM events_story s"
            ).fetchall()
    except psycopg.Error:
        return {}
    return dict(rows)


def _recreate(name: str) -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def ensure_database(name: str, stories: list[Story], log) -> dict[str, str]:
    """Makes `name` hold `stories` (remaking it only when needed), migrates it; returns its environment."""
    env = environment(name)
    state = _load_state()
    current = migrations()
    recorded = state.get(name, {})
    reason = ""
    if not _exists(name):
        reason = "missing"
    elif not isinstance(recorded.get("migrations"), dict):
        reason = "not made by this benchmark"
    elif changed := _changed(recorded["migrations"], current):
        reason = f"migrations changed since it was made ({', '.join(changed)})"
    else:
        counts = _event_counts(name)
        wrong = [s.slug for s in stories if counts.get(s.slug) != s.events]
        if wrong:
            reason = f"{', '.join(wrong)} not the size asked for"
    if reason:
        log(f"database {name}: {reason}; making it")
        _recreate(name)
        state.pop(name, None)
        _save_state(state)
    applied = manage(env, "migrate", "--noinput")
    if reason:
        for story in stories:
            started = time.monotonic()
            log(f"  generate_story --slug {story.slug} --events {story.events:,} --expectations {story.expectations:,}")
            manage(
                env,
                "generate_story",
                "--slug",
                story.slug,
                "--events",
                str(story.events),
                "--expectations",
                str(story.expectations),
                quiet=False,
            )
            log(f"  ({time.monotonic() - started:.0f} s)")
    elif "Applying " in applied:
        # New migrations ran on the kept data (new indexes, columns): the planner needs their statistics.
        log(f"database {name}: new migrations applied; ANALYZE")
        with psycopg.connect(database_url(name), autocommit=True) as conn:
            conn.execute("ANALYZE")
    state = _load_state()
    state[name] = {
        "migrations": current,
        "stories": {s.slug: s.events for s in stories},
        "made": recorded.get("made") if not reason else time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    _save_state(state)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`gunicorn tracker.wsgi -w 2` on a free port, as in production; stopped by stop() (or the with block)."""

    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / "var" / "bench" / "gunicorn.log"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "tracker.wsgi",
                "-w",
                str(self.workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "--no-control-socket",  # the default path is shared by every gunicorn of this user
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,  # its own process group, so stop() ends the workers too
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def __enter__(self) -> "Gunicorn":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def serving(env: dict[str, str]) -> Iterator[Gunicorn]:
    server = Gunicorn(env)
    try:
        server.start()
        yield server
    finally:
        server.stop()
