"""Sending digests and alerts to subscribers, each exactly once, through crashes, retries and
concurrent runs; and the quiet-story nudge to editors.

A subscriber's periods follow one another without gap or overlap: [last_digest_at, period_end).
A daily or weekly period is whole days or weeks from the last one (so the digest keeps its time of
day); an immediate subscriber's period runs to now (an alert). Every period ends SETTLE before now:
a change is stamped (published_at, updated_at, created_at) a moment before its transaction commits,
and a period must not close over a change that is not visible yet.

The pipeline (`send_due`), batch by batch:

1. Claim, in one transaction: lock due subscribers with SELECT ... FOR UPDATE SKIP LOCKED (so two
   runs never claim the same subscriber at once), and make sure each has a DigestDelivery for
   (subscriber, period_start = last_digest_at). The row is unique per subscriber and period: an
   unsent row left by a crashed run is found again and reused with ITS period_end, so the retry
   sends what the crashed run would have sent. Commit.
2. Collect the batch's digests (events.digests.collect: a fixed number of queries per batch).
3. Deliver each, in its own transaction: lock the delivery row (SKIP LOCKED, still unsent, its
   subscriber still subscribed), mark it sent and move last_digest_at forward to period_end (on
   PostgreSQL all in one statement, a data-modifying CTE), send the message through the run's one
   open mail connection, commit. The marks are made before the message goes but last only through
   that commit: if the send fails, or the address is refused, the transaction rolls back and the
   row is unsent again. An empty period sends nothing: its row is deleted and last_digest_at moves
   forward. So a DigestDelivery row is either sent (sent_at set, a moment before the mail server
   accepted it) or in flight.

A crash (SIGKILL, power loss, the database going away) at each step:
- during the claim: the transaction rolls back; nothing was claimed.
- after the claim, before a delivery's transaction: the row waits unsent; the next run reuses it.
- while a delivery's row is locked, before the mail server accepted the message: the transaction
  rolls back (its marks with it), the lock goes with the connection, the next run sends it.
- after the mail server accepted the message, before the commit: the next run sends it again,
  with the same Message-ID (`digest-<delivery id>`), which mail systems use to drop a duplicate.
  That window, one message wide, is the only one in which anything can be sent twice.
- after the commit: done; a retry finds the subscriber no longer due.
Two workers running at once may claim the same subscribers one after the other (the first commits
its claims before sending); the row lock taken to deliver, SKIP LOCKED and the unsent check make
sure only one of them sends each message.

A run can take a share of the subscribers (`share=(k, n)`: those whose id is k modulo n), so that
n workers send side by side without meeting (`send_digests` queues them: DIGEST_PARALLEL).

A delivery's commit does not wait for its record to reach the disk (PostgreSQL's synchronous_commit
off, for the run's own commits): waiting cost more than everything else a message takes. A crashed
worker loses nothing by it (what PostgreSQL acknowledged stays); a crash of the database server
itself may forget the marks of the last fraction of a second, whose messages the next run sends
again with their same Message-ID.
"""

import contextlib
import datetime
import functools
import logging
import smtplib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, mailers
from django.db import DatabaseError, transaction
from django.db import connection as db_connection
from django.db.models import F, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import digests
from ..desk_selectors.home import quiet_since
from ..models import Correction, DigestDelivery, Event, Expectation, Story, Subscriber
from ..subscriber_mail import SharedBodies, page_link, subscriber_email

logger = logging.getLogger(__name__)

DIGEST, ALERT = "digest", "alert"
Frequency = Subscriber.Frequency
PERIODS = {
    Frequency.DAILY: datetime.timedelta(days=1),
    Frequency.WEEKLY: datetime.timedelta(days=7),
    Frequency.IMMEDIATE: datetime.timedelta(0),
}
FREQUENCIES = {DIGEST: (Frequency.DAILY, Frequency.WEEKLY), ALERT: (Frequency.IMMEDIATE,)}
# Longer than any publishing transaction takes from stamping a change to committing it.
SETTLE = datetime.timedelta(seconds=10)
BATCH_SIZE = 100


