"""A worker killed with SIGKILL in the middle of a task: the task was not acknowledged (acks_late),
so once CELERY_VISIBILITY_TIMEOUT passes Redis hands it to another worker, without anyone queuing
it again, and what it owed is done exactly once: the database's records (a delivery unique per
subscriber and period, the overdue flag and its announcement) say what was already done."""

from collections import Counter

import pytest

from .services import wait_for

pytestmark = pytest.mark.faults

FLAGGED = "Flagged overdue by the scheduled check"


def test_a_digest_run_killed_mid_way_comes_back_and_sends_each_digest_once(newsroom):
    subscribers = 30
    newsroom.load(subscribers=subscribers)
    # The server holds the 15th message unanswered: the worker dies waiting for its "250".
    newsroom.mailbox.hold_at = 15
    doomed = newsroom.worker("doomed")
    newsroom.celery().send_task("events.tasks.send_digests")
    wait_for(newsroom.mailbox.holding.is_set, timeout=60, what="the run to reach the 15th message")
    doomed.kill()
    newsroom.worker("survivor")

    wait_for(
        lambda: newsroom.count("SELECT count(*) FROM events_digestdelivery WHERE sent_at IS NOT NULL") == subscribers,
        timeout=90,
        what="the killed run to come back and finish",
    )

    readers = Counter(str(m["To"]) for m in newsroom.mailbox.to("reader"))
    assert len(readers) == subscribers and set(readers.values()) == {1}


def test_an_overdue_check_killed_while_telling_the_editors_comes_back_and_tells_them_once(newsroom):
    overdue = 3
    newsroom.load(overdue=overdue)
    newsroom.mailbox.hold_at = 1
    doomed = newsroom.worker("doomed")
    newsroom.celery().send_task("events.tasks.flag_overdue_expectations")
    wait_for(newsroom.mailbox.holding.is_set, timeout=60, what="the check to write to the editors")
    doomed.kill()
    assert newsroom.count("SELECT count(*) FROM events_expectation WHERE status = 'overdue'") == overdue
    newsroom.worker("survivor")

    wait_for(
        lambda: (
            newsroom.count("SELECT count(*) FROM events_expectation WHERE overdue_announced_at IS NOT NULL") == overdue
        ),
        timeout=90,
        what="the killed check to come back and announce",
    )

    assert len(newsroom.mailbox.to("desk@")) == 1
    flagged = newsroom.count(
        "SELECT count(*) FROM events_historicalexpectation WHERE history_change_reason = %s", FLAGGED
    )
    assert flagged == overdue
