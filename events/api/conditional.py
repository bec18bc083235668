"""Conditional GETs: every 200 carries an ETag (a hash of its body) and Cache-Control, and a request whose
If-None-Match names the current ETag is answered 304 with no body.

The ETag is taken from the body rather than from timestamps because what a response shows changes with
more than its events' dates (an actor renamed, a correction added): a hash is never stale. It saves
the transfer, not the queries, which each endpoint keeps fixed and small anyway. No Last-Modified for
the same reason: no one date covers everything a response shows.
"""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag

MAX_AGE = 60

IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of a copy you hold: answered 304 with no body while it is current.",
    "schema": {"type": "string"},
}
CACHING_HEADERS = {
    "ETag": {"description": "A hash of the body, for If-None-Match.", "required": True, "schema": {"type": "string"}},
    "Cache-Control": {"description": f"public, max-age={MAX_AGE}", "schema": {"type": "string"}},
}


def conditional_get(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if request.method != "GET" or response.status_code != 200:
            return response
        # Before the 304 is made from it: a 304 repeats the 200's ETag and Cache-Control.
        patch_cache_control(response, public=True, max_age=MAX_AGE)
        if not response.has_header("ETag"):
            set_response_etag(response)
        return get_conditional_response(request, etag=response["ETag"], response=response)

    return wrapper


def document(schema: dict) -> dict:
    """Add If-None-Match and the caching headers to every operation of an OpenAPI document."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("parameters", []).append(IF_NONE_MATCH)
            responses = operation.get("responses", {})
            for status in (200, 304):
                if status in responses:
                    responses[status]["headers"] = CACHING_HEADERS
            if 304 in responses:
                responses[304]["description"] = "Not Modified: the ETag given in If-None-Match is current."
    return schema