@dataclass
class RunReport:
    sent: int = 0
    # Periods with nothing new: nothing sent, the subscriber's period moved on.
    empty: int = 0
    # Sent by another run meanwhile, being sent by it now, or refused by the mail server.
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "empty": self.empty, "skipped": self.skipped}


Share = tuple[int, int]


def send_due(
    *,
    kind: str,
    now: datetime.datetime | None = None,
    batch_size: int = BATCH_SIZE,
    share: Share | None = None,
) -> RunReport:
    """Send every due digest (kind="digest": daily and weekly subscribers) or alert (kind="alert":
    immediate subscribers), or those of one share of the subscribers. Safe to run twice,
    concurrently, or again after a crash."""
    now = now or timezone.now()
    frequencies = FREQUENCIES[kind]
    _prepare(frequencies)
    report = RunReport()
    if kind == ALERT and not _anything_new_for(frequencies, now):
        return report
    after: tuple[datetime.datetime, int] | None = None
    with _mail_connection() as send, _commits_not_waiting_for_the_disk():
        while True:
            claimed, after = claim(
                frequencies=frequencies, kind=kind, now=now, after=after, size=batch_size, share=share
            )
            if not claimed:
                break
            # One rendering per distinct digest of the batch (most subscribers of a story get the same).
            shared = SharedBodies()
            for digest in digests.collect(claimed, now=now).values():
                outcome = deliver(digest, send=send, shared=shared)
                setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _prepare(frequencies: Sequence[str]) -> None:
    """Give a period start to subscribers confirmed without one, and drop the unsent claims of
    those who left (nothing is sent to them, and their rows would wait forever)."""
    Subscriber.objects.confirmed().filter(frequency__in=frequencies, last_digest_at__isnull=True).update(
        last_digest_at=F("confirmed_at")
    )
    DigestDelivery.objects.filter(sent_at__isnull=True).exclude(subscriber__in=Subscriber.objects.confirmed()).delete()


def _due(frequencies: Sequence[str], now: datetime.datetime) -> Q:
    cutoff = now - SETTLE
    due = Q()
    for frequency in frequencies:
        period = PERIODS[frequency]
        ended = Q(last_digest_at__lte=cutoff - period) if period else Q(last_digest_at__lt=cutoff)
        due |= Q(frequency=frequency) & ended
    return due


def _period_end(subscriber: Subscriber, now: datetime.datetime) -> datetime.datetime:
    """Whole periods since the last one (a daily digest keeps its time of day), or now for alerts."""
    cutoff = now - SETTLE
    period = PERIODS[subscriber.frequency]
    if not period:
        return cutoff
    whole = (cutoff - subscriber.last_digest_at) // period
    return subscriber.last_digest_at + whole * period


def _anything_new_for(frequencies: Sequence[str], now: datetime.datetime) -> bool:
    """Whether anything a subscriber could hear of changed since the oldest due period began: the
    minute-by-minute alert pass costs three indexed queries when nothing did."""
    since = Subscriber.objects.confirmed().filter(_due(frequencies, now)).aggregate(m=Min("last_digest_at"))["m"]
    if since is None:
        return False
    return (
        Event.objects.published().filter(updated_at__gte=since).exists()
        or Correction.objects.filter(created_at__gte=since).exists()
        or Expectation.objects.filter(updated_at__gte=since).exists()
    )


