"""Celery tasks: thin shells around services, safe to run twice, taking ids rather than instances."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from . import services
from .models import Expectation

logger = logging.getLogger(__name__)


def _mail_editors_about_overdue(expectations: list[Expectation]) -> None:
    context = {"expectations": expectations, "site_url": settings.SITE_URL}
    send_mail(
        subject=f"{len(expectations)} expectation{'s' if len(expectations) != 1 else ''} now overdue",
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
    announced = services.announce_overdue(send=_mail_editors_about_overdue)
    logger.info("flag_overdue_expectations: flagged %d, announced %d", len(flagged), announced)
    return {"flagged": len(flagged), "announced": announced}
