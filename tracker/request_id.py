"""The id that ties a request's log lines to the log lines of the tasks it queued."""

import contextvars
import uuid

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def new_request_id() -> str:
    return uuid.uuid4().hex
