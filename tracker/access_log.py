"""One log line per request: method, path, status and duration, with the request id (the JSON
formatter adds the time, the level and the id).

The middleware is first in MIDDLEWARE, so it times everything below it, answers from the page cache
and the live notice's 304s included; it logs after the request id middleware has set the id. The path
never carries the query string (a reader's filters, an editor's `next`) and a subscriber link's token
is logged as `<token>` (tracker/log_format.py). gunicorn's own access log is left off: this is it.

The duration runs until the response is handed to the server; a streamed body is still being sent.
"""

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .log_format import redacted_path

logger = logging.getLogger("tracker.access")

# Hostile requests send any method and any length of path: a line stays a line.
LONGEST_METHOD = 16
LONGEST_PATH = 2048


class AccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        method = request.method[:LONGEST_METHOD]
        path = redacted_path(request)[:LONGEST_PATH]
        logger.info(
            "%s %s %s",
            method,
            path,
            response.status_code,
            extra={"method": method, "path": path, "status": response.status_code, "duration_ms": duration_ms},
        )
        return response
