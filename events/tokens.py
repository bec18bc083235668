"""Signed links for subscribers, who have no account and no password.

A token names the subscriber and the purpose (confirm, manage, unsubscribe), carries the subscriber's
secret key at the time it was made (`Subscriber.token`), and is signed with a timestamp. It is refused
when tampered with, older than its purpose allows, made for another purpose, or revoked: rotating
the subscriber's key (`revoke_links`) invalidates every link sent before.
"""

from django.core import signing
from django.utils.translation import gettext as _

from .models import Subscriber, _new_token

# How long a link works. A confirmation is meant to be followed soon; the links in each email must
# keep working while the subscriber may still open that email.
MAX_AGE = {
    "confirm": 60 * 60 * 24 * 7,
    "manage": 60 * 60 * 24 * 365,
    "unsubscribe": 60 * 60 * 24 * 365,
}


class TokenError(Exception):
    """A link that cannot be honoured; the message says why, for the page that answers it."""


def make_token(subscriber: Subscriber, purpose: str) -> str:
    if purpose not in MAX_AGE:
        raise ValueError(f"Unknown purpose {purpose!r}")
    return signing.TimestampSigner(salt=f"subscriber-{purpose}").sign_object(
        {"id": subscriber.pk, "key": subscriber.token[:16]}
    )


def read_token(value: str, purpose: str) -> Subscriber:
    """The subscriber a link was made for. Raises TokenError for any link that is not good now."""
    signer = signing.TimestampSigner(salt=f"subscriber-{purpose}")
    try:
        data = signer.unsign_object(value, max_age=MAX_AGE[purpose])
    except signing.SignatureExpired:
        raise TokenError(_("This link has expired. Ask for a new one below.")) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise TokenError(_("This link is not valid: it may have been cut short or changed.")) from None
    if not isinstance(data, dict):
        raise TokenError(_("This link is not valid: it may have been cut short or changed."))
    subscriber = Subscriber.objects.filter(pk=data.get("id")).first()
    if subscriber is None or subscriber.token[:16] != data.get("key"):
        raise TokenError(_("This link is no longer valid: a newer one has been sent, or it was withdrawn."))
    return subscriber


def revoke_links(subscriber: Subscriber) -> None:
    """Every link sent to this subscriber so far stops working."""
    subscriber.token = _new_token()
    subscriber.save(update_fields=["token"])
