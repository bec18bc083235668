"""Celery tasks through a real worker process on Redis, on the test database."""

import email
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from events import tasks
from events.models import Expectation
from tests.factories import ExpectationFactory
from tracker.celery import app

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def worker(transactional_db, mail_dir: Path):
    """A real `celery worker` in its own process, on the suite's Redis and the test database."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "MAIL_DIR": str(mail_dir),
        "EDITORS_EMAIL": "desk@example.org",
    }
    app.control.purge()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tracker",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--hostname",
            f"test-worker-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{process.stdout.read()}")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_overdue_job_runs_in_a_worker_flags_once_and_tells_the_editors_once(worker, mail_dir):
    late = ExpectationFactory(title="Leaders' Normandy-format summit", due_on=timezone.localdate().replace(year=2022))

    first = tasks.flag_overdue_expectations.delay().get(timeout=60)
    second = tasks.flag_overdue_expectations.delay().get(timeout=60)

    assert first == {"flagged": 1, "announced": 1}
    assert second == {"flagged": 0, "announced": 0}
    late.refresh_from_db()
    assert late.status == Expectation.Status.OVERDUE
    assert late.flagged_overdue_at is not None and late.overdue_announced_at is not None
    messages = sorted(mail_dir.glob("*.eml"))
    assert len(messages) == 1
    message = email.message_from_bytes(messages[0].read_bytes())
    assert message["To"] == "desk@example.org"
    assert message["Subject"] == "1 expectation now overdue"
    assert "Leaders' Normandy-format summit" in message.get_payload(decode=True).decode()
