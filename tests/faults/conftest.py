"""Fixtures of the fault tests: one PostgreSQL cluster of their own for the session (migrated once
into a template database, copied for each test), a Redis and an SMTP sink per test, and the
project's processes started against them."""

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from celery import Celery

from . import services

TEMPLATE = "faults_template"
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory) -> Iterator[services.Postgres]:
    server = services.Postgres()
    try:
        server.init()
        server.start()
        server.execute(f"CREATE DATABASE {TEMPLATE}")
        env = services.environment(
            database_url=server.url(TEMPLATE), redis_url="", var_dir=tmp_path_factory.mktemp("faults-migrate")
        )
        services.manage(env, "migrate", "--noinput")
        yield server
    finally:
        if server.is_running():
            server.stop("immediate")
        services.remove(server.folder)


@pytest.fixture
def redis_server(tmp_path) -> Iterator[services.Redis]:
    server = services.Redis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox() -> Iterator[services.Mailbox]:
    box = services.Mailbox()
    sink = services.SmtpSink(box)
    sink.start()
    box.url = sink.url
    yield box
    sink.stop()


@dataclass
class Newsroom:
    """One test's database, loaded with the scenario, and the processes started against it."""

    postgres: services.Postgres
    redis: services.Redis
    mailbox: services.Mailbox
    database: str
    folder: Path
    story: str = ""
    event: str = ""
    processes: list[services.Process] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return services.environment(
            database_url=self.postgres.url(self.database),
            redis_url=self.redis.url,
            var_dir=self.folder / "var",
            SMTP_URL=self.mailbox.url,
            # A killed worker's task comes back after this many seconds (tracker/settings.py).
            CELERY_VISIBILITY_TIMEOUT="5",
            OVERDUE_CHECK_SECONDS="2",
            DIGEST_CHECK_SECONDS="2",
        )

    def load(self, *, subscribers: int = 0, overdue: int = 0) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "tests.faults.scenario", str(subscribers), str(overdue)],
            cwd=services.ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        slugs = json.loads(done.stdout.strip().splitlines()[-1])
        self.story, self.event = slugs["story"], slugs["event"]

    def start(self, process: services.Process) -> services.Process:
        self.processes.append(process)
        process.start()
        return process

    def gunicorn(self) -> services.Gunicorn:
        return self.start(services.Gunicorn(self.env, self.folder))

    def worker(self, name: str = "worker") -> services.CeleryProcess:
        worker = self.start(services.worker(name, self.env, self.folder))
        services.wait_for(
            lambda: self.ping(name) or not worker.alive(), timeout=60, what=f"worker {name} to answer a ping"
        )
        assert worker.alive(), worker.tail()
        return worker

    def beat(self) -> services.CeleryProcess:
        return self.start(services.beat(self.env, self.folder))

    def celery(self) -> Celery:
        """A client of our own Redis, to queue the project's tasks by name and read their results."""
        app = Celery("faults", broker=self.redis.url, backend=self.redis.url, set_as_current=False)
        app.conf.broker_connection_retry_on_startup = True
        return app

    def ping(self, name: str) -> bool:
        with self.celery() as app:
            return any(host.startswith(f"{name}@") for reply in app.control.ping(timeout=1) for host in reply)

    def count(self, sql: str, *params: object) -> int:
        return self.postgres.query(sql, params, database=self.database)[0][0]

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@pytest.fixture
def newsroom(postgres, redis_server, mailbox, tmp_path) -> Iterator[Newsroom]:
    name = f"faults_{next(_databases)}"
    if not postgres.is_running():
        postgres.start()
    postgres.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    room = Newsroom(postgres=postgres, redis=redis_server, mailbox=mailbox, database=name, folder=tmp_path)
    try:
        yield room
    finally:
        room.stop()
        for process in room.processes:
            print(f"--- {process.name} ---\n{process.tail()}")
        if postgres.is_running():
            postgres.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
