"""The JSON lines every process writes (web, worker, beat, commands), with nothing secret in them.

Call sites avoid logging addresses and tokens, but a line can still quote one that is not ours to word:
Django's "Bad Request: <path>" for an expired subscriber link, a mail server's refusal naming the
recipient, a traceback. So the formatter rewrites the finished line: email addresses, signed link
tokens, the values of a URL's token arguments and the SECRET_KEY are replaced, whoever logged them.
"""

import json
import logging
import re

from django.conf import settings
from django.http import HttpRequest
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

# URL arguments that are secrets in themselves (a subscriber's confirm, manage and unsubscribe links).
SECRET_URL_ARGUMENTS = frozenset({"token"})

# Bounded repeats: a hostile 8 KB path must not cost a quadratic scan.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
# django.core.signing's TimestampSigner: base64 payload (a leading "." when compressed), a base62
# timestamp and a 43-character HMAC-SHA256, separated by colons (%3A once quoted in a URL).
SIGNED_VALUE = re.compile(
    r"\.?[A-Za-z0-9_-]{1,256}(?::|%3A)[A-Za-z0-9]{1,16}(?::|%3A)[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"
)


def redacted_path(request: HttpRequest) -> str:
    """The request's path (never its query string), with secret URL arguments replaced by their name."""
    match = getattr(request, "resolver_match", None)
    secrets = {
        str(value): f"<{name}>"
        for name, value in (match.kwargs.items() if match else ())
        if name in SECRET_URL_ARGUMENTS
    }
    return "/".join(secrets.get(segment, segment) for segment in request.path.split("/"))


def redact(text: str, *, also: tuple[str, ...] = ()) -> str:
    for secret in (*also, *_configured_secrets()):
        if secret:
            text = text.replace(secret, "<redacted>")
    text = SIGNED_VALUE.sub("<signed>", text)
    return EMAIL.sub("<email>", text)


def _configured_secrets() -> tuple[str, ...]:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    # As written inside a JSON string, too: a key may hold characters that JSON escapes.
    return tuple(form for key in keys if len(key) >= 8 for form in {key, json.dumps(key)[1:-1]})


def _url_secrets(record: logging.LogRecord) -> tuple[str, ...]:
    """Token arguments of the request a line is about (Django passes it as `extra={"request": ...}`)."""
    match = getattr(getattr(record, "request", None), "resolver_match", None)
    if match is None:
        return ()
    # Short values would garble the line where they happen to occur; a real token is long.
    return tuple(str(v) for name, v in match.kwargs.items() if name in SECRET_URL_ARGUMENTS and len(str(v)) >= 8)


class RedactingJsonFormatter(JsonFormatter):
    """python-json-logger's formatter; the request object Django attaches is left out (its repr holds
    the query string), and the finished line is redacted."""

    def __init__(self, *args, reserved_attrs: list[str] | None = None, **kwargs) -> None:
        reserved = [*(reserved_attrs if reserved_attrs is not None else RESERVED_ATTRS), "request"]
        super().__init__(*args, reserved_attrs=reserved, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), also=_url_secrets(record))
