"""Redis restarted, empty, while tasks wait in it. The broker holds no state of its own: what it lost
is redone by beat's next periodic run (overdue flags, digests), because what is owed lives in the
database, and the worker, beat and the site reconnect by themselves."""

from collections import Counter

import pytest

from .services import wait_for

pytestmark = pytest.mark.faults

OVERDUE = 3
FLAGGED = "Flagged overdue by the scheduled check"


def test_work_queued_in_a_redis_that_restarts_empty_is_done_once_by_the_same_processes(newsroom):
    subscribers = 30
    newsroom.load(subscribers=subscribers, overdue=OVERDUE)
    site = newsroom.gunicorn()
    web_workers = site.children()
    # The worker (one pool process) is kept busy by a digest run held at its tenth message, while beat
    # queues the overdue check and more digest runs behind it.
    newsroom.mailbox.hold_at = 10
    worker = newsroom.worker()
    pool = worker.children()
    beat = newsroom.beat()
    wait_for(newsroom.mailbox.holding.is_set, timeout=60, what="beat's digest run to start")
    with newsroom.redis.client() as client:
        wait_for(lambda: client.llen("celery") >= 2, timeout=30, what="beat's runs queued behind it")

    newsroom.redis.stop()
    assert site.get("/healthz")[0] == 503
    # Readers are served all the same, pages rendered afresh without the cache (tracker.cache).
    status, body = site.get(f"/stories/{newsroom.story}/")
    assert status == 200 and "data-event-id" in body
    newsroom.redis.start()
    newsroom.mailbox.release.set()

    wait_for(lambda: site.get("/healthz")[0] == 200, timeout=30, what="/healthz to be green again")
    wait_for(
        lambda: (
            newsroom.count("SELECT count(*) FROM events_expectation WHERE overdue_announced_at IS NOT NULL") == OVERDUE
        ),
        timeout=90,
        what="the overdue expectations flagged and announced",
    )
    wait_for(
        lambda: newsroom.count("SELECT count(*) FROM events_digestdelivery WHERE sent_at IS NOT NULL") == subscribers,
        timeout=90,
        what="every digest sent",
    )
    # Beat's later runs find nothing more to do; the same worker answers a task queued now.
    result = newsroom.celery().send_task("events.tasks.send_digests").get(timeout=60)

    readers = Counter(str(m["To"]) for m in newsroom.mailbox.to("reader"))
    assert len(readers) == subscribers and set(readers.values()) == {1}
    assert len(newsroom.mailbox.to("desk@")) == 1, "the editors were told of the overdue ones once"
    flagged = newsroom.count(
        "SELECT count(*) FROM events_historicalexpectation WHERE history_change_reason = %s", FLAGGED
    )
    assert flagged == OVERDUE
    assert result["sent"] == 0
    assert worker.alive() and worker.children() == pool and beat.alive()
    assert site.alive() and site.children() == web_workers
    page = site.get(f"/stories/{newsroom.story}/")
    assert page[0] == 200 and "Development 0" in page[1]
