"""Celery tasks: thin shells around services, safe to run twice, taking ids rather than instances."""

import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import InterfaceError, OperationalError
from django.template.loader import render_to_string
from django.utils.translation import ngettext

from . import services
from .models import Story
from .services import digests as digest_services
from .services import media as media_services
from .services.expectations import OVERDUE_LISTED, OverdueAnnouncement

logger = logging.getLogger(__name__)


def _mail_editors_about_overdue(announcement: OverdueAnnouncement) -> None:
    """One message: the first OVERDUE_LISTED expectations newly overdue, and how many more."""
    count = announcement.count
    context = {"expectations": announcement.listed, "more": announcement.more, "site_url": settings.SITE_URL}
    send_mail(
        subject=ngettext("%(count)d expectation now overdue", "%(count)d expectations now overdue", count)
        % {"count": count},
        message=render_to_string("emails/overdue_flagged.txt", context),
        from_email=None,
        recipient_list=settings.EDITORS_EMAIL,
    )


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def flag_overdue_expectations() -> dict[str, int]:
    """Flag what has become overdue, then tell the editors in one message per run.

    Running it twice changes nothing the second time. The announcement is a separate step with its
    own record, so a failed send is retried and a crash between the two steps loses nothing.
    """
    flagged = services.flag_overdue_expectations()
    announced = services.announce_overdue(send=_mail_editors_about_overdue, listed=OVERDUE_LISTED)
    logger.info("flag_overdue_expectations: flagged %d, announced %d", len(flagged), announced)
    return {"flagged": len(flagged), "announced": announced}


# The mail server or the database away for a moment: try again later, backing off (1 s, 2 s, 4 s ...
# up to ten minutes). Whatever was sent before the failure is recorded and is not sent again.
TRANSIENT = (SMTPException, OSError, OperationalError, InterfaceError)
RETRYING = {
    "acks_late": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 10,
}


@shared_task(**RETRYING)
def send_digests(share: list[int] | None = None) -> dict[str, int]:
    """Send the daily and weekly digests that are due; beat runs it every DIGEST_CHECK_SECONDS.

    With DIGEST_PARALLEL = n > 1, the run beat starts queues n runs instead, each sending the
    digests of one share of the subscribers (share = [k, n]), for n worker processes side by side.
    Each share retries on its own; a share run twice meanwhile is harmless, as every run is."""
    parallel = settings.DIGEST_PARALLEL
    if share is None and parallel > 1:
        for index in range(parallel):
            send_digests.delay(share=[index, parallel])
        logger.info("send_digests: queued %d shares", parallel)
        return {"shares": parallel}
    report = digest_services.send_due(kind=digest_services.DIGEST, share=tuple(share) if share else None).as_dict()
    logger.info("send_digests: sent %(sent)d, empty %(empty)d, skipped %(skipped)d", report)
    return report


@shared_task(**RETRYING)
def send_alerts() -> dict[str, int]:
    """Send immediate subscribers what is new since their last alert. Queued after a publication,
    once per batch window; beat runs it every minute too, in case a queued run was lost."""
    report = digest_services.send_due(kind=digest_services.ALERT).as_dict()
    logger.info("send_alerts: sent %(sent)d, empty %(empty)d, skipped %(skipped)d", report)
    return report


def _mail_editors_about_quiet_stories(stories: list[Story]) -> None:
    context = {"stories": stories, "site_url": settings.SITE_URL, "quiet_days": settings.QUIET_STORY_DAYS}
    send_mail(
        subject=ngettext("%(count)d story has gone quiet", "%(count)d stories have gone quiet", len(stories))
        % {"count": len(stories)},
        message=render_to_string("emails/quiet_stories.txt", context),
        from_email=None,
        recipient_list=settings.EDITORS_EMAIL,
    )


@shared_task(**RETRYING)
def nudge_quiet_stories() -> dict[str, int]:
    """Tell the editors, in one message, which developing stories have gone quiet (once a spell)."""
    nudged = digest_services.nudge_quiet_stories(send=_mail_editors_about_quiet_stories)
    logger.info("nudge_quiet_stories: nudged %d", nudged)
    return {"nudged": nudged}


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def delete_abandoned_uploads() -> int:
    """Uploads no form ever saved, once they can no longer be saved: deleting twice deletes nothing more."""
    deleted = media_services.delete_abandoned_uploads()
    logger.info("delete_abandoned_uploads: deleted %d", deleted)
    return deleted
