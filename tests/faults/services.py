"""Real services for the fault tests, each of its own on a spare port in a temporary folder, so a test
may stop and restart them without touching the machine's shared PostgreSQL and Redis: a PostgreSQL
cluster (pg_ctl), a Redis server, an SMTP sink in this process, and the project's processes (gunicorn,
a Celery worker, beat) run as in production against them.
"""

import asyncio
import contextlib
import email
import email.policy
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import psycopg
import redis
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SECRET_KEY = "fault-tests-only-secret-key-not-for-production-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.2) -> object:
    """The first true answer of `condition` within `timeout` seconds; fails the test saying `what`."""
    deadline = time.monotonic() + timeout
    while True:
        answer = condition()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# --- PostgreSQL -----------------------------------------------------------------------------------


class Postgres:
    """A cluster of our own: `pg_ctl initdb` into a temporary folder, served on a spare port.

    PostgreSQL refuses to run as root; as root (CI containers) the cluster belongs to the `postgres`
    account, which Debian's package creates."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: that folder is private to the user running the tests.
        self.folder = Path(tempfile.mkdtemp(prefix="tracker-faults-postgres-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = free_port()
        self.owner = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if self.owner:
            command = ["runuser", "-u", self.owner, "--", *command]
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed: {done.stderr}")

    def init(self) -> None:
        if self.owner:
            account = pwd.getpwnam(self.owner)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            # Throwaway data: durability is not under test, the server going away is.
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.folder}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )

    def start(self) -> None:
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql)

    def query(self, sql: str, params: tuple = (), database: str = "postgres") -> list[tuple]:
        with psycopg.connect(self.url(database)) as conn:
            return conn.execute(sql, params).fetchall()

    def answers(self) -> bool:
        try:
            self.query("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True


# --- Redis ----------------------------------------------------------------------------------------


class Redis:
    """`redis-server --port N --save ''` in a temporary folder: a restart starts it empty, as a Redis
    without persistence (or one whose disk was lost) does."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=log,
            stderr=log,
        )
        log.close()
        wait_for(self.answers, timeout=30, what="redis-server to answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)

    def answers(self) -> bool:
        try:
            with contextlib.closing(self.client()) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False


# --- Mail -----------------------------------------------------------------------------------------


class Mailbox:
    """The messages an SMTP sink accepted. It may take `delay` seconds over each (so a run lasts long
    enough to be interrupted), and hold its `hold_at`th message unanswered until `release` is set: a
    message is kept only once "250" is on its way, as a real server would."""

    def __init__(self, *, delay: float = 0.0, hold_at: int | None = None) -> None:
        self.delay = delay
        self.hold_at = hold_at
        self.url = ""  # the sink's smtp:// address, once it listens
        self.messages: list[EmailMessage] = []
        self.received = 0
        self.holding = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self.received += 1
            hold = self.received == self.hold_at
        if hold:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.1)
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def to(self, address_prefix: str = "") -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if str(m["To"]).startswith(address_prefix)]


class SmtpSink:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.port = free_port()
        self.controller = Controller(mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.mailbox.release.set()
        self.controller.stop(no_assert=True)


# --- The project's processes ----------------------------------------------------------------------


def environment(*, database_url: str, redis_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG off, a key, the public address) but the suite's static files setup
    (tests.settings: served from the finders, no collectstatic manifest in the checkout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_", "PYTEST_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=SECRET_KEY,
        DEBUG="0",
        SITE_URL="http://127.0.0.1:8000",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        VAR_DIR=str(var_dir),
        MAIL_DIR=str(var_dir / "mail"),
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


class Process:
    """A long-running command in its own process group, its output kept in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = folder / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
        )
        log.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def children(self) -> set[int]:
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return {int(pid) for pid in path.read_text().split()} if path.exists() else set()

    def kill(self) -> None:
        """SIGKILL to the whole group, as the kernel's OOM killer or a lost machine would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


class Gunicorn(Process):
    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [str(BIN / "gunicorn"), "tracker.wsgi", "-w", "2", "-b", f"127.0.0.1:{self.port}"]
        super().__init__("gunicorn", [*command, "--timeout", "60", "--no-control-socket"], env, folder)

    def start(self) -> None:
        super().start()
        wait_for(lambda: self.get("/healthz")[0] == 200 or not self.alive(), timeout=60, what="gunicorn")
        assert self.alive(), self.tail()
        # Both workers booted, so the pids compared after a fault are the ones that served before it.
        wait_for(lambda: len(self.children()) == 2, timeout=30, what="gunicorn's two workers")

    def get(self, path: str, timeout: float = 10) -> tuple[int | None, str]:
        """The status and body of a GET, or (None, the reason) when nothing answered."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as error:
            return None, str(error)


class CeleryProcess(Process):
    def __init__(self, name: str, arguments: list[str], env: dict[str, str], folder: Path) -> None:
        super().__init__(name, [str(BIN / "celery"), "-A", "tracker", *arguments], env, folder)


def worker(name: str, env: dict[str, str], folder: Path) -> CeleryProcess:
    """`celery -A tracker worker` with one pool process, so queued tasks wait while it is busy."""
    return CeleryProcess(
        name,
        ["worker", "--concurrency", "1", "--hostname", f"{name}@%h", "--loglevel", "INFO", "--without-gossip"],
        env,
        folder,
    )


def beat(env: dict[str, str], folder: Path) -> CeleryProcess:
    schedule = folder / "beat-schedule"
    return CeleryProcess("beat", ["beat", "--schedule", str(schedule), "--loglevel", "INFO"], env, folder)


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