@transaction.atomic
def claim(
    *,
    frequencies: Sequence[str],
    kind: str,
    now: datetime.datetime,
    after: tuple[datetime.datetime, int] | None = None,
    size: int = BATCH_SIZE,
    share: Share | None = None,
) -> tuple[list[DigestDelivery], tuple[datetime.datetime, int] | None]:
    """Claim up to `size` due subscribers after `after` (a keyset on last_digest_at, id, so that a
    run never comes back to one it skipped), of `share` when given: their delivery rows, created or
    found again, and the keyset for the next batch. Subscribers locked by another run are left to it."""
    due = Subscriber.objects.confirmed().filter(_due(frequencies, now)).order_by("last_digest_at", "id")
    if share is not None:
        index, count = share
        due = due.alias(share=F("id") % count).filter(share=index)
    if after is not None:
        due = due.filter(Q(last_digest_at__gt=after[0]) | Q(last_digest_at=after[0], id__gt=after[1]))
    subscribers = list(due.select_for_update(skip_locked=True)[:size])
    if not subscribers:
        return [], after
    DigestDelivery.objects.bulk_create(
        [
            DigestDelivery(
                subscriber=s, period_start=s.last_digest_at, period_end=_period_end(s, now), kind=kind, claimed_at=now
            )
            for s in subscribers
        ],
        ignore_conflicts=True,
    )
    wanted = {(s.pk, s.last_digest_at): s for s in subscribers}
    rows = DigestDelivery.objects.filter(
        subscriber_id__in=[s.pk for s in subscribers], period_start__in={s.last_digest_at for s in subscribers}
    )
    claimed = []
    for delivery in rows:
        subscriber = wanted.get((delivery.subscriber_id, delivery.period_start))
        if subscriber is None:
            continue
        if delivery.sent_at is not None:
            # Sent, yet the period did not move on: finish what that run began.
            _move_on(subscriber.pk, delivery.period_end)
            continue
        delivery.subscriber = subscriber
        claimed.append(delivery)
    last = subscribers[-1]
    return claimed, (last.last_digest_at, last.pk)


def _move_on(subscriber_id: int, period_end: datetime.datetime) -> None:
    """The subscriber's next period starts at `period_end`; never moves backwards."""
    Subscriber.objects.filter(pk=subscriber_id, last_digest_at__lt=period_end).update(last_digest_at=period_end)


Send = Callable[[EmailMessage], None]


def deliver(digest: digests.Digest, *, send: Send, shared: SharedBodies | None = None) -> str:
    """Send one claimed digest unless another run has it; "sent", "empty" or "skipped"."""
    with transaction.atomic():
        if digest.is_empty:
            delivery = _lock(digest.delivery.pk)
            if delivery is None:
                return "skipped"
            delivery.delete()
            _move_on(delivery.subscriber_id, delivery.period_end)
            return "empty"
        # Marked sent before the message goes, in the same transaction: the marks last only if the
        # commit after the mail server accepted it comes (a failure or a crash before rolls them back).
        subscriber = _lock_and_mark(digest)
        if subscriber is None:
            return "skipped"
        try:
            # In the subscriber's language, links included (/fr/events/...).
            with translation.override(subscriber.language):
                message = build_message(digest, subscriber, shared=shared)
            send(message)
        except smtplib.SMTPRecipientsRefused as refused:
            # This address, not the server: the others go on; this one is tried again next run.
            # The server's codes, not its answer: that quotes the address.
            transaction.set_rollback(True)
            codes = sorted({str(code) for code, _ in refused.recipients.values()})
            logger.warning(
                "digest %s to subscriber %s refused by the mail server (%s)",
                digest.delivery.pk,
                subscriber.pk,
                ", ".join(codes),
            )
            return "skipped"
    return "sent"


def _lock(delivery_id: int) -> DigestDelivery | None:
    """The delivery row and its subscriber's, locked, if no other run holds them, the row is unsent
    and its subscriber still confirmed and subscribed; else None."""
    return (
        DigestDelivery.objects.select_for_update(skip_locked=True, of=("self", "subscriber"))
        .select_related("subscriber")
        # Subscriber.objects.confirmed(), through the join: a subquery made the planner read them all.
        .filter(
            pk=delivery_id,
            sent_at__isnull=True,
            subscriber__confirmed_at__isnull=False,
            subscriber__unsubscribed_at__isnull=True,
        )
        .first()
    )


