"""PostgreSQL restarted under the running site and under a digest run: the processes ride it out
(no restart of gunicorn or the worker), and nothing a subscriber is owed is lost or sent twice."""

import threading
import time
import uuid
from collections import Counter

import pytest

from .services import wait_for

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 2


def restart(postgres) -> None:
    postgres.stop("fast")
    time.sleep(OUTAGE_SECONDS)
    postgres.start()


class Readers(threading.Thread):
    """Requests the pages, one after another, until stopped; keeps every answer (or its absence)."""

    def __init__(self, site, paths) -> None:
        super().__init__(daemon=True)
        self.site, self.paths = site, paths
        self.answers: list[tuple[str, int | None]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for path in self.paths():
                self.answers.append((path, self.site.get(path, timeout=15)[0]))


def test_the_site_answers_5xx_at_worst_while_postgresql_restarts_then_serves_again_without_a_restart(newsroom):
    newsroom.load()
    site = newsroom.gunicorn()
    workers = site.children()

    def paths() -> list[str]:
        # A search no cache holds, so the timeline's queries run each time.
        return ["/healthz", f"/stories/{newsroom.story}/?q={uuid.uuid4().hex[:8]}", f"/events/{newsroom.event}/"]

    readers = Readers(site, paths)
    readers.start()
    time.sleep(1)
    restart(newsroom.postgres)
    time.sleep(1)
    readers.done.set()
    readers.join(timeout=60)

    statuses = Counter(status for _, status in readers.answers)
    assert statuses[200] > 0
    assert set(statuses) <= {200, 500, 503}, f"answers besides 200 and 5xx (None: no answer): {statuses}"
    assert 503 in statuses, "no request met the outage: /healthz should have said 503"
    wait_for(lambda: site.get("/healthz")[0] == 200, timeout=30, what="/healthz to be green again")
    # Enough requests that both gunicorn workers, whose connections the restart broke, serve some.
    for path in paths() * 6:
        assert site.get(path)[0] == 200, path
    assert site.alive() and site.children() == workers, "gunicorn or its workers were restarted"


def test_postgresql_restarted_during_a_digest_run_leaves_each_subscriber_exactly_one_digest(newsroom):
    subscribers = 120
    newsroom.load(subscribers=subscribers)
    # Slow enough that the run is still going when the database goes away.
    newsroom.mailbox.delay = 0.03
    worker = newsroom.worker()
    pool = worker.children()
    celery = newsroom.celery()

    run = celery.send_task("events.tasks.send_digests")
    wait_for(lambda: newsroom.mailbox.count() >= subscribers // 3, timeout=120, what="a third of the digests")
    newsroom.postgres.stop("fast")
    assert newsroom.mailbox.count() < subscribers, "the run ended before the database went away"
    time.sleep(OUTAGE_SECONDS)
    newsroom.postgres.start()
    # The task fails on the lost connection and retries itself (events.tasks.RETRYING).
    run.get(timeout=180, propagate=False)
    wait_for(
        lambda: newsroom.count("SELECT count(*) FROM events_digestdelivery WHERE sent_at IS NOT NULL") == subscribers,
        timeout=120,
        what="every digest recorded as sent",
    )

    messages = newsroom.mailbox.to("reader")
    ids_by_reader: dict[str, set[str]] = {}
    for message in messages:
        ids_by_reader.setdefault(str(message["To"]), set()).add(str(message["Message-ID"]))
    assert len(ids_by_reader) == subscribers, "someone got no digest"
    assert all(len(ids) == 1 for ids in ids_by_reader.values()), "someone got two different digests"
    # The one message the server accepted as the connection died may go again, with its Message-ID.
    assert len(messages) - subscribers <= 1
    assert not newsroom.count("SELECT count(*) FROM events_digestdelivery WHERE sent_at IS NULL")
    # The same worker, reconnected: a second run finds nothing due.
    assert celery.send_task("events.tasks.send_digests").get(timeout=60)["sent"] == 0
    assert worker.alive() and worker.children() == pool
    assert newsroom.mailbox.count() == len(messages)