def _lock_and_mark(digest: digests.Digest) -> Subscriber | None:
    """As _lock, and mark the row sent and move the subscriber's period on, all in one statement
    on PostgreSQL (a data-modifying CTE: one round trip, not three); the subscriber as it is now,
    or None when the delivery is another run's, already sent, or its subscriber left."""
    delivery_id, sent_at, count = digest.delivery.pk, timezone.now(), digest.item_count
    if db_connection.vendor != "postgresql":
        delivery = _lock(delivery_id)
        if delivery is None:
            return None
        DigestDelivery.objects.filter(pk=delivery.pk).update(sent_at=sent_at, item_count=count)
        _move_on(delivery.subscriber_id, delivery.period_end)
        return delivery.subscriber
    fields = Subscriber._meta.concrete_fields
    with db_connection.cursor() as cursor:
        cursor.execute(_lock_and_mark_sql(), [delivery_id, sent_at, count])
        row = cursor.fetchone()
    if row is None:
        return None
    return Subscriber.from_db(db_connection.alias, [f.attname for f in fields], row)


@functools.cache
def _lock_and_mark_sql() -> str:
    """SKIP LOCKED leaves the rows another run holds to it. The sub-statements of a data-modifying
    CTE all see the statement's snapshot; the UPDATEs touch only the rows `locked` locked."""
    quote = db_connection.ops.quote_name
    columns = [quote(field.column) for field in Subscriber._meta.concrete_fields]
    # Names from the models, quoted; the values go as parameters.
    return f"""
        WITH locked AS (
            SELECT d.id AS delivery_id, d.period_end AS delivery_period_end, {", ".join(f"s.{c}" for c in columns)}
            FROM {quote(DigestDelivery._meta.db_table)} d
            JOIN {quote(Subscriber._meta.db_table)} s ON s.id = d.subscriber_id
            WHERE d.id = %s AND d.sent_at IS NULL AND s.confirmed_at IS NOT NULL AND s.unsubscribed_at IS NULL
            FOR UPDATE OF d, s SKIP LOCKED
        ), marked AS (
            UPDATE {quote(DigestDelivery._meta.db_table)} d SET sent_at = %s, item_count = %s
            FROM locked WHERE d.id = locked.delivery_id
        ), moved AS (
            UPDATE {quote(Subscriber._meta.db_table)} s SET last_digest_at = locked.delivery_period_end
            FROM locked WHERE s.id = locked.id AND s.last_digest_at < locked.delivery_period_end
        )
        SELECT {", ".join(columns)} FROM locked
    """  # noqa: S608


@contextlib.contextmanager
def _commits_not_waiting_for_the_disk() -> Iterator[None]:
    """For the run's commits only, then as before (see the module's docstring for what it risks).
    Set once for the session, not per transaction: each statement is a round trip to the server."""
    if db_connection.vendor != "postgresql":
        yield
        return
    with db_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        # A connection lost meanwhile took the setting with it.
        with contextlib.suppress(DatabaseError), db_connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


@contextlib.contextmanager
def _mail_connection() -> Iterator[Send]:
    """One connection for the whole run, opened only when the first message is to be sent."""
    connection = None

    def send(message: EmailMessage) -> None:
        nonlocal connection
        if connection is None:
            connection = mailers.default
            connection.open()
        connection.send_messages([message])

    try:
        yield send
    finally:
        if connection is not None:
            connection.close()


# --- The message ----------------------------------------------------------------------------------


def subject_for(digest: digests.Digest) -> str:
    delivery = digest.delivery
    if delivery.kind == ALERT and digest.item_count == 1 and digest.new_events.items:
        return _("New: %(title)s") % {"title": digest.new_events.items[0].title}
    count = digest.item_count
    if delivery.kind == ALERT:
        return ngettext("%(count)d new development", "%(count)d new developments", count) % {"count": count}
    if delivery.subscriber.frequency == Frequency.WEEKLY:
        return ngettext("Your weekly digest: %(count)d update", "Your weekly digest: %(count)d updates", count) % {
            "count": count
        }
    return ngettext("Your daily digest: %(count)d update", "Your daily digest: %(count)d updates", count) % {
        "count": count
    }


def _content_key(digest: digests.Digest) -> tuple:
    """What a digest's body shows, but the subscriber's links: its kind, period, sections (their
    items by identity, so the key holds only within one batch, while they live) and language."""
    delivery = digest.delivery
    sections = tuple(
        (tuple(id(item) for item in section.items), section.total)
        for section in (
            digest.new_events,
            digest.updated_events,
            digest.corrections,
            digest.fulfilled,
            digest.overdue,
            digest.coming,
        )
    )
    return (delivery.kind, delivery.period_start, delivery.period_end, sections, translation.get_language())


def build_message(
    digest: digests.Digest, subscriber: Subscriber, *, shared: SharedBodies | None = None
) -> EmailMessage:
    delivery = digest.delivery
    return subscriber_email(
        subscriber,
        subject=subject_for(digest),
        template="digest",
        context={
            "digest": digest,
            "is_alert": delivery.kind == ALERT,
            "period_start": timezone.localtime(delivery.period_start),
            "period_end": timezone.localtime(delivery.period_end),
            "front_page_url": page_link("/"),
        },
        message_id=f"{delivery.kind}-{delivery.pk}",
        shared=shared,
        shared_key=_content_key(digest) if shared is not None else None,
    )


# --- Immediate alerts -----------------------------------------------------------------------------

ALERT_WINDOW_KEY = "events:alert-window"


def schedule_alerts() -> None:
    """After a publication commits: queue one alert run for the batch window, unless one is queued.

    The first publication of a window adds the cache key (atomically: one of several concurrent
    publications wins) and queues send_alerts to run after ALERT_BATCH_SECONDS; the others find the
    key and ride along. The key lives SETTLE less than the countdown, so every publication it
    covered ends before the period of that run ends. A lost or duplicated run is harmless: the
    alert pass is idempotent, and beat runs it every minute as well."""
    from ..tasks import send_alerts

    window = settings.ALERT_BATCH_SECONDS
    settle = int(SETTLE.total_seconds())
    lifetime = max(1, window - settle)
    if cache.add(ALERT_WINDOW_KEY, True, timeout=lifetime):
        send_alerts.apply_async(countdown=max(window, lifetime + settle))


def queue_alerts() -> None:
    """Called inside a publishing transaction: schedule the alerts once it commits. A broker or
    cache failure then must not turn the editor's publication into an error: beat's pass sends."""
    transaction.on_commit(schedule_alerts, robust=True)


# --- The quiet-story nudge ------------------------------------------------------------------------

NUDGE_LIMIT = 200


@transaction.atomic
def nudge_quiet_stories(*, send: Callable[[list[Story]], None], now: datetime.datetime | None = None) -> int:
    """Tell the editors, in one message, about developing stories gone quiet and not yet nudged in
    this quiet spell (since their last development). As with announce_overdue, the rows stay locked
    while `send` runs and are marked only after it returns: a failed send is retried next time."""
    now = now or timezone.now()
    since = quiet_since(now)
    quiet = (
        Story.objects.developing()
        .filter(Q(last_development_at__lt=since) | Q(last_development_at__isnull=True, created_at__lt=since))
        .filter(
            Q(quiet_nudged_at__isnull=True)
            | Q(last_development_at__isnull=False, quiet_nudged_at__lt=F("last_development_at"))
        )
        .order_by(F("last_development_at").asc(nulls_first=True), "id")
        .select_for_update(skip_locked=True)[:NUDGE_LIMIT]
    )
    stories = list(quiet)
    if stories:
        send(stories)
        Story.objects.filter(pk__in=[s.pk for s in stories]).update(quiet_nudged_at=now)
    return len(stories)
